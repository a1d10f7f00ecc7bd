"""Campaigns are recomputed from stored near-duplicate groups, senders and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from civicpulse.analysis.dedup import DedupStage
from civicpulse.analysis.language import LanguageStage
from civicpulse.analysis.pii import PiiStage
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.analysis.text import NormalizeStage
from civicpulse.domain import Channel, Contact, SubmissionIn
from civicpulse.insight.campaigns import (
    CampaignRules,
    campaign_of,
    count_once,
    detect_campaigns,
    representatives,
)
from civicpulse.intake.files import import_files
from civicpulse.intake.service import accept
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.neardup import StoredSignatures

DEMO = Path(__file__).resolve().parent.parent / "examples" / "vietnamese_submissions.jsonl"
START = datetime(2026, 11, 4, 6, 0, tzinfo=UTC)
PETITION = (
    "Chúng tôi, người dân phường Tân Mai, phản đối việc chặt hạ hàng cây xanh trên đường Nguyễn Văn "
    "Cừ để mở rộng bãi đỗ xe. Hàng cây đã gần ba mươi năm tuổi, che bóng mát cho cả khu phố. Đề nghị "
    "UBND phường công khai phương án và lấy ý kiến người dân trước khi thực hiện."
)
OTHER = (
    "Xe tải chở vật liệu xây dựng chạy qua đường liên xã ban đêm làm đường hư hỏng nặng, bụi bay mù "
    "mịt vào nhà dân. Đề nghị kiểm tra tải trọng và cấm xe quá tải đi qua khu dân cư."
)


def _copies(n: int, *, every: timedelta, sender: str | None = "distinct", text: str = PETITION) -> list:
    items = []
    for i in range(n):
        email = None if sender is None else (f"nguoi{i}@example.org" if sender == "distinct" else sender)
        items.append(
            SubmissionIn(
                text=f"{text} Ý kiến số {i}.",
                channel=Channel.web_form,
                received_at=START + i * every,
                contact=Contact(email=email) if email else None,
            )
        )
    return items


def _analyse(db: Database, settings: Settings, items: list[SubmissionIn]) -> list[int]:
    accepted = accept(db, ContactCipher(settings.fernet_key), items, actor="test", client=None)
    Worker(db, Pipeline([DedupStage(settings, signatures=StoredSignatures(db))]), settings).drain()
    return [a.id for a in accepted]


def test_many_senders_in_a_short_window_make_a_campaign_counted_once(
    settings: Settings, db: Database
) -> None:
    members = _analyse(db, settings, _copies(12, every=timedelta(hours=3)))
    [lone] = _analyse(db, settings, [SubmissionIn(text=OTHER, received_at=START)])
    with db.read() as session:
        [campaign] = detect_campaigns(session)
        assert campaign_of(session, members[5]) == campaign
        assert campaign_of(session, lone) is None
        weights = count_once(session, [lone, *members[:4]])
        kept = representatives(session, [members[3], lone, members[0]])
        assert detect_campaigns(session, since=START + timedelta(hours=20)) == []  # 6 left: too few
    assert campaign.group_id == members[0] and campaign.sample_submission_id == members[0]
    assert campaign.size == 12 and campaign.distinct_senders == 12 and campaign.peak_window_size == 12
    assert campaign.channels == ("web_form",)
    assert campaign.first_at == START and campaign.last_at == START + timedelta(hours=33)
    assert weights == {lone: 1.0, **{m: 0.25 for m in members[:4]}}
    assert kept == [members[3], lone]


def test_one_sender_or_anonymous_copies_are_no_campaign(settings: Settings, db: Database) -> None:
    _analyse(db, settings, _copies(12, every=timedelta(hours=1), sender="mot.nguoi@example.org"))
    _analyse(db, settings, _copies(12, every=timedelta(hours=1), sender=None, text=OTHER))
    with db.read() as session:
        assert detect_campaigns(session) == []
        assert detect_campaigns(session, rules=CampaignRules(min_size=10, min_senders=1)) != []


def test_copies_spread_beyond_the_window_are_no_campaign(settings: Settings, db: Database) -> None:
    _analyse(db, settings, _copies(12, every=timedelta(days=3)))
    with db.read() as session:
        assert detect_campaigns(session) == []
        [wide] = detect_campaigns(session, rules=CampaignRules(window=timedelta(days=40)))
    assert wide.size == 12


def test_groups_split_by_concurrent_workers_are_united(settings: Settings, db: Database) -> None:
    copies = _copies(13, every=timedelta(hours=2))
    _analyse(db, settings, copies[:6])
    blind = DedupStage(settings)  # no signature port: saw nothing stored
    accepted = accept(db, ContactCipher(settings.fernet_key), copies[6:12], actor="test", client=None)
    Worker(db, Pipeline([blind]), settings).drain()
    [bridge] = _analyse(db, settings, copies[12:])
    with db.read() as session:
        [campaign] = detect_campaigns(session)
        assert campaign_of(session, accepted[0].id) == campaign
        assert campaign_of(session, bridge) == campaign
    assert campaign.size == 13


def test_the_demo_campaign_is_found_end_to_end(settings: Settings, db: Database) -> None:
    report = import_files(db, settings, [DEMO])
    assert report.stored == 600
    dedup = DedupStage(settings, signatures=StoredSignatures(db))
    pipeline = Pipeline([LanguageStage(settings), NormalizeStage(settings), PiiStage(settings), dedup])
    assert Worker(db, pipeline, settings).drain() == 600
    with db.read() as session:
        campaigns = detect_campaigns(session)
    [campaign] = campaigns
    assert campaign.size == 40
    assert 30 <= campaign.distinct_senders <= 40
    assert campaign.last_at - campaign.first_at < timedelta(days=2)
    assert set(campaign.channels) == {"email", "social_media", "web_form"}
