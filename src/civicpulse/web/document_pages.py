"""The library of official documents for staff: ``/documents`` lists them and, for admins and
analysts, takes an upload (multipart, CSRF; a refused upload shows its reason in the form with the
fields as typed); ``/documents/{id}`` shows a document's metadata and its passages, one anchor each
(``#passage-{id}``, where the ``/ask`` page links). Adding goes through ``knowledge.documents``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from civicpulse.api.deps import OptionalUser, ReadSession, client_address
from civicpulse.api.routers.documents import read_upload
from civicpulse.errors import CivicPulseError, Forbidden, NotFound, Unprocessable
from civicpulse.identity import ANALYST_ROLES, Principal
from civicpulse.knowledge.documents import MAX_DOCUMENT_BYTES, add_document
from civicpulse.knowledge.parsing_metadata import DOCUMENT_TYPES, LANGUAGES, read_meta, type_label
from civicpulse.store import documents as stored
from civicpulse.web.csrf import CsrfProtected
from civicpulse.web.i18n import translator
from civicpulse.web.inbox_pages import MAX_ID, sign_in_first
from civicpulse.web.render import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FIELDS = (
    "title",
    "issuer",
    "number",
    "type",
    "date",
    "effective",
    "expires",
    "url",
    "language",
    "supersedes",
)
# the metadata model's field names as the form names them
_FORM_NAMES = {"doc_type": "type", "issued_on": "date", "effective_on": "effective", "expires_on": "expires"}
FormText = Annotated[str, Form()]


def _library_page(
    request: Request,
    session: Session,
    user: Principal,
    *,
    offset: int = 0,
    values: dict[str, str] | None = None,
    error: str | None = None,
    invalid: set[str] | None = None,
    status_code: int = 200,
) -> Response:
    rows = stored.list_documents(session, limit=PAGE_SIZE, offset=offset)
    total = stored.count_documents(session)
    context: dict[str, Any] = {
        "documents": rows,
        "passage_counts": stored.passage_counts(session, (row.id for row in rows)),
        "total": total,
        "offset": offset,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
        "page_size": PAGE_SIZE,
        "type_label": type_label,
        "types": list(DOCUMENT_TYPES),
        "doc_languages": LANGUAGES,
        "values": values or dict.fromkeys(FIELDS, ""),
        "may_add": user.role in ANALYST_ROLES,
        "max_mb": round(MAX_DOCUMENT_BYTES / 1_000_000, 1),
        "error": error,
        "invalid": invalid or set(),
        "active": "documents",
    }
    return render(request, "documents.html", context, status_code=status_code)


@router.get("/documents")
def library(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> Response:
    """The stored documents, newest first, and the upload form for admins and analysts."""
    if user is None:
        return sign_in_first(request)
    return _library_page(request, session, user, offset=offset)


def invalid_fields(exc: CivicPulseError) -> set[str]:
    """The form fields a refusal names."""
    fields = exc.details.get("fields", []) if isinstance(exc.details, dict) else []
    names = {str(f.get("field", "")) for f in fields if isinstance(f, dict)}
    return {_FORM_NAMES.get(name, name) for name in names} & {*FIELDS, "file"}


@router.post("/documents", dependencies=[CsrfProtected])
def upload(
    request: Request,
    user: OptionalUser,
    file: Annotated[UploadFile | None, File()] = None,
    title: FormText = "",
    issuer: FormText = "",
    number: FormText = "",
    type: FormText = "",
    date: FormText = "",
    effective: FormText = "",
    expires: FormText = "",
    url: FormText = "",
    language: FormText = "",
    supersedes: FormText = "",
) -> Response:
    """Add the uploaded document with its metadata; to its page, or the form again with the reason."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    if user.role not in ANALYST_ROLES:
        raise Forbidden(t("error.403"))
    ctx = request.app.state.ctx
    values = dict(
        zip(
            FIELDS,
            (title, issuer, number, type, date, effective, expires, url, language, supersedes),
            strict=True,
        )
    )
    meta_values = {
        "title": title,
        "issuer": issuer,
        "number": number,
        "doc_type": type,
        "issued_on": date,
        "effective_on": effective,
        "expires_on": expires,
        "url": url,
        "language": language,
        "supersedes": supersedes,
    }
    try:
        meta = read_meta(meta_values)
        if file is None or not file.filename:
            raise Unprocessable(t("documents.no_file"), details={"fields": [{"field": "file"}]})
        data = read_upload(file)
        with ctx.db.write() as session:
            added = add_document(
                session,
                data,
                meta,
                actor=user.email,
                filename=file.filename,
                content_type=file.content_type,
                client=client_address(request),
            )
            document_id = added.document.id
    except CivicPulseError as exc:
        request.state.audited = False
        with ctx.db.read() as session:
            return _library_page(
                request,
                session,
                user,
                values=values,
                error=t("documents.refused", reason=exc.message),
                invalid=invalid_fields(exc) or {"file"},
                status_code=exc.status,
            )
    request.state.audited = True
    return RedirectResponse(f"/documents/{document_id}", status_code=303)


@router.get("/documents/{document_id}")
def document_page(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    document_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """A document's metadata and its passages, each with its article path and an anchor."""
    if user is None:
        return sign_in_first(request)
    row = stored.get_document(session, document_id)
    if row is None:
        raise NotFound(translator(request)("documents.unknown", id=document_id))
    context = {
        "document": row,
        "passages": stored.passages_of(session, document_id),
        "type_label": type_label,
        "active": "documents",
    }
    return render(request, "documents_detail.html", context)
