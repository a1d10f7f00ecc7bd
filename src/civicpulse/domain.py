"""Pydantic types shared by every layer; ``extra="forbid"`` at every boundary."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

MAX_TEXT_CHARS = 20_000


class Channel(StrEnum):
    """Where a submission came from."""

    web_form = "web_form"
    api = "api"
    open311 = "open311"
    email = "email"
    hotline = "hotline"
    social_media = "social_media"
    survey = "survey"
    file_import = "file_import"
    feed = "feed"
    ask = "ask"


CHANNEL_NAMES: dict[str, dict[str, str]] = {
    "vi": {
        "web_form": "Biểu mẫu web",
        "api": "API",
        "open311": "Open311",
        "email": "Thư điện tử",
        "hotline": "Đường dây nóng",
        "social_media": "Mạng xã hội",
        "survey": "Khảo sát",
        "file_import": "Nhập từ tệp",
        "feed": "Nguồn tin RSS/Atom",
        "ask": "Câu hỏi tra cứu văn bản",
    },
    "en": {
        "web_form": "Web form",
        "api": "API",
        "open311": "Open311",
        "email": "Email",
        "hotline": "Hotline",
        "social_media": "Social media",
        "survey": "Survey",
        "file_import": "File import",
        "feed": "RSS/Atom feed",
        "ask": "Question to official documents",
    },
}
"""Each channel's name for people, by language (the dashboard and the reports)."""


class CaseStatus(StrEnum):
    """Handling state of a submission (Open311 knows open and closed)."""

    open = "open"
    in_progress = "in_progress"
    closed = "closed"


class AnalysisState(StrEnum):
    """Where a submission stands in the analysis queue."""

    pending = "pending"
    done = "done"
    failed = "failed"


SENTIMENT_LABELS = ("negative", "neutral", "positive")
TOXICITY_LABELS = ("clean", "offensive", "hate")


class Role(StrEnum):
    """What a user may do."""

    admin = "admin"
    analyst = "analyst"
    agency_officer = "agency_officer"
    viewer = "viewer"


# Unicode categories Cc (control characters) and Cs (surrogates), less tab, newline and return, and
# the 66 Unicode non-characters (U+FDD0-U+FDEF and the last two code points of every plane, U+nFFFE
# and U+nFFFF). Together they cover every code point XML 1.0 forbids, so accepted text always renders
# to well-formed XML (Open311 requests.xml). Every text field of every submission passes here, so
# the check stays cheap: one class of BMP code points, and the astral non-characters only for the
# rare text that holds an astral character at all (one class with them all is ten times slower).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_ASTRAL_NONCHARACTERS = re.compile(
    "[" + "".join(f"{chr(plane << 16 | 0xFFFE)}-{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17)) + "]"
)


def _kind(char: str) -> str:
    if "\ud800" <= char <= "\udfff":
        return "invalid Unicode (lone surrogate)"
    if char <= "\x9f":
        return "control character"
    return "Unicode non-character"


def check_clean_text(value: str) -> str:
    """Refuse control characters, lone surrogates and non-characters (never strip them); keep
    everything else byte for byte."""
    found = _FORBIDDEN.search(value)
    if found is None and _ASTRAL.search(value):
        found = _ASTRAL_NONCHARACTERS.search(value)
    if found is not None:
        char, position = found.group(), found.start()
        raise ValueError(f"{_kind(char)} U+{ord(char):04X} at position {position} is not allowed")
    return value


EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2200, 1, 1, tzinfo=UTC)


def check_moment(value: datetime) -> datetime:
    """Refuse a time outside [1900-01-01, 2200-01-01) UTC, or one whose conversion to UTC overflows
    (``0001-01-01T00:00:00+23:59``); a naive time is taken as UTC. The value keeps its own offset."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        utc = aware.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST_MOMENT <= utc < LATEST_MOMENT:
        raise ValueError(
            f"{value.isoformat()} is out of range: times must lie between the years "
            f"{EARLIEST_MOMENT.year} and {LATEST_MOMENT.year - 1} (UTC)"
        )
    return aware


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty")
    return check_clean_text(value)


CleanText = Annotated[str, AfterValidator(check_clean_text)]
SubmissionText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), AfterValidator(_check_text)]
ShortText = Annotated[str, Field(max_length=500), AfterValidator(check_clean_text)]


class Strict(BaseModel):
    """Base for boundary models: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class Contact(Strict):
    """Contact details a citizen gave; stored apart and encrypted."""

    name: ShortText | None = None
    phone: Annotated[str, Field(max_length=50), AfterValidator(check_clean_text)] | None = None
    email: Annotated[str, Field(max_length=254), AfterValidator(check_clean_text)] | None = None
    address: ShortText | None = None

    def is_empty(self) -> bool:
        """True when no field holds anything."""
        return not any((self.name, self.phone, self.email, self.address))


class Attachment(Strict):
    """Metadata of a file that came with a submission (the file itself is not stored here)."""

    filename: ShortText
    content_type: Annotated[str, Field(max_length=200), AfterValidator(check_clean_text)] | None = None
    size_bytes: Annotated[int, Field(ge=0, strict=True)] | None = None
    url: Annotated[str, Field(max_length=2000), AfterValidator(check_clean_text)] | None = None


