"""The feed channel: poll configured RSS and Atom feeds and accept their new entries.

Each entry becomes one ``SubmissionIn`` of channel ``feed``: its title and its text (HTML reduced to
text), its id (or link) as source id, so that a re-poll stores nothing twice, its publication time,
and the feed's language and locality. Requests are conditional: the ETag and Last-Modified of the
last fetch are sent back, and a 304 stores nothing. A feed that fails is reported and never stops
the others. ``FeedPoller`` polls every ``feed_poll_minutes`` inside the server.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from civicpulse.domain import Attachment, Channel, SubmissionIn
from civicpulse.intake.channels import ChannelInfo
from civicpulse.intake.mail import html_to_text
from civicpulse.intake.service import accept
from civicpulse.periodic import Periodic
from civicpulse.settings import FeedSource, Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.feeds import Validators, feed_validators, save_feed_state

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 10_000_000
MAX_SOURCE_ID = 200
USER_AGENT = "CivicPulse feed reader (+https://github.com/civicpulse)"


def channel() -> ChannelInfo:
    """The registry's description of this channel; it polls by itself."""
    return ChannelInfo(
        "feed", Channel.feed, "RSS and Atom feeds, polled every feed_poll_minutes", poll=poll_feeds
    )


class FeedError(Exception):
    """A feed could not be fetched or read; the message says why."""


# ---------------------------------------------------------------------------- entries


@dataclass
class Entries:
    """What one feed document holds: valid submissions and the reasons others were refused."""

    items: list[SubmissionIn] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def _text_of(detail: Any, fallback: str = "") -> str:
    """The text of a feedparser text construct (HTML reduced to text)."""
    if not detail:
        return fallback
    value = str(detail.get("value", "") or "")
    if "html" in str(detail.get("type", "")):
        return html_to_text(value)
    return "\n".join(line.strip() for line in value.strip().splitlines() if line.strip())


def entry_text(entry: Any) -> str:
    """Title, then the entry's content (or summary) as text; the body is left out when it only
    repeats the title."""
    title = " ".join(_text_of(entry.get("title_detail"), str(entry.get("title", ""))).split())
    contents = entry.get("content") or []
    body = _text_of(contents[0]) if contents else ""
    if not body:
        body = _text_of(entry.get("summary_detail"), str(entry.get("summary", "")))
    if body == title:
        body = ""
    return f"{title}\n{body}" if title and body else title or body


def _source_id(entry: Any) -> str | None:
    raw = str(entry.get("id") or entry.get("link") or "").strip()
    if not raw:
        return None
    if len(raw) > MAX_SOURCE_ID:
        return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return raw


