"""REST: official documents. Admins and analysts add them (multipart: ``file`` plus metadata); every
signed-in user reads them with their passages. Also the process's library (the passage index)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile

from civicpulse.api.context import AppContext
from civicpulse.api.deps import Analyst, Ctx, CurrentUser, ReadSession, client_address
from civicpulse.domain import Strict
from civicpulse.errors import NotFound, PayloadTooLarge, Unprocessable
from civicpulse.knowledge.documents import MAX_DOCUMENT_BYTES, add_document
from civicpulse.knowledge.library import Library
from civicpulse.knowledge.parsing_metadata import read_meta
from civicpulse.store import documents as stored
from civicpulse.store.tables import DocumentRow, PassageRow

router = APIRouter(tags=["documents"])

RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
_library_lock = threading.Lock()


def library_of(ctx: AppContext, state: Any) -> Library:
    """The process's library over the stored passages, made at first use with the configured embedder."""
    with _library_lock:
        library = getattr(state, "library", None)
        if library is None:
            from civicpulse.analysis.embed import embedder_from_settings

            library = Library(embedder_from_settings(ctx.settings))
            state.library = library
        return library


class AddedOut(Strict):
    """A stored document: its id and how many passages it was cut into."""

    id: int
    passages: int


class DocumentOut(Strict):
    """An official document's metadata."""

    id: int
    title: str
    issuer: str | None
    number: str | None
    type: str
    issued_on: dt.date | None
    effective_on: dt.date | None
    expires_on: dt.date | None
    url: str | None
    language: str
    source_format: str
    filename: str | None
    supersedes: int | None
    superseded_by: int | None
    passages: int
    created_at: dt.datetime


class PassageOut(Strict):
    """A passage: its place in the document's structure and ``text[start:end]`` of the document."""

    id: int
    position: int
    path: str
    start: int
    end: int
    text: str
    superseded: bool


class DocumentDetailOut(DocumentOut):
    """A document with its full text and its passages in reading order."""

    text: str
    passages: list[PassageOut]  # type: ignore[assignment]


def document_out(row: DocumentRow, passages: int) -> DocumentOut:
    """A stored document as the API shows it."""
    return DocumentOut(
        id=row.id,
        title=row.title,
        issuer=row.issuer,
        number=row.number,
        type=row.doc_type,
        issued_on=row.issued_on,
        effective_on=row.effective_on,
        expires_on=row.expires_on,
        url=row.url,
        language=row.language,
        source_format=row.source_format,
        filename=row.filename,
        supersedes=row.supersedes,
        superseded_by=row.superseded_by,
        passages=passages,
        created_at=row.created_at,
    )


def passage_out(row: PassageRow) -> PassageOut:
    """A stored passage as the API shows it."""
    return PassageOut(
        id=row.id,
        position=row.position,
        path=row.path,
        start=row.start,
        end=row.end,
        text=row.text,
        superseded=row.superseded,
    )


def read_upload(file: UploadFile | None) -> bytes:
    """The uploaded file's bytes, at most ``MAX_DOCUMENT_BYTES``."""
    if file is None or not hasattr(file, "file"):
        raise Unprocessable(
            "send the document as the multipart field 'file'",
            details={"fields": [{"field": "file", "message": "required"}]},
        )
    data = file.file.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
    return data


@router.post("/api/v1/documents", status_code=201, response_model=AddedOut)
def create_document(
    request: Request,
    ctx: Ctx,
    user: Analyst,
    file: Annotated[UploadFile, File(description="PDF, DOCX, HTML or plain text (UTF-8).")],
    title: Annotated[str | None, Form()] = None,
    issuer: Annotated[str | None, Form()] = None,
    number: Annotated[str | None, Form(description="e.g. 15/2024/NĐ-CP")] = None,
    type: Annotated[str | None, Form(description="Nghị định, Thông tư, Quyết định, FAQ ...")] = None,
    date: Annotated[str | None, Form(description="Date issued: 2024-07-01 or 01/07/2024")] = None,
    effective: Annotated[str | None, Form()] = None,
    expires: Annotated[str | None, Form()] = None,
    url: Annotated[str | None, Form()] = None,
    language: Annotated[str | None, Form(description="vi or en; guessed when left out")] = None,
    supersedes: Annotated[str | None, Form(description="Id of the document this one replaces")] = None,
) -> AddedOut:
    """Add a document: it is read, cut into passages along its structure and indexed; 409 when the
    same text is stored already, 415 for a file that is not PDF, DOCX, HTML or text."""
    values = {
        "title": title,
        "issuer": issuer,
        "doc_type": type,
        "number": number,
        "issued_on": date,
        "effective_on": effective,
        "expires_on": expires,
        "url": url,
        "language": language,
        "supersedes": supersedes,
    }
    meta = read_meta(values)
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
        result = AddedOut(id=added.document.id, passages=len(added.passages))
    request.state.audited = True
    return result


@router.get("/api/v1/documents", response_model=list[DocumentOut])
def list_documents(
    session: ReadSession,
    user: CurrentUser,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> list[DocumentOut]:
    """Documents, newest first; ``X-Total-Count`` says how many there are."""
    rows = stored.list_documents(session, limit=limit, offset=offset)
    counts = stored.passage_counts(session, (row.id for row in rows))
    response.headers["X-Total-Count"] = str(stored.count_documents(session))
    return [document_out(row, counts.get(row.id, 0)) for row in rows]


@router.get("/api/v1/documents/{document_id}", response_model=DocumentDetailOut)
def get_document(document_id: RowId, session: ReadSession, user: CurrentUser) -> DocumentDetailOut:
    """A document's metadata, full text and passages."""
    row = stored.get_document(session, document_id)
    if row is None:
        raise NotFound(f"no document #{document_id}")
    passages = stored.passages_of(session, document_id)
    base = document_out(row, len(passages))
    listed = [passage_out(p) for p in passages]
    return DocumentDetailOut(**base.model_dump(exclude={"passages"}), text=row.text, passages=listed)
