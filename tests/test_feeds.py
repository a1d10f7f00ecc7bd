"""The feed channel against real RSS 2.0 and Atom documents served on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civicpulse.domain import Channel
from civicpulse.intake.channels import channels
from civicpulse.intake.feeds import FeedPoller, entry_text, parse_feed, poll_feeds
from civicpulse.settings import FeedSource, Settings
from civicpulse.store.db import Database
from civicpulse.store.feeds import FeedStateRow
from civicpulse.store.tables import AuditRow, SubmissionRow
from tests.conftest import TEST_SECRET

RSS_ITEM = """
    <item>
      <title>{title}</title>
      <link>https://xa-dong.example.vn/tin/{guid}</link>
      <guid isPermaLink="false">{guid}</guid>
      <pubDate>{date}</pubDate>
      <description><![CDATA[<p>{body}</p><script>alert(1)</script>]]></description>
    </item>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Diễn đàn phường Bến Nghé</title>
  <id>urn:uuid:6f1d2f4e-0000-4000-8000-000000000001</id>
  <updated>2025-10-06T09:00:00Z</updated>
  <entry>
    <title>Đèn đường hỏng trên phố Lý Tự Trọng</title>
    <id>urn:uuid:6f1d2f4e-0000-4000-8000-0000000000a1</id>
    <link href="https://ben-nghe.example.vn/bai/a1"/>
    <updated>2025-10-06T09:00:00Z</updated>
    <content type="html">&lt;p&gt;Ba cột đèn không sáng từ tuần trước,
      đi đêm rất nguy hiểm.&lt;/p&gt;</content>
  </entry>
