"""Near-duplicate signatures and groups: one row per analysed submission that has a signature.

The ``dedup`` stage computes a MinHash signature of each submission's redacted text and the group
of near-identical submissions it joins; the worker stores both here. Campaign detection
(``civicpulse.insight.campaigns``) reads the groups back together with the submissions' senders
and times. Signatures are little-endian uint32 arrays; ``scheme`` names how they were made
(shingle width and number of permutations) so that a change of settings never mixes sketches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    and_,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicpulse.store.db import Database, among
from civicpulse.store.tables import Base, Id, SubmissionRow, UtcDateTime, utcnow

_IN_CHUNK = 500  # ids per IN (...) clause
_READ_CHUNK = 5_000  # rows per fetch when loading signatures


class NearDuplicateRow(Base):
    """The MinHash signature of one submission and the near-duplicate group it belongs to."""

    __tablename__ = "near_duplicates"
    __table_args__ = (Index("ix_near_duplicates_scheme_created", "scheme", "created_at"),)

    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    scheme: Mapped[str] = mapped_column(String(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    group_id: Mapped[int] = mapped_column(Id, index=True)
    duplicate_of: Mapped[int | None] = mapped_column(Id)
    similarity: Mapped[float | None] = mapped_column(Float)
    linked_groups: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


HAS_LINKS = and_(
    NearDuplicateRow.linked_groups.is_not(None),
    cast(NearDuplicateRow.linked_groups, String) != literal_column("'null'"),
)
"""Rows that name linked groups (``None`` is stored as JSON ``null``); indexed, they are few."""
Index(
    "ix_near_duplicates_linked", NearDuplicateRow.group_id, sqlite_where=HAS_LINKS, postgresql_where=HAS_LINKS
)


@dataclass(frozen=True)
class StoredSignature:
    """A signature as loaded back into an index."""

    submission_id: int
    signature: np.ndarray
    group_id: int
    created_at: datetime


@dataclass(frozen=True)
class GroupMember:
    """One member of a near-duplicate group, with what campaign detection needs of its submission."""

    submission_id: int
    group_id: int
    received_at: datetime
    channel: str
    sender_key: str | None


def to_bytes(signature: np.ndarray | Sequence[int]) -> bytes:
    """Little-endian uint32 bytes of a 1-d signature."""
    array = np.asarray(signature, dtype="<u4")
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"a signature must be a non-empty 1-d array, got shape {array.shape}")
    return array.tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    """The uint32 signature stored in ``blob``."""
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


def save_signature(
    session: Session,
    submission_id: int,
    *,
    scheme: str,
    signature: np.ndarray | Sequence[int],
    group_id: int,
    duplicate_of: int | None,
    similarity: float | None,
    linked_groups: Sequence[int] = (),
) -> None:
    """Store (or replace, on re-analysis) one submission's signature and group; ``linked_groups``
    are other groups its near-duplicates belong to (groups that must be one)."""
    blob = to_bytes(signature)
    row = session.get(NearDuplicateRow, submission_id)
    if row is None:
        row = NearDuplicateRow(submission_id=submission_id)
        session.add(row)
    row.scheme, row.signature, row.group_id = scheme, blob, group_id
    row.duplicate_of, row.similarity, row.created_at = duplicate_of, similarity, utcnow()
    row.linked_groups = sorted({int(g) for g in linked_groups} - {group_id}) or None
    session.flush()


def load_signatures(
    session: Session, scheme: str, *, since: datetime | None = None, skip: Iterable[int] = ()
) -> Iterator[StoredSignature]:
    """Stored signatures of ``scheme`` (written at or after ``since``), except those in ``skip``.

    Ids are read first and the signatures only of rows not skipped, in chunks, so that an index
    that re-reads a recent window to catch late commits pays little for rows it already holds.
    """
    query = select(NearDuplicateRow.submission_id).where(NearDuplicateRow.scheme == scheme)
    if since is not None:
        query = query.where(NearDuplicateRow.created_at >= since)
    known = skip if isinstance(skip, set | frozenset | dict) else set(skip)
    wanted = [
        sid for sid in session.scalars(query.order_by(NearDuplicateRow.submission_id)) if sid not in known
    ]
    for start in range(0, len(wanted), _READ_CHUNK):
        chunk = wanted[start : start + _READ_CHUNK]
        rows = session.execute(
            select(
                NearDuplicateRow.submission_id,
                NearDuplicateRow.signature,
                NearDuplicateRow.group_id,
                NearDuplicateRow.created_at,
            ).where(NearDuplicateRow.submission_id.in_(chunk))
        ).all()
        for row in sorted(rows, key=lambda r: r.submission_id):
            yield StoredSignature(row.submission_id, from_bytes(row.signature), row.group_id, row.created_at)


def group_of(session: Session, submission_id: int) -> int | None:
    """The near-duplicate group of a submission, ``None`` when it has no signature."""
    return session.scalar(
        select(NearDuplicateRow.group_id).where(NearDuplicateRow.submission_id == submission_id)
    )


def split_links(session: Session) -> list[tuple[int, int]]:
    """Pairs of groups that must be one: a member matched submissions of another group too.

    Rare (two workers that put near-duplicates in separate groups at the same moment); insight
    code unites them so that campaigns are recomputed from the facts, not from a race.
    """
    rows = session.execute(
        select(NearDuplicateRow.group_id, NearDuplicateRow.linked_groups).where(HAS_LINKS)
    ).all()
    return [(int(group), int(other)) for group, others in rows for other in others or ()]


def group_sizes(session: Session, *, min_size: int = 2, since: datetime | None = None) -> dict[int, int]:
    """Group id -> members received at or after ``since``, for groups of at least ``min_size``."""
    count = func.count()
    query = (
        select(NearDuplicateRow.group_id, count)
        .join(SubmissionRow, SubmissionRow.id == NearDuplicateRow.submission_id)
        .group_by(NearDuplicateRow.group_id)
        .having(count >= min_size)
    )
    if since is not None:
        query = query.where(SubmissionRow.received_at >= since)
    return {int(group): int(n) for group, n in session.execute(query).all()}


def group_members(
    session: Session, group_ids: Iterable[int], *, since: datetime | None = None
) -> list[GroupMember]:
    """Members of the given groups (received at or after ``since``), oldest first."""
    ids = sorted({int(g) for g in group_ids})
    members: list[GroupMember] = []
    for start in range(0, len(ids), _IN_CHUNK):
        query = (
            select(
                NearDuplicateRow.submission_id,
                NearDuplicateRow.group_id,
                SubmissionRow.received_at,
                SubmissionRow.channel,
                SubmissionRow.sender_key,
            )
            .join(SubmissionRow, SubmissionRow.id == NearDuplicateRow.submission_id)
            .where(among(session, NearDuplicateRow.group_id, ids[start : start + _IN_CHUNK]))
        )
        if since is not None:
            query = query.where(SubmissionRow.received_at >= since)
        members.extend(GroupMember(*row) for row in session.execute(query).all())
    members.sort(key=lambda m: (m.received_at, m.submission_id))
    return members


class StoredSignatures:
    """The dedup stage's signature source (``analysis.dedup.SignatureSource``) over this store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def signatures_since(
        self, scheme: str, since: datetime | None, skip: Iterable[int]
    ) -> list[tuple[int, np.ndarray, int]]:
        """``(submission id, signature, group)`` of the signatures of ``scheme`` written since ``since``."""
        with self.db.read() as session:
            return [
                (row.submission_id, row.signature, row.group_id)
                for row in load_signatures(session, scheme, since=since, skip=skip)
            ]