class SubmissionIn(Strict):
    """One submission as any channel hands it over."""

    text: SubmissionText
    channel: Channel = Channel.api
    source_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    received_at: datetime | None = None
    language_hint: (
        Annotated[str, Field(min_length=2, max_length=16), AfterValidator(check_clean_text)] | None
    ) = None
    locality: ShortText | None = None
    lat: Annotated[float, Field(ge=-90, le=90, strict=True)] | None = None
    long: Annotated[float, Field(ge=-180, le=180, strict=True)] | None = None
    service_code: Annotated[str, Field(max_length=100), AfterValidator(check_clean_text)] | None = None
    attachments: Annotated[list[Attachment], Field(max_length=20)] = Field(default_factory=list)
    contact: Contact | None = None

    @field_validator("source_id")
    @classmethod
    def _clean_source_id(cls, value: str | None) -> str | None:
        return None if value is None else check_clean_text(value)

    @field_validator("received_at", mode="before")
    @classmethod
    def _written_time(cls, value: object) -> object:
        if isinstance(value, int | float):  # a number is not taken as seconds since 1970
            raise ValueError("write the time in ISO 8601, e.g. 2026-12-04T09:30:00+07:00")
        return value

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else check_moment(value)


class Accepted(Strict):
    """What intake answers for each submission."""

    id: int
    tracking_code: str
    duplicate: bool


class AnnotationOut(Strict):
    """One stage's output for one submission."""

    stage: str
    data: dict[str, Any]
    created_at: datetime


class AttachmentOut(Strict):
    """An attachment's metadata as a reader may see it: the file name is redacted (``None`` until
    redaction ran) and the URL withheld for everyone but the handling agency."""

    filename: str | None
    content_type: str | None = None
    size_bytes: int | None = None
    url: str | None = None


class CaseState(StrEnum):
    """Where a case stands in its workflow (``civicpulse.cases.workflow``)."""

    received = "received"
    accepted = "accepted"
    assigned = "assigned"
    in_progress = "in_progress"
    answered = "answered"
    closed = "closed"
    merged = "merged"


class SlaState(StrEnum):
    """The case's clock: within time, 75 % of the time used, or past its deadline."""

    on_track = "on_track"
    warning = "warning"
    breached = "breached"


class CaseSummary(Strict):
    """The case a submission is handled in, as ``GET /api/v1/submissions/{id}`` shows it."""

    id: int
    status: CaseState
    agency: str | None
    due_at: datetime | None
    sla_state: SlaState | None


class SubmissionOut(Strict):
    """A stored submission as the API shows it (contact details never appear here).

    ``text`` is the text exactly as received, shown only to admins and the handling agency
    (``None`` for others); ``redacted_text`` is what everyone may read, once redaction ran. The
    other fields a citizen typed (``locality``, ``source_id``, attachment file names) hold, for
    everyone else, their redacted values, or ``None`` until redaction ran (``redaction_pending``
    names those).
    """

    id: int
    tracking_code: str
    text: str | None
    redacted_text: str | None = None
    channel: Channel
    source_id: str | None
    received_at: datetime
    created_at: datetime
    language_hint: str | None
    locality: str | None
    lat: float | None
    long: float | None
    service_code: str | None
    status: CaseStatus
    analysis_state: AnalysisState
    agency: str | None
    has_contact: bool
    attachments: list[AttachmentOut]
    annotations: dict[str, AnnotationOut] = Field(default_factory=dict)
    corrections: dict[str, str] = Field(
        default_factory=dict, description="Analysts' corrections by task; they win over the models."
    )
    redaction_pending: list[str] = Field(
        default_factory=list,
        description="Fields withheld from this reader until personal data is redacted: 'locality', "
        "'source_id', 'attachment:<index>' (the file name of attachments[index]).",
    )
    case: CaseSummary | None = Field(
        default=None, description="The case handling this submission; null until a case is opened."
    )


class LabelIn(Strict):
    """An analyst's correction of one model output."""

    task: Annotated[str, Field(pattern="^(topic|sentiment|toxicity)$")]
    value: Annotated[str, Field(min_length=1, max_length=100)]


class SubmissionPage(Strict):
    """A page of submissions and the cursor of the next one."""

    items: list[SubmissionOut]
    next_cursor: str | None


class TrackingStatus(Strict):
    """What a citizen sees with a tracking code: no text, no contact."""

    tracking_code: str
    status: CaseStatus
    received_at: datetime
    updated_at: datetime
    agency: str | None


class AnalysisOut(Strict):
    """What the analysis stages produce for one text (``POST /api/v1/analyze``)."""

    language: str | None
    text_restored: str
    redacted_text: str | None
    pii: list[dict[str, Any]] = Field(
        description="Personal data found: its type and offsets into the text as sent (not the restored one)."
    )
    topic: dict[str, Any] | None
    sentiment: dict[str, Any] | None
    urgency: dict[str, Any] | None
    places: list[dict[str, Any]]
    toxicity: dict[str, Any] | None
    duplicate_of: int | None = None
    campaign: dict[str, Any] | None = None
    stages: dict[str, dict[str, Any]] = Field(default_factory=dict)
