"""One Settings object: environment variables ``CIVICPULSE_*`` and an optional TOML file."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"

DEFAULT_LANGUAGES = [
    "vi",
    "en",
    "fr",
    "de",
    "es",
    "zh",
    "ja",
    "ko",
    "ru",
    "th",
    "id",
    "ms",
    "tl",
    "pt",
    "it",
    "nl",
]


class FeedSource(BaseModel):
    """One RSS or Atom feed polled by the ``feed`` channel."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", max_length=2000, description="The feed's http(s) URL.")
    name: str = Field(min_length=1, max_length=100, description="A short name, shown in reports.")
    language: str | None = Field(
        default=None, min_length=2, max_length=16, description="Language hint of its entries."
    )
    locality: str | None = Field(default=None, max_length=500, description="Place its entries are about.")


class Settings(BaseSettings):
    """Everything configurable, read once and passed explicitly."""

    model_config = SettingsConfigDict(env_prefix="CIVICPULSE_", extra="forbid")

    env: Literal["development", "production"] = Field(
        default="development", description="production refuses development secrets; cookies need HTTPS."
    )
    database_url: str = Field(
        default="sqlite:///./var/civicpulse.db",
        description="SQLAlchemy URL: a SQLite file or postgresql+psycopg://user@host/db.",
    )
    secret_key: str = Field(
        default=DEV_SECRET_KEY,
        description="Signs session cookies; 16+ characters; must be set in production.",
    )
    contact_key: str | None = Field(
        default=None, description="Fernet key for contact details; derived from secret_key when unset."
    )

    max_body_bytes: int = Field(default=2_000_000, description="Larger request bodies get 413.")
    max_text_chars: int = Field(default=20_000, description="Longest submission text accepted.")
    max_batch: int = Field(default=500, description="Most submissions in one POST.")
    max_xlsx_uncompressed_bytes: int = Field(
        default=100_000_000, gt=0, description="XLSX files that unpack to more bytes are refused whole."
    )
    max_xlsx_ratio: float = Field(
        default=200.0, gt=1, description="XLSX files with a large part compressed more than this are refused."
    )
    xlsx_max_seconds: float = Field(
        default=120.0, gt=0, description="Seconds one XLSX file may take to read before it is refused whole."
    )
    intake_committers: int = Field(
        default=2, description="Group-commit threads for API intake on PostgreSQL (SQLite: one)."
    )
    intake_group_items: int = Field(
        default=64, description="Most submissions one group commit of API intake stores at once."
    )
    token_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long the user of a token or session is cached: a revocation (logout, disabled "
        "user, revoked token) takes effect within this delay.",
    )
    session_hours: float = Field(
        default=12.0, gt=0, description="A dashboard session ends this long after signing in."
    )
    public_rate_limit: str = Field(
        default="20/minute",
        description="Per-address budget of the citizen form (/submit) and tracking page (/track); "
        "limits such as `20/minute` or `5/minute;30/hour`.",
    )
    open311_rate_limit: str = Field(
        default="60/minute", description="Per-address budget of Open311 calls without a valid api_key."
    )
    keyed_rate_limit: str = Field(
        default="6000/minute",
        description="Per-token budget of writes by keyed clients: API writes with a bearer token and "
        "Open311 posts with an api_key.",
    )
    login_rate_limit_account: str = Field(
        default="5/minute;30/hour", description="Budget of sign-in attempts per account (typed e-mail)."
    )
    login_rate_limit_address: str = Field(
        default="20/minute", description="Budget of sign-in attempts per address."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For is believed; "
        "none by default: the caller is the direct peer.",
    )

    worker_threads: int = Field(default=2, description="Analysis threads inside `civicpulse serve`.")
    worker_batch: int = Field(default=64, description="Jobs a worker claims at once.")
    worker_poll_seconds: float = Field(default=0.5, description="Pause of an idle worker between polls.")
    job_max_attempts: int = Field(default=5, description="Tries before a job is marked failed.")
    job_retry_base_seconds: float = Field(
        default=2.0, description="First retry delay; doubled at each further try."
    )
    job_lease_seconds: float = Field(
        default=120.0, description="A claimed job whose worker died is run again after this long."
    )
    ray_address: str | None = Field(
        default=None,
        description="Ray cluster joined by `--engine ray` (`auto`: the one `ray start` made here); "
        "unset: a local Ray is started for the run.",
    )
    ray_num_cpus: int | None = Field(
        default=None, ge=1, description="CPUs of a local Ray started for a run; all of them when unset."
    )
    ray_object_store_mb: int = Field(
        default=512, ge=80, description="Object store of a local Ray started for a run, in MiB."
    )
    ray_actors: int = Field(
        default=0, ge=0, description="Most model actors per stage group (0: one per CPU of the cluster)."
    )
    ray_actor_cpus: float = Field(
        default=0.5, gt=0, description="CPUs Ray reserves for each model actor (fractions share a core)."
    )
    ray_batch_size: int = Field(default=256, ge=1, description="Items per Ray Data batch.")
    ray_read_tasks: int = Field(
        default=0,
        ge=0,
        description="Batches read at once from PostgreSQL by `trends rebuild` and `themes` on Ray (0: one "
        "per CPU); an analysis reads each batch in the stage actor that takes it.",
    )
    ray_writers: int = Field(
        default=2, ge=1, description="Actors writing results to PostgreSQL at once (SQLite: always one)."
    )
    themes_fit_sample: int = Field(
        default=50_000,
        ge=100,
        description="`civicpulse themes --engine ray` fits the themes of larger slices on a sample of "
        "this many items and assigns the rest to them on Ray.",
    )

    stages: list[str] = Field(
        default_factory=lambda: [
            "language",
            "normalize",
            "pii",
            "places",
            "dedup",
            "embed",
            "topic",
            "sentiment",
            "urgency",
            "toxicity",
            "route",
        ],
        description="Per-item analysis stages run by workers, in order, by registered name.",
    )
    analyze_stages: list[str] | None = Field(
        default=None, description="Stages of POST /api/v1/analyze; the worker's stages when unset."
    )
    embedder: str = Field(default="bundled", description="bundled, sentence-transformers or openai.")
    embedding_model: str | None = Field(
        default=None, description="Model name (openai) or local model directory (sentence-transformers)."
    )
    embedding_endpoint: str | None = Field(default=None, description="OpenAI-compatible base URL.")
    embedding_api_key: str | None = Field(default=None, description="Bearer key of the embedding endpoint.")
    embedding_batch: int = Field(default=64, description="Texts per embedding call.")
    embedding_threads: int = Field(default=0, description="Engine threads of the bundled model (0: all).")
    embedding_max_tokens: int = Field(default=128, description="Texts are cut to this many tokens.")
    embedding_dim: int | None = Field(default=None, description="Expected width of endpoint vectors.")
    embedding_cache_size: int = Field(default=10_000, description="Vectors kept in memory by content hash.")
    embedding_store_cache: bool = Field(
        default=True, description="Reuse stored vectors of the same text before computing."
    )
    llm_endpoint: str | None = Field(
        default=None,
        description="OpenAI-compatible base URL of a chat model (vLLM, Ollama ...); optional: themes get "
        "a generated label and cited summary when set, everything works without it.",
    )
    llm_model: str | None = Field(default=None, description="Model name sent to the chat endpoint.")
    llm_api_key: str | None = Field(default=None, description="Bearer key of the chat endpoint.")
    llm_timeout: float = Field(default=60.0, description="Seconds per chat request.")
    classify_with_embeddings: bool = Field(
        default=True, description="Topic and sentiment use embeddings beside words (else words only)."
    )
    model_dir: Path | None = Field(
        default=None, description="Trained models (*.skops); var/models beside the SQLite file when unset."
    )
    topic_review_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Topic predictions less confident than this go to review."
    )
    routing_auto_assign_confidence: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="A routed submission whose best agency is at least this sure is assigned without a "
        "person; the others wait in the triage queue.",
    )
    toxicity_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Toxicity score from which an item is set aside for moderation."
    )
    urgency_rules_file: Path | None = Field(
        default=None, description="TOML urgency rules and deadline policy; the packaged default when unset."
    )
    urgency_learned: bool = Field(
        default=True,
        description="Let the learned model lift a report the rules do not call urgent into the first "
        "urgent band when it reads like urgent ones; off: the urgency score comes from the rules alone.",
    )
    dedup_threshold: float = Field(
        default=0.6, description="Estimated Jaccard similarity of word-pair shingles for near-duplicates."
    )
    dedup_num_perm: int = Field(default=128, description="MinHash permutations per signature.")
    dedup_shingle: int = Field(default=2, description="Words per shingle of near-duplicate signatures.")
    dedup_min_words: int = Field(default=6, description="Texts with fewer words get no signature.")
    campaign_min_size: int = Field(
        default=10, description="Members a near-duplicate group needs within the window to be a campaign."
    )
    campaign_min_senders: int = Field(
        default=5, description="Distinct senders a campaign needs (anonymous: once per channel)."
    )
    campaign_window_hours: float = Field(default=72.0, description="Sliding window of campaign detection.")
    restore_diacritics: bool = Field(
        default=True, description="Restore marks of Vietnamese typed without them (for analysis)."
    )
    segment_words: bool = Field(
        default=False,
        description="Word segments in the normalize output (no stored stage needs them today).",
    )
    languages: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LANGUAGES),
        description="Languages the detector chooses among (ISO 639-1); a text in another is labelled und.",
    )
    language_detect_all: bool = Field(
        default=False,
        description="Detect among all of lingua's languages (slower, about 1 GB) instead of labelling "
        "texts outside `languages` und.",
    )
    feeds: list[FeedSource] = Field(
        default_factory=list,
        description="RSS/Atom feeds of the feed channel: a list of {url, name, language, locality} "
        "(TOML [[feeds]] tables, or JSON in CIVICPULSE_FEEDS); none by default.",
    )
    feed_poll_minutes: float = Field(
        default=15.0, gt=0, description="Minutes between polls of the feeds inside `civicpulse serve`."
    )
    feed_timeout_seconds: float = Field(default=20.0, gt=0, description="Seconds per feed request.")
    k_anonymity: int = Field(default=5, description="Groups of fewer people are suppressed in reports.")
    office_name: str = Field(
        default="Văn phòng tiếp nhận phản ánh, kiến nghị",
        min_length=1,
        max_length=200,
        description="The office's own name: the only name sourced responses are published under.",
    )
    rumour_matching: bool = Field(
        default=True, description="Match analysed submissions' sentences against the claim base."
    )
    rumour_show_threshold: float = Field(
        default=0.445,
        ge=0,
        le=1,
        description="Match score from which a rumour is shown to an official (bench/rumour_thresholds.py).",
    )
    rumour_certain_threshold: float = Field(
        default=0.89,
        ge=0,
        le=1,
        description="Match score from which a rumour signal is certain (bench/rumour_thresholds.py).",
    )
    rumour_alert_hours: float = Field(
        default=24.0, gt=0, description="Window in which a claim spreading fast is counted."
    )
    rumour_alert_people: int = Field(
        default=10, ge=1, description="Distinct people in the window from which a claim spreads fast."
    )
    report_live_themes_max: int = Field(
        default=20_000,
        ge=0,
        description="Situation reports theme periods of at most this many submissions live; larger "
        "ones read the latest stored themes run.",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for outgoing mail; unset: no mail.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_username: str | None = Field(default=None, description="SMTP user name, when the server asks.")
    smtp_password: str | None = Field(default=None, description="SMTP password of smtp_username.")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS.")
    mail_from: str | None = Field(
        default=None, max_length=254, description="Sender address of outgoing mail (reports, answers)."
    )
    alert_max_attempts: int = Field(
        default=5, ge=1, le=20, description="Tries of one alert delivery (e-mail or webhook) before it fails."
    )
    alert_retry_base_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Wait before the second try of an alert delivery; doubled at each further try.",
    )
    alert_webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Seconds one alert webhook call may take."
    )
    alert_webhook_allow_private: bool = Field(
        default=False,
        description="Let alert webhooks call loopback, private, link-local and other non-public "
        "addresses (the office's own network); refused by default.",
    )
    alert_run_interval_seconds: float = Field(
        default=300.0,
        ge=0,
        description="Seconds between runs of the alert rules inside `civicpulse serve`; 0: none "
        "(run `civicpulse alerts run` from cron instead).",
    )
    overview_refresh_seconds: float = Field(
        default=300.0,
        ge=0,
        description="Seconds between refreshes of the leaders' overview (the country's figures and "
        "the warnings of the default week) inside `civicpulse serve`, so that no page view waits "
        "for them; 0: none (the first view after a change computes them).",
    )
    taxonomy_file: Path | None = Field(
        default=None, description="TOML topic taxonomy; the packaged default when unset."
    )
    case_deadlines_file: Path | None = Field(
        default=None,
        description="TOML deadlines of cases by type and topic (docs/adr/0006-legal-deadlines.md); "
        "the packaged default when unset.",
    )

    @field_validator(
        "public_rate_limit",
        "open311_rate_limit",
        "keyed_rate_limit",
        "login_rate_limit_account",
        "login_rate_limit_address",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        parse_many(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)
        return value

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        if self.env == "production" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError(
                "CIVICPULSE_SECRET_KEY is the development default; set a secret of your own "
                "for production (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        if len(self.secret_key) < 16:
            raise ValueError("CIVICPULSE_SECRET_KEY must be at least 16 characters long.")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init arguments win, then the environment, then ``CIVICPULSE_CONFIG`` (a TOML file)."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("CIVICPULSE_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @property
    def fernet_key(self) -> bytes:
        """The key that encrypts contact details at rest."""
        if self.contact_key:
            return self.contact_key.encode()
        digest = hashlib.sha256(b"civicpulse-contact-key\0" + self.secret_key.encode()).digest()
        return base64.urlsafe_b64encode(digest)

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the store is SQLite, else ``None``."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix) :])
        return None
