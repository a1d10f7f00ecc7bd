"""Adding an official document: read the file, check its metadata, cut its passages, store them,
and mark the document it supersedes. A document already stored (same text) is refused with 409."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpulse.errors import Conflict, Unprocessable
from civicpulse.knowledge.parsing import parse
from civicpulse.knowledge.parsing_metadata import DocumentMeta, type_from_number
from civicpulse.knowledge.passages import split_passages
from civicpulse.store import documents as stored
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import DocumentRow, PassageRow
from civicpulse.textkit.vietnamese import has_marks

MAX_DOCUMENT_BYTES = 1_900_000
"""The largest file accepted (under the app's request body limit, which the multipart form shares)."""


@dataclass(frozen=True)
class Added:
    """A stored document and its passages."""

    document: DocumentRow
    passages: list[PassageRow]


def text_sha256(text: str) -> str:
    """The fingerprint that refuses a document stored before (the same text, whatever its file)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_document(
    session: Session,
    data: bytes,
    meta: DocumentMeta,
    *,
    actor: str,
    filename: str | None = None,
    content_type: str | None = None,
    client: str | None = None,
) -> Added:
    """Store one document and its passages in the caller's transaction, with an audit event."""
    parsed = parse(data, filename, content_type)
    sha = text_sha256(parsed.text)
    existing = stored.document_by_sha(session, sha)
    if existing is not None:
        raise Conflict(
            f"this document is stored already as #{existing.id} ({existing.title})",
            details={"document_id": existing.id},
        )
    old = _superseded_document(session, meta.supersedes)
    document = DocumentRow(
        title=meta.title or parsed.title or _title_from(filename),
        issuer=meta.issuer,
        number=meta.number,
        doc_type=meta.doc_type or type_from_number(meta.number) or "other",
        issued_on=meta.issued_on,
        effective_on=meta.effective_on,
        expires_on=meta.expires_on,
        url=meta.url,
        language=meta.language or ("vi" if has_marks(parsed.text) else "en"),
        source_format=parsed.source_format,
        filename=PurePath(filename).name[:300] if filename else None,
        sha256=sha,
        text=parsed.text,
        actor=actor,
    )
    passages = [
        PassageRow(position=p.position, path=p.path, start=p.start, end=p.end, text=p.text, superseded=False)
        for p in split_passages(parsed)
    ]
    try:
        stored.add_document(session, document, passages)
    except IntegrityError as exc:  # the same text stored by a concurrent call
        raise Conflict("this document is stored already") from exc
    if old is not None:
        stored.supersede(session, old, document)
    record_audit(
        session,
        actor=actor,
        action="document.add",
        target=f"document:{document.id}",
        client=client,
        status=201,
        detail={"passages": len(passages), "supersedes": old.id if old is not None else None},
    )
    return Added(document, passages)


def _superseded_document(session: Session, document_id: int | None) -> DocumentRow | None:
    if document_id is None:
        return None
    old = stored.get_document(session, document_id, lock=True)
    if old is None:
        raise Unprocessable(
            f"supersedes: there is no document #{document_id}",
            details={"fields": [{"field": "supersedes", "message": f"no document #{document_id}"}]},
        )
    if old.superseded_by is not None:
        raise Conflict(
            f"document #{old.id} is superseded already by #{old.superseded_by}",
            details={"document_id": old.superseded_by},
        )
    return old


def _title_from(filename: str | None) -> str:
    stem = PurePath(filename).stem if filename else ""
    return (" ".join(stem.replace("_", " ").split()) or "Văn bản")[:500]