def _published(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime(*parsed[:6], tzinfo=UTC)


def _link(entry: Any) -> list[Attachment]:
    url = str(entry.get("link", "") or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        return []
    name = parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc
    return [Attachment(filename=name[:500], content_type="text/html", url=url)]


def parse_feed(content: bytes, source: FeedSource, max_text_chars: int) -> Entries:
    """The entries of an RSS or Atom document; ``FeedError`` when it is neither."""
    parsed = feedparser.parse(content)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no feed elements found"
        raise FeedError(f"not an RSS or Atom feed: {reason}")
    entries = Entries()
    for number, entry in enumerate(parsed.entries, start=1):
        text = entry_text(entry)
        if len(text) > max_text_chars:
            entries.rejected.append(f"entry {number}: text is longer than {max_text_chars} characters")
            continue
        try:
            item = SubmissionIn(
                text=text,
                channel=Channel.feed,
                source_id=_source_id(entry),
                received_at=_published(entry),
                language_hint=source.language,
                locality=source.locality,
                attachments=_link(entry),
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem.get("loc", ())) or "entry"
            entries.rejected.append(f"entry {number}: {where}: {problem.get('msg', 'invalid')}")
            continue
        entries.items.append(item)
    return entries


# ---------------------------------------------------------------------------- fetching


@dataclass(frozen=True)
class Fetched:
    """A feed response: ``content`` is None for 304 Not Modified."""

    status: int
    content: bytes | None
    validators: Validators


def fetch(client: httpx.Client, url: str, validators: Validators) -> Fetched:
    """GET ``url`` conditionally; ``FeedError`` for an error status or a body over the size limit."""
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 304:
            return Fetched(304, None, validators)
        if response.status_code != 200:
            raise FeedError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_FEED_BYTES:
                raise FeedError(f"the feed is larger than {MAX_FEED_BYTES:,} bytes")
            chunks.append(chunk)
        fresh = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
        return Fetched(200, b"".join(chunks), fresh)


def http_client(settings: Settings) -> httpx.Client:
    """The HTTP client of a poll: the configured timeout, redirects followed."""
    return httpx.Client(
        timeout=settings.feed_timeout_seconds, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    )


# ---------------------------------------------------------------------------- polling


@dataclass
class FeedResult:
    """How one feed's poll went: ``outcome`` is new, unchanged (304) or failed."""

    name: str
    url: str
    outcome: str = "unchanged"
    entries: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class FeedReport:
    """Every feed of one poll."""

    feeds: list[FeedResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def stored(self) -> int:
        """New submissions over all feeds."""
        return sum(f.stored for f in self.feeds)

    @property
    def failed(self) -> list[FeedResult]:
        """The feeds that could not be fetched or read."""
        return [f for f in self.feeds if f.error is not None]

    @property
    def exit_code(self) -> int:
        """1 when a feed failed, else 0."""
        return 1 if self.failed else 0


def poll_feed(
    db: Database, cipher: ContactCipher, settings: Settings, source: FeedSource, client: httpx.Client
) -> FeedResult:
    """Fetch one feed and accept its entries; failures are in the result, never raised."""
    result = FeedResult(source.name, source.url)
    with db.read() as session:
        validators = feed_validators(session, source.url)
    try:
        fetched = fetch(client, source.url, validators)
        if fetched.content is None:
            with db.write() as session:
                save_feed_state(session, source.url, status=304)
            return result
        entries = parse_feed(fetched.content, source, settings.max_text_chars)
    except (httpx.HTTPError, FeedError) as exc:
        result.outcome, result.error = "failed", str(exc) or type(exc).__name__
        with db.write() as session:
            save_feed_state(session, source.url, status=None, error=result.error)
        return result
    result.outcome, result.entries, result.rejected = "new", len(entries.items), entries.rejected
    if entries.items:
        accepted = accept(
            db, cipher, entries.items, actor=f"feed:{source.name}", client=None, action="feed.poll"
        )
        result.stored = sum(not a.duplicate for a in accepted)
        result.duplicates = len(accepted) - result.stored
    # Validators are saved after the entries: a crash in between fetches the feed again next time.
    with db.write() as session:
        save_feed_state(session, source.url, status=fetched.status, validators=fetched.validators)
    return result


def poll_feeds(
    db: Database,
    settings: Settings,
    *,
    sources: Sequence[FeedSource] | None = None,
    console: Console | None = None,
    stop: threading.Event | None = None,
) -> FeedReport:
    """Poll every feed (``settings.feeds`` unless ``sources`` is given) once; with ``console``, a
    progress line per feed and a summary table."""
    report = FeedReport()
    cipher = ContactCipher(settings.fernet_key)
    started = time.perf_counter()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[outcome]}"),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
    )
    with http_client(settings) as client, progress:
        for source in settings.feeds if sources is None else sources:
            if stop is not None and stop.is_set():
                break
            task = progress.add_task(source.name, total=1, outcome="fetching")
            result = poll_feed(db, cipher, settings, source, client)
            report.feeds.append(result)
            progress.update(task, completed=1, outcome=_outcome(result))
    report.seconds = time.perf_counter() - started
    if console is not None:
        print_report(console, report)
    return report


def _outcome(result: FeedResult) -> str:
    if result.error is not None:
        return f"[red]failed[/red]: {result.error}"
    if result.outcome == "unchanged":
        return "not modified"
    return f"{result.stored} new of {result.entries}"


def print_report(console: Console, report: FeedReport) -> None:
    """One row per feed, then each failure and the first rejected entries."""
    table = Table("feed", "outcome", "entries", "new", "duplicates", "rejected", title="Feeds")
    for item in report.feeds:
        counts = (item.entries, item.stored, item.duplicates, len(item.rejected))
        table.add_row(item.name, item.outcome, *(f"{n:,}" for n in counts))
    console.print(table)
    for item in report.failed:
        console.print(f"[red]failed:[/red] {item.name} ({item.url}): {item.error}", highlight=False)
    for item in report.feeds:
        for reason in item.rejected[:5]:
            console.print(f"  {item.name}: {reason}", markup=False, highlight=False)
    console.print(
        f"{report.stored:,} new submissions from {len(report.feeds)} feeds in {report.seconds:.1f} s"
    )


class FeedPoller(Periodic):
    """Polls the configured feeds in a daemon thread every ``feed_poll_minutes``, first at once.

    ``start`` does nothing when no feed is configured; ``stop`` returns as soon as the poll under
    way has finished its current feed (each request is bounded by ``feed_timeout_seconds``).
    """

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        super().__init__(
            "civicpulse-feeds",
            self._round,
            settings.feed_poll_minutes * 60,
            enabled=bool(settings.feeds),
            failure="feed poll failed",
        )

    def _round(self) -> None:
        report = poll_feeds(self.db, self.settings, stop=self.stopping)
        for item in report.failed:
            log.warning("feed %s (%s) failed: %s", item.name, item.url, item.error)
        log.info("feeds polled: %d new submissions", report.stored)
