"""The state of polled feeds: each URL's ETag and Last-Modified for conditional requests, and how
its last poll went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicpulse.store.tables import Base, UtcDateTime, utcnow


class FeedStateRow(Base):
    """One polled feed URL."""

    __tablename__ = "feed_state"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Validators:
    """What a conditional request sends back: the feed's last ETag and Last-Modified."""

    etag: str | None = None
    last_modified: str | None = None


def feed_validators(session: Session, url: str) -> Validators:
    """The stored validators of ``url`` (none for a feed never fetched)."""
    row = session.get(FeedStateRow, url)
    if row is None:
        return Validators()
    return Validators(row.etag, row.last_modified)


def save_feed_state(
    session: Session,
    url: str,
    *,
    status: int | None,
    validators: Validators | None = None,
    error: str | None = None,
) -> None:
    """Record a poll of ``url``: new validators when the feed was fetched (``validators`` given),
    else the old ones are kept (304, or a failure)."""
    row = session.get(FeedStateRow, url)
    if row is None:
        row = FeedStateRow(url=url)
        session.add(row)
    now = utcnow()
    row.checked_at = now
    row.status = status
    row.error = None if error is None else error[:2000]
    if validators is not None:
        row.etag = None if validators.etag is None else validators.etag[:500]
        row.last_modified = None if validators.last_modified is None else validators.last_modified[:100]
        row.changed_at = now
