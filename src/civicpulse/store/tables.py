"""SQLAlchemy tables: one schema for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on both databases (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of all CivicPulse tables."""


class SubmissionRow(Base):
    """A submission exactly as received, plus its handling state."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    tracking_code: Mapped[str] = mapped_column(String(32), unique=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32), index=True)
    source_id: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    language_hint: Mapped[str | None] = mapped_column(String(16))
    locality: Mapped[str | None] = mapped_column(String(500))
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    service_code: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    status_notes: Mapped[str | None] = mapped_column(Text)
    analysis_state: Mapped[str] = mapped_column(String(16), default="pending")
    agency: Mapped[str | None] = mapped_column(String(100), index=True)
    has_contact: Mapped[bool] = mapped_column(default=False)
    sender_key: Mapped[str | None] = mapped_column(String(64), index=True)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ContactRow(Base):
    """Contact details of one submission, encrypted at rest; read only through the audited API."""

    __tablename__ = "contacts"

    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class JobRow(Base):
    """A durable unit of work on one submission."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("submission_id", "kind"),
        Index("ix_jobs_claimable", "state", "run_after"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(Id, ForeignKey("submissions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32), default="analyze")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AnnotationRow(Base):
    """One stage's output for one submission; written once per (submission, stage)."""

    __tablename__ = "annotations"
    __table_args__ = (UniqueConstraint("submission_id", "stage"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EventRow(Base):
    """History of a submission: analysed, status changed, assigned ..."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(254))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UserRow(Base):
    """A person who signs in: admin, analyst, agency officer or viewer."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    agencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiTokenRow(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(default=False)


class UserSessionRow(Base):
    """A dashboard sign-in; the cookie carries the random id, only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """Who did what, when, from where: every mutating call and every read of contact details."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(300))
    client: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FoundPiiRow(Base):
    """Personal data found in a submission's text by redaction, encrypted like contact details."""

    __tablename__ = "text_pii"

    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LabelRow(Base):
    """An analyst's correction of a model output: a fact of its own; the latest per task wins."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    task: Mapped[str] = mapped_column(String(32), index=True)
    value: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AgencyRow(Base):
    """An agency of the directory: who it is, where and on what it acts, its head and calendar."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(500))
    name_en: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(32))
    parent: Mapped[str | None] = mapped_column(String(64))
    provinces: Mapped[list[str]] = mapped_column(JSON, default=list)
    communes: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    email: Mapped[str | None] = mapped_column(String(254))
    days_off: Mapped[list[str]] = mapped_column(JSON, default=list)
    needs_approval: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseRow(Base):
    """A case: one or more submissions handled together, its workflow state and its SLA clock
    (``due_at`` / ``warn_at`` of the running phase, computed in working time when it starts)."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_open_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    case_type: Mapped[str] = mapped_column(String(16))
    complex: Mapped[bool] = mapped_column(default=False)
    topic: Mapped[str | None] = mapped_column(String(100))
    agency: Mapped[str | None] = mapped_column(String(100), index=True)
    handler: Mapped[str | None] = mapped_column(String(100), index=True)
    clock_start: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accept_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answer_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    escalated_to: Mapped[str | None] = mapped_column(String(100), index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    merged_into: Mapped[int | None] = mapped_column(Id, ForeignKey("cases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseMemberRow(Base):
    """A submission handled in a case; each submission belongs to at most one case."""

    __tablename__ = "case_members"

    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseNoteRow(Base):
    """An internal note on a case: for officers, never part of the public answer."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RoutingRuleRow(Base):
    """A routing rule: topic x province x commune x channel -> agency; empty conditions match all;
    rules are tried by ``position`` (then id) and the first that matches wins."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    topic: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(16))
    commune: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    agency: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RoutingFactRow(Base):
    """An assignment of a submission to an agency, as a fact: by the router or a person, first
    (``assigned``), moved (``reassigned``) or set right (``corrected``); the latest one by a
    person per submission teaches the learned router."""

    __tablename__ = "routing_facts"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    agency: Mapped[str] = mapped_column(String(100))
    previous: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    automatic: Mapped[bool] = mapped_column(default=False)
    actor: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AnswerTemplateRow(Base):
    """A template of the public answer, for one agency and topic (or any), in one language."""

    __tablename__ = "answer_templates"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    agency: Mapped[str | None] = mapped_column(String(100), index=True)
    topic: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseAnswerRow(Base):
    """An answer to a case: a ``draft`` waiting for a second officer, ``returned`` with a reason,
    ``superseded`` by a newer draft, or ``published`` under the agency's name."""

    __tablename__ = "case_answers"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    template_id: Mapped[int | None] = mapped_column(Id)
    batch: Mapped[str | None] = mapped_column(String(36))
    author: Mapped[str] = mapped_column(String(254))
    reviewer: Mapped[str | None] = mapped_column(String(254))
    review_reason: Mapped[str | None] = mapped_column(Text)
    agency: Mapped[str | None] = mapped_column(String(100))
    agency_name: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CaseUpdateRow(Base):
    """A public update of a case (an answer published, the case reopened or closed): what
    Open311's ``servicerequestupdates`` lists for each of the case's submissions."""

    __tablename__ = "case_updates"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    agency_name: Mapped[str | None] = mapped_column(String(500))
    answer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("case_answers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class CaseFeedbackRow(Base):
    """A citizen's word on a published answer (through the tracking code): solved or not; one per
    answer and submission. The reports count satisfaction from it."""

    __tablename__ = "case_feedback"
    __table_args__ = (UniqueConstraint("answer_id", "submission_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    answer_id: Mapped[int] = mapped_column(Id, ForeignKey("case_answers.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(Id, ForeignKey("submissions.id", ondelete="CASCADE"))
    agency: Mapped[str | None] = mapped_column(String(100), index=True)
    solved: Mapped[bool] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AnswerMailRow(Base):
    """A published answer to send to one submission's citizen by e-mail (when they left an address):
    ``pending``, ``sent``, ``no_address`` or ``failed`` (after ``attempts``)."""

    __tablename__ = "answer_mail"
    __table_args__ = (
        UniqueConstraint("answer_id", "submission_id"),
        Index("ix_answer_mail_state", "state", "next_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    answer_id: Mapped[int] = mapped_column(Id, ForeignKey("case_answers.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(Id, ForeignKey("submissions.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TrendFactRow(Base):
    """One analysed submission as the trends count it (``insight.counts``): its local day and hour,
    topic, province, channel, sentiment and sender; ``counted`` is false for a campaign's members
    after its first (campaigns are counted once), ``campaign`` the campaign's group id. Empty
    strings stand for "not known" so that the keys below stay unique on both databases."""

    __tablename__ = "trend_facts"
    __table_args__ = (
        Index("ix_trend_facts_day", "day"),
        Index("ix_trend_facts_campaign", "campaign"),
        Index("ix_trend_facts_topic_day", "topic", "day"),
        Index("ix_trend_facts_province_day", "province", "day"),
    )

    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10))
    hour: Mapped[str] = mapped_column(String(13))
    topic: Mapped[str] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))
    sentiment: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(80))
    counted: Mapped[bool] = mapped_column(default=True)
    campaign: Mapped[int | None] = mapped_column(Id)


class TrendCountRow(Base):
    """Submissions of one period (``unit`` day or hour, local time) and finest cell (topic ×
    province × channel × sentiment); coarser figures are sums of these cells."""

    __tablename__ = "trend_counts"

    unit: Mapped[str] = mapped_column(String(4), primary_key=True)
    period: Mapped[str] = mapped_column(String(13), primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    province: Mapped[str] = mapped_column(String(100), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    sentiment: Mapped[str] = mapped_column(String(16), primary_key=True)
    submissions: Mapped[int] = mapped_column(Integer)
    counted: Mapped[int] = mapped_column(Integer)


class TrendSenderRow(Base):
    """The distinct senders of one period and cell (``items``: their submissions there), so that
    distinct senders at any level are an exact ``COUNT(DISTINCT sender)``."""

    __tablename__ = "trend_senders"

    unit: Mapped[str] = mapped_column(String(4), primary_key=True)
    period: Mapped[str] = mapped_column(String(13), primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    province: Mapped[str] = mapped_column(String(100), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    sentiment: Mapped[str] = mapped_column(String(16), primary_key=True)
    sender: Mapped[str] = mapped_column(String(80), primary_key=True)
    items: Mapped[int] = mapped_column(Integer)


class SpikeDetectionRunRow(Base):
    """A stored detection of spike warnings over every series (migration 0020): the warnings that
    start on the days ``first_day`` to ``last_day``, read from the counts of ``reads_from`` on,
    under ``basis`` (k-anonymity and the detector's rules)."""

    __tablename__ = "spike_detection_runs"

    last_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    first_day: Mapped[str] = mapped_column(String(10))
    reads_from: Mapped[str] = mapped_column(String(10))
    basis: Mapped[str] = mapped_column(String(200))
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SpikeDetectionRow(Base):
    """The warnings of one series (``topic`` and/or ``province``, empty for all) in the detection
    ending on ``last_day``: current while ``seen`` (the changes it was computed after) equals
    ``changes`` (the counts' changes on the series' days that the counts hook has noted)."""

    __tablename__ = "spike_detections"

    last_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    province: Mapped[str] = mapped_column(String(100), primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    seen: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class OverviewSnapshotRow(Base):
    """The leaders' overview of the week ending on ``last_day`` (of ``province``, empty for the
    country), as computed from the counts of ``reads_from`` on under ``basis`` (k-anonymity, the
    detector's rules, the themes run): current while ``seen`` equals ``changes`` (migration 0020)."""

    __tablename__ = "overview_snapshots"

    last_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    province: Mapped[str] = mapped_column(String(100), primary_key=True)
    reads_from: Mapped[str] = mapped_column(String(10))
    basis: Mapped[str] = mapped_column(String(200))
    changes: Mapped[int] = mapped_column(Integer, default=0)
    seen: Mapped[int] = mapped_column(Integer, default=-1)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- alerts (migration 0015) ---


class AlertRuleRow(Base):
    """A user's alert rule: what it watches (a topic, province, theme or free query; ``None`` is
    all), when it fires (``kind`` spike, threshold or forecast, with its ``level``), how it is
    delivered (the owner's e-mail and/or a signed webhook, at once or in a digest) and whether it
    is muted."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    theme: Mapped[int | None] = mapped_column(Id)
    query: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[float | None] = mapped_column(Float)
    period: Mapped[str] = mapped_column(String(8))
    email: Mapped[bool] = mapped_column(default=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret: Mapped[str | None] = mapped_column(String(500))  # Fernet ciphertext
    digest: Mapped[str] = mapped_column(String(8))
    muted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    digest_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AlertRow(Base):
    """One firing of a rule (once per ``key``): the series, its period, the figures and the
    explanation (contributors and redacted quotes only), and who acknowledged it."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("rule_id", "key"),
        Index("ix_alerts_owner_fired", "owner_id", "fired_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(Id, ForeignKey("alert_rules.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    series: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    start: Mapped[str] = mapped_column(String(13))
    end: Mapped[str] = mapped_column(String(13))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    digested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acked_by: Mapped[str | None] = mapped_column(String(254))


class AlertDeliveryRow(Base):
    """One attempt to deliver alerts (one, or a digest's) by ``channel`` e-mail or webhook:
    ``pending`` until tried, then ``sent`` or ``failed``; a failed attempt before the last leaves
    a ``pending`` successor due at ``next_at``."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_due", "status", "next_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(Id, ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True)
    alert_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    digest: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(String(8))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(8))
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    tried_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- official documents (migration 0016) ---


class DocumentRow(Base):
    """An official document: its metadata, its full text (passages' offsets point into it) and the
    document it supersedes or that superseded it."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str | None] = mapped_column(String(300))
    number: Mapped[str | None] = mapped_column(String(100), index=True)
    doc_type: Mapped[str] = mapped_column(String(32))
    issued_on: Mapped[date | None] = mapped_column()
    effective_on: Mapped[date | None] = mapped_column()
    expires_on: Mapped[date | None] = mapped_column()
    url: Mapped[str | None] = mapped_column(String(2000))
    language: Mapped[str] = mapped_column(String(16))
    source_format: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    supersedes: Mapped[int | None] = mapped_column(Id, ForeignKey("documents.id", ondelete="SET NULL"))
    superseded_by: Mapped[int | None] = mapped_column(Id, ForeignKey("documents.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PassageRow(Base):
    """A passage of a document: its place in the document's structure and ``text[start:end]``."""

    __tablename__ = "passages"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(Id, ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    superseded: Mapped[bool] = mapped_column(default=False)


# --- claims, rumours, sourced responses (migration 0017) ---


class ClaimRow(Base):
    """A fact-check or an official statement, with the ClaimReview JSON-LD it came as (``jsonld``,
    kept whole for a lossless export) and its searchable fields; ``fingerprint`` is the hash of
    the canonical JSON-LD, so the same object is stored once."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))
    claim_reviewed: Mapped[str] = mapped_column(Text)
    rating: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    author: Mapped[str] = mapped_column(String(500))
    date_published: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(16))
    appearances: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_appearance: Mapped[str | None] = mapped_column(String(2000))
    jsonld: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ClaimPassageRow(Base):
    """An official passage that supports a claim, in the order the official gave."""

    __tablename__ = "claim_passages"

    claim_id: Mapped[int] = mapped_column(Id, ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True)
    passage_id: Mapped[int] = mapped_column(Id, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RumourSignalRow(Base):
    """A submission's sentence (``start``/``end`` in its redacted text) matching a claim: ``level``
    ``show`` (for an official) or ``certain``; sender, province and time copied for the panel."""

    __tablename__ = "rumour_signals"
    __table_args__ = (UniqueConstraint("submission_id", "claim_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(Id, ForeignKey("submissions.id", ondelete="CASCADE"))
    claim_id: Mapped[int] = mapped_column(Id, ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(8))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(80))
    province: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ClaimResponseRow(Base):
    """A sourced response to a rumour: a ``draft`` (or ``returned``) quoting the claim and its
    passages verbatim (``quotes``), ``approved`` by a second person, then ``published`` under the
    office's name; for one submission, or (``submission_id`` empty) for every certain match."""

    __tablename__ = "claim_responses"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(Id, ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    quotes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    office: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(254))
    approver: Mapped[str | None] = mapped_column(String(254))
    review_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- folded search text (migration 0018) ---


class SearchTextRow(Base):
    """The folded search copies of a submission (``textkit.folding.fold``): of its raw text, written
    when it is accepted, and of its redacted text, written when the ``pii`` stage stores it."""

    __tablename__ = "search_texts"

    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    text_folded: Mapped[str] = mapped_column(Text)
    redacted_folded: Mapped[str | None] = mapped_column(Text)


class SavedViewRow(Base):
    """A user's named inbox view: the filters and sort as a query string."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