</feed>
"""

ITEMS = [
    (
        "Ngập nước ở đường Trần Phú",
        "rss-1",
        "Mưa lớn làm ngập sâu 40 cm trước chợ, xe máy chết máy hàng loạt.",
    ),
    ("Rác thải tồn đọng ở thôn Đông", "rss-2", "Đã ba ngày xe rác chưa đến thu gom, mùi hôi bốc lên cả xóm."),
]
NEW_ITEM = (
    "Cầu tạm xuống cấp",
    "rss-3",
    "Mặt cầu tạm qua kênh bị mục nhiều ván, trẻ em đi học rất nguy hiểm.",
)


def rss(items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        RSS_ITEM.format(title=t, guid=g, body=b, date=f"Mon, 06 Oct 2025 0{n}:00:00 +0700")
        for n, (t, g, b) in enumerate(items, start=1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Xã Đông</title><link>https://xa-dong.example.vn/</link>{entries}</channel></rss>"
    )


class FeedServer(ThreadingHTTPServer):
    """Serves documents by path; honours If-None-Match and If-Modified-Since with 304."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FeedHandler)
        self.documents: dict[str, tuple[int, str]] = {}  # path -> (status, body)
        self.use_etag: dict[str, bool] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class FeedHandler(BaseHTTPRequestHandler):
    server: FeedServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.path, dict(self.headers.items())))
        status, body = self.server.documents.get(self.path, (404, "not found"))
        data = body.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        etag = f'"{digest[:16]}"'
        # A Last-Modified that changes whenever the body changes.
        modified = f"Mon, 06 Oct 2025 {int(digest[:4], 16) % 24:02d}:{int(digest[4:6], 16) % 60:02d}:00 GMT"
        with_etag = self.server.use_etag.get(self.path, True)
        if status == 200:
            if with_etag and self.headers.get("If-None-Match") == etag:
                return self._reply(304, b"", {"ETag": etag})
            if not with_etag and self.headers.get("If-Modified-Since") == modified:
                return self._reply(304, b"", {"Last-Modified": modified})
        headers = {"Content-Type": "application/xml; charset=utf-8", "Last-Modified": modified}
        if with_etag:
            headers["ETag"] = etag
        self._reply(status, data, headers)

    def _reply(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    server.documents = {
        "/rss.xml": (200, rss(ITEMS)),
        "/atom.xml": (200, ATOM),
        "/broken": (500, "internal error"),
        "/not-xml": (200, "this is not a feed at all, just words"),
    }
    server.use_etag["/atom.xml"] = False  # the Atom feed only sends Last-Modified
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def sources(server: FeedServer, *paths: str) -> list[FeedSource]:
    names = {"/rss.xml": "xa-dong", "/atom.xml": "ben-nghe", "/broken": "broken", "/not-xml": "not-xml"}
    found = []
    for path in paths:
        extra = {"language": "vi", "locality": "Xã Đông"} if path == "/rss.xml" else {}
        found.append(FeedSource(url=server.url(path), name=names[path], **extra))
    return found


def with_feeds(settings: Settings, server: FeedServer, *paths: str) -> Settings:
    return settings.model_copy(update={"feeds": sources(server, *paths)})


def feed_rows(db: Database) -> list[SubmissionRow]:
    with db.read() as session:
        rows = session.scalars(select(SubmissionRow).order_by(SubmissionRow.id)).all()
    return list(rows)


def test_entries_are_stored_with_channel_feed(
    db: Database, settings: Settings, feed_server: FeedServer
) -> None:
    report = poll_feeds(db, with_feeds(settings, feed_server, "/rss.xml", "/atom.xml"))
    assert [(f.name, f.outcome, f.stored) for f in report.feeds] == [
        ("xa-dong", "new", 2),
        ("ben-nghe", "new", 1),
    ]
    assert report.exit_code == 0
    rows = feed_rows(db)
    assert {r.channel for r in rows} == {Channel.feed.value}
    by_id = {r.source_id: r for r in rows}
    first = by_id["rss-1"]
    assert first.text == f"{ITEMS[0][0]}\n{ITEMS[0][2]}"  # the script is gone, the paragraph is text
    assert first.received_at == datetime(2025, 10, 5, 18, 0, tzinfo=UTC)  # 01:00 +07:00
    assert (first.language_hint, first.locality) == ("vi", "Xã Đông")
    assert first.attachments[0]["url"] == "https://xa-dong.example.vn/tin/rss-1"
    atom = by_id["urn:uuid:6f1d2f4e-0000-4000-8000-0000000000a1"]
    assert atom.text.startswith("Đèn đường hỏng trên phố Lý Tự Trọng\nBa cột đèn không sáng")
    assert atom.received_at == datetime(2025, 10, 6, 9, 0, tzinfo=UTC)
    with db.read() as session:
        actions = session.scalars(select(AuditRow.actor).where(AuditRow.action == "feed.poll")).all()
    assert sorted(actions) == ["feed:ben-nghe", "feed:xa-dong"]


def test_second_poll_is_conditional_and_stores_nothing(
    db: Database, settings: Settings, feed_server: FeedServer
) -> None:
    settings = with_feeds(settings, feed_server, "/rss.xml", "/atom.xml")
    poll_feeds(db, settings)
    feed_server.requests.clear()
    report = poll_feeds(db, settings)
    assert [(f.outcome, f.stored) for f in report.feeds] == [("unchanged", 0), ("unchanged", 0)]
    sent = dict(feed_server.requests)
    assert sent["/rss.xml"]["If-None-Match"].startswith('"')
    assert "If-Modified-Since" in sent["/atom.xml"] and "If-None-Match" not in sent["/atom.xml"]
    assert len(feed_rows(db)) == 3
    with db.read() as session:
        state = session.get(FeedStateRow, feed_server.url("/rss.xml"))
        assert state is not None and state.status == 304 and state.etag


def test_a_changed_feed_adds_only_its_new_entry(
    db: Database, settings: Settings, feed_server: FeedServer
) -> None:
    settings = with_feeds(settings, feed_server, "/rss.xml")
    poll_feeds(db, settings)
    feed_server.documents["/rss.xml"] = (200, rss([*ITEMS, NEW_ITEM]))
    [result] = poll_feeds(db, settings).feeds
    assert (result.outcome, result.entries, result.stored, result.duplicates) == ("new", 3, 1, 2)
    assert sorted(r.source_id for r in feed_rows(db)) == ["rss-1", "rss-2", "rss-3"]


def test_a_broken_feed_is_reported_and_the_others_are_stored(
    db: Database, settings: Settings, feed_server: FeedServer
) -> None:
    settings = with_feeds(settings, feed_server, "/broken", "/not-xml", "/rss.xml")
    report = poll_feeds(db, settings)
    assert report.exit_code == 1
    errors = {f.name: f.error for f in report.failed}
    assert set(errors) == {"broken", "not-xml"}
    assert "500" in (errors["broken"] or "") and "not an RSS or Atom feed" in (errors["not-xml"] or "")
    assert report.stored == 2 and len(feed_rows(db)) == 2
    with db.read() as session:
        state = session.get(FeedStateRow, feed_server.url("/broken"))
        assert state is not None and state.etag is None and "500" in (state.error or "")


def test_an_unreachable_feed_fails_alone(db: Database, settings: Settings, feed_server: FeedServer) -> None:
    dead = FeedSource(url="http://127.0.0.1:9/feed.xml", name="dead")
    settings = settings.model_copy(update={"feeds": [dead, *sources(feed_server, "/atom.xml")]})
    report = poll_feeds(db, settings)
    assert [f.name for f in report.failed] == ["dead"] and report.stored == 1


def test_the_poller_polls_at_once_and_stops_promptly(
    db: Database, settings: Settings, feed_server: FeedServer
) -> None:
    poller = FeedPoller(
        db, with_feeds(settings, feed_server, "/rss.xml").model_copy(update={"feed_poll_minutes": 60})
    )
    poller.start()
    deadline = time.monotonic() + 20
    while len(feed_rows(db)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    poller.stop()
    assert len(feed_rows(db)) == 2
    assert time.monotonic() - started < 2


def test_without_feeds_the_poller_starts_no_thread(db: Database, settings: Settings) -> None:
    poller = FeedPoller(db, settings)
    poller.start()
    assert poller._thread is None
    poller.stop()


def test_entry_text_and_long_ids() -> None:
    source = FeedSource(url="http://example.org/feed", name="x")
    long_guid = "https://example.org/" + "a" * 300
    document = rss([("Tiêu đề", long_guid, "Nội dung <b>đậm</b> &amp; thường")]).encode("utf-8")
    [item] = parse_feed(document, source, 20_000).items
    assert item.text == "Tiêu đề\nNội dung đậm & thường"
    assert item.source_id is not None and item.source_id.startswith("sha256:") and len(item.source_id) == 71
    assert entry_text({"title": "Chỉ có tiêu đề", "summary": "Chỉ có tiêu đề"}) == "Chỉ có tiêu đề"
    too_long = parse_feed(document, source, 10)
    assert not too_long.items and "longer than 10" in too_long.rejected[0]


def test_the_feed_channel_is_registered() -> None:
    info = channels.get("feed")()
    assert info.channel is Channel.feed and info.poll is poll_feeds
    assert {"api", "open311", "web_form", "file_import", "email", "feed"} <= set(channels.names())


def test_cli_feeds_poll(tmp_path: Path, feed_server: FeedServer) -> None:
    cli = Path(sys.executable).parent / "civicpulse"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
    feeds = [s.model_dump() for s in sources(feed_server, "/rss.xml", "/broken")]
    env.update(
        CIVICPULSE_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        CIVICPULSE_SECRET_KEY=TEST_SECRET,
        CIVICPULSE_FEEDS=json.dumps(feeds),
        COLUMNS="200",
    )

    def run() -> subprocess.CompletedProcess[str]:
        command = [str(cli), "feeds", "poll"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    first = run()
    assert first.returncode == 1, first.stderr  # the broken feed fails; the other is stored
    assert "xa-dong" in first.stderr and "HTTP 500" in first.stderr
    assert "2 new submissions from 2 feeds" in first.stderr
    env["CIVICPULSE_FEEDS"] = json.dumps(feeds[:1])
    second = run()
    assert second.returncode == 0, second.stderr
    assert "0 new submissions from 1 feeds" in second.stderr and "unchanged" in second.stderr
    database = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(SubmissionRow)) == 2
    database.dispose()
