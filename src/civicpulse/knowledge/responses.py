"""Sourced responses to rumours: a draft quoting the claim (the official statement or fact-check)
and its supporting passages verbatim, with document, article and link; edited by an official,
approved by a second person (never its author), then published under the office's name only, on
the tracking page of the submissions it answers and in the export. Nothing is published by itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civicpulse.domain import Role
from civicpulse.errors import Conflict, Forbidden, NotFound, Unprocessable
from civicpulse.identity import Principal
from civicpulse.knowledge.claims import require as require_claim
from civicpulse.store import claims as stored
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import ClaimResponseRow, ClaimRow, utcnow

REVIEWERS = (Role.admin, Role.analyst)
EDITABLE = (stored.DRAFT, stored.RETURNED, stored.APPROVED)


def quotes_for(session: Session, claim: ClaimRow) -> list[dict[str, Any]]:
    """The claim and its supporting passages as verbatim quotes with their sources."""
    quotes: list[dict[str, Any]] = [
        {
            "kind": "claim",
            "claim_id": claim.id,
            "quote": claim.claim_reviewed,
            "rating": claim.rating,
            "author": claim.author,
            "url": claim.url,
        }
    ]
    for passage in stored.passage_quotes(session, stored.linked_passage_ids(session, claim.id)):
        quotes.append(
            {
                "kind": "passage",
                "document_id": passage.document_id,
                "passage_id": passage.passage_id,
                "document": passage.document_title,
                "number": passage.document_number,
                "article": passage.path,
                "start": passage.start,
                "end": passage.end,
                "quote": passage.text,
                "url": passage.url,
                "superseded": passage.superseded,
            }
        )
    return quotes


def draft_text(claim: ClaimRow, quotes: list[dict[str, Any]], office: str) -> str:
    """A first text for the official to edit: the verdict, the statement, the sources."""
    english = (claim.language or "").startswith("en")
    lines = [
        f"{office}: {'regarding the information circulating' if english else 'về thông tin đang lan truyền'}"
        f" «{claim.claim_reviewed}»",
        f"{'Verdict' if english else 'Kết luận'}: {claim.rating} ({claim.author}"
        + (f", {claim.url})" if claim.url else ")"),
    ]
    passages = [q for q in quotes if q["kind"] == "passage"]
    if passages:
        lines.append("According to:" if english else "Căn cứ:")
        for quote in passages:
            source = ", ".join(
                part for part in (quote["document"], quote["number"], quote["article"]) if part
            )
            link = f" {quote['url']}" if quote["url"] else ""
            lines.append(f"- «{quote['quote']}» ({source}){link}")
    return "\n".join(lines)


def _audit(session: Session, user: Principal, action: str, row: ClaimResponseRow, client: str | None) -> None:
    record_audit(
        session, actor=user.email, action=action, target=f"claim_response:{row.id}", client=client, status=200
    )


def draft(
    session: Session,
    claim_id: int,
    user: Principal,
    *,
    office: str,
    submission_id: int | None = None,
    text: str | None = None,
    client: str | None = None,
) -> ClaimResponseRow:
    """A new draft for a claim (for one submission, or every submission certainly repeating it)."""
    claim = require_claim(session, claim_id)
    if submission_id is not None and not stored.submission_exists(session, submission_id):
        raise Unprocessable(f"submission_id: submission {submission_id} does not exist")
    quotes = quotes_for(session, claim)
    row = ClaimResponseRow(
        claim_id=claim.id,
        submission_id=submission_id,
        status=stored.DRAFT,
        text=text if text is not None else draft_text(claim, quotes, office),
        quotes=quotes,
        office=office,
        author=user.email,
    )
    stored.add_response(session, row)
    _audit(session, user, "claim_response.draft", row, client)
    return row


def require(session: Session, response_id: int) -> ClaimResponseRow:
    """The response of ``response_id`` (locked for the change), or ``NotFound``."""
    row = stored.get_response(session, response_id, lock=True)
    if row is None:
        raise NotFound(f"response {response_id} does not exist")
    return row


def edit(
    session: Session, response_id: int, text: str, user: Principal, *, client: str | None = None
) -> ClaimResponseRow:
    """Change the text of an unpublished response; it becomes a draft again (approval is undone)
    and the editor becomes its author (who wrote the text never approves it)."""
    row = require(session, response_id)
    if row.status not in EDITABLE:
        raise Conflict(
            f"response {row.id} is {row.status}: it can no longer change", details={"status": row.status}
        )
    row.text, row.status, row.author, row.updated_at = text, stored.DRAFT, user.email, utcnow()
    row.approver = row.approved_at = None
    _audit(session, user, "claim_response.edit", row, client)
    return row


def may_review(user: Principal, row: ClaimResponseRow) -> bool:
    """Whether ``user`` may approve or return ``row``: an admin or analyst who did not write it."""
    return user.role in REVIEWERS and user.email != row.author


def _check_review(user: Principal, row: ClaimResponseRow) -> None:
    if row.status != stored.DRAFT:
        raise Conflict(f"response {row.id} is {row.status}, not a draft waiting for approval")
    if user.email == row.author:
        raise Forbidden("the author of a response cannot approve it: a second person must")
    if not may_review(user, row):
        raise Forbidden("only an admin or an analyst may review a response")


def approve(
    session: Session, response_id: int, user: Principal, *, client: str | None = None
) -> ClaimResponseRow:
    """A second person approves a draft; it is not public until published."""
    row = require(session, response_id)
    _check_review(user, row)
    now = utcnow()
    row.status, row.approver, row.approved_at, row.updated_at, row.review_reason = (
        stored.APPROVED,
        user.email,
        now,
        now,
        None,
    )
    _audit(session, user, "claim_response.approve", row, client)
    return row


def send_back(
    session: Session, response_id: int, reason: str, user: Principal, *, client: str | None = None
) -> ClaimResponseRow:
    """Return a draft to its author with a reason."""
    row = require(session, response_id)
    _check_review(user, row)
    row.status, row.review_reason, row.updated_at = stored.RETURNED, reason, utcnow()
    _audit(session, user, "claim_response.return", row, client)
    return row


def publish(
    session: Session, response_id: int, user: Principal, *, office: str, client: str | None = None
) -> ClaimResponseRow:
    """Publish an approved response under the office's name."""
    row = require(session, response_id)
    if row.status != stored.APPROVED:
        raise Conflict(
            f"response {row.id} is {row.status}: only an approved response is published",
            details={"status": row.status},
        )
    now = utcnow()
    row.status, row.office, row.published_at, row.updated_at = stored.PUBLISHED, office, now, now
    _audit(session, user, "claim_response.publish", row, client)
    return row


def public_view(row: ClaimResponseRow) -> dict[str, Any]:
    """A published response as citizens and the export see it: the office's name, never a person's."""
    return {
        "id": row.id,
        "claim_id": row.claim_id,
        "submission_id": row.submission_id,
        "office": row.office,
        "text": row.text,
        "quotes": row.quotes,
        "published_at": row.published_at.isoformat() if row.published_at else None,
    }
