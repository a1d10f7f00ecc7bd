"""Themes: deterministic, order-independent clusters with verbatim quotes, stable ids, analysts'
decisions that survive recomputation, k-anonymity, and the API through the live server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from civicpulse.domain import Contact, Role, SubmissionIn
from civicpulse.embeddings import BundledEmbedder
from civicpulse.errors import Unprocessable
from civicpulse.insight.themes import ClusterParams, ThemeItem, discover_themes
from civicpulse.insight.themes.decisions import decide
from civicpulse.insight.themes.service import ThemeSlice, assign_new, refresh_themes, themes_view
from civicpulse.insight.themes.slices import load_slice
from civicpulse.insight.themes.words import content_words
from civicpulse.intake.service import accept
from civicpulse.llm import ChatClient
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.tables import AnnotationRow, SubmissionRow
from civicpulse.store.themes import ThemeMemberRow
from civicpulse.store.users import create_token, create_user
from civicpulse.textkit.vietnamese import has_marks, strip_marks
from tests.conftest import make_settings
from tests.fake_openai import FakeChat, fake_chat
from tests.server import serving

FLOODS = [
    "Đường Nguyễn Trãi bị ngập sâu mỗi khi trời mưa lớn, xe máy chết máy giữa đường.",
    "Mưa chỉ nửa tiếng mà khu phố tôi đã ngập nước đến đầu gối, cống thoát nước bị tắc.",
    "Hệ thống thoát nước ở phường quá kém, cứ mưa là ngập, đề nghị nạo vét cống.",
    "Nước ngập tràn vào nhà dân sau trận mưa chiều qua vì cống thoát nước quá nhỏ.",
    "Triều cường kết hợp mưa lớn khiến đường ngập nặng, người dân không thể đi làm.",
    "Xin thành phố sớm cải tạo cống thoát nước, đường trước chợ ngập mỗi mùa mưa.",
    "Con hẻm nhà tôi ngập nước suốt ba ngày sau mưa, muỗi sinh sôi rất nhiều.",
    "Mỗi trận mưa to là đường ngập như sông, cống thoát nước không tiêu kịp.",
]
WASTE = [
    "Rác thải sinh hoạt chất đống ở đầu hẻm nhiều ngày không ai thu gom, bốc mùi hôi thối.",
    "Xe thu gom rác không đến đúng giờ, rác tràn ra đường gây ô nhiễm.",
    "Bãi rác tự phát cạnh trường học bốc mùi hôi, đề nghị dọn dẹp và xử phạt người đổ rác.",
    "Người dân đổ rác bừa bãi ra vỉa hè, rác thải bốc mùi hôi thối.",
    "Đề nghị tăng tần suất thu gom rác thải ở chợ, rác ùn ứ mỗi chiều.",
    "Điểm tập kết rác ngay trước nhà tôi bốc mùi nồng nặc, ruồi nhặng khắp nơi.",
    "Rác thải xây dựng bị đổ trộm ven đường ban đêm, chính quyền cần xử lý.",
    "Thùng rác công cộng bị đầy tràn, không được thu gom rác nhiều ngày liền.",
]
NOISE = [
    "Quán karaoke gần nhà hát to đến nửa đêm, gia đình tôi không thể ngủ được.",
    "Tiếng ồn từ loa kẹo kéo hàng xóm hát karaoke suốt ngày đêm rất khó chịu.",
    "Công trình xây dựng gây tiếng ồn lớn từ sáng sớm đến khuya, vi phạm giờ nghỉ ngơi.",
    "Đề nghị xử phạt quán bar mở nhạc ầm ĩ quá giờ quy định, tiếng ồn làm trẻ em mất ngủ.",
    "Nhà bên cạnh hát karaoke ồn ào mỗi tối, đã nhắc nhở nhiều lần nhưng không được.",
    "Tiếng ồn từ xưởng cơ khí hoạt động ban đêm làm người dân xung quanh mất ngủ.",
    "Loa phát nhạc của quán cà phê quá to, tiếng ồn vang cả khu phố.",
    "Hàng xóm hát karaoke đến 1 giờ sáng, tiếng ồn vượt mức cho phép.",
]
TOPICS = {"flood": FLOODS, "waste": WASTE, "noise": NOISE}
START = datetime(2026, 3, 2, 8, tzinfo=UTC)
# words join the vectors from 200 items on; these small slices get them too, as the demo's 1,400 do
WITH_WORDS = ClusterParams(word_min_items=20)


@lru_cache(maxsize=1)
def _vectors() -> np.ndarray:
    texts = [t for texts in TOPICS.values() for t in texts]
    return BundledEmbedder().embed_passages(texts)


def _items() -> tuple[list[ThemeItem], list[str], np.ndarray]:
    items, gold = [], []
    for n, (name, texts) in enumerate((k, t) for k, ts in TOPICS.items() for t in ts):
        items.append(ThemeItem(id=100 + n, text=texts, received_at=START + timedelta(hours=n)))
        gold.append(name)
    return items, gold, _vectors()


def _partition(labels_by_id: dict[int, int]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for sid, label in labels_by_id.items():
        groups.setdefault(label, set()).add(sid)
    return {frozenset(g) for g in groups.values()}


def test_themes_find_the_topics_deterministically_and_in_any_order() -> None:
    items, gold, vectors = _items()
    first = discover_themes(items, vectors)
    again = discover_themes(items, vectors)
    perm = np.random.default_rng(5).permutation(len(items))
    shuffled = discover_themes([items[i] for i in perm], vectors[perm])

    by_id = {it.id: int(lab) for it, lab in zip(items, first.clustering.labels, strict=True)}
    by_id_shuffled = {items[i].id: int(lab) for i, lab in zip(perm, shuffled.clustering.labels, strict=True)}
    assert by_id == {it.id: int(lab) for it, lab in zip(items, again.clustering.labels, strict=True)}
    assert by_id == by_id_shuffled  # same numbering too: themes are ranked canonically
    assert [t.label for t in first.themes] == [t.label for t in shuffled.themes]
    # the three topics come out as three themes, nothing left unassigned
    gold_by_id = {it.id: g for it, g in zip(items, gold, strict=True)}
    assert _partition(by_id) == _partition({i: hash(g) for i, g in gold_by_id.items()})
    assert first.unassigned_share == 0.0


def test_quotes_and_summaries_are_verbatim_and_themes_are_described() -> None:
    items, _, vectors = _items()
    found = discover_themes(items, vectors)
    text_of = {it.id: it.text for it in items}
    for theme in found.themes:
        assert 3 <= len(theme.quotes) <= 5 and theme.summary
        for quote in theme.quotes + theme.summary:
            assert quote.submission_id in theme.member_ids
            assert quote.text in text_of[quote.submission_id]
        assert theme.senders == len(theme.member_ids)  # anonymous: one sender per submission
        assert sum(theme.trend.values()) == pytest.approx(theme.weight)
        assert theme.keywords and all(" " not in k for k in theme.keywords)
    by_topic = {_topic_of(theme, items): theme.label.lower() for theme in found.themes}
    assert any(word in by_topic["flood"] for word in ("ngập", "cống", "thoát nước"))
    assert any(word in by_topic["waste"] for word in ("rác", "mùi", "thu gom"))
    assert any(word in by_topic["noise"] for word in ("ồn", "karaoke"))
    for theme in found.themes:  # a phrase of the members' own words, not a list of keywords
        assert "·" not in theme.label
        assert any(theme.label.lower() in text_of[sid].lower() for sid in theme.member_ids)


def _topic_of(theme, items: list[ThemeItem]) -> str:
    texts = {it.id: it.text for it in items}
    counts = {name: sum(texts[sid] in group for sid in theme.member_ids) for name, group in TOPICS.items()}
    return max(counts, key=lambda name: counts[name])


def test_labels_have_no_fragments_and_summaries_no_repeated_sentence() -> None:
    campaign = "Đề nghị thành phố khẩn trương nạo vét kênh Nhiêu Lộc, nước đen bốc mùi hôi thối."
    texts = (
        [campaign] * 6
        + [campaign.replace("khẩn trương", "sớm")] * 3
        + [
            "I was charged a late fee of $35 on my loan account XX/XX/XXXX and the bank {ignored} me.",
            "Kênh Nhiêu Lộc bốc mùi hôi thối, rác nổi đầy mặt nước.",
            "Nước kênh đen kịt, mùi hôi thối bay vào nhà dân ven kênh.",
        ]
    )
    items = [ThemeItem(i + 1, text, received_at=START + timedelta(hours=i)) for i, text in enumerate(texts)]
    vectors = np.tile(_vectors()[:1], (len(items), 1))
    found = discover_themes(items, vectors)
    theme = found.themes[0]
    assert all(re.fullmatch(r"[^\W\d_]+(?:_[^\W\d_]+)*", k) for k in theme.keywords)
    assert "{" not in theme.label and "xx" not in theme.label.lower() and "$" not in theme.label
    words = [set(q.text.lower().split()) for q in theme.summary]
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            assert len(a & b) / len(a | b) < 0.6  # never the same sentence twice


def _store(settings: Settings, db: Database, *, few_senders: str | None = None) -> dict[str, list[int]]:
    """Accept the synthetic texts and run the real analysis stages (redaction, embedding)."""
    cipher = ContactCipher(settings.fernet_key)
    ids: dict[str, list[int]] = {}
    for t, (name, texts) in enumerate(TOPICS.items()):
        batch = []
        for n, text in enumerate(texts):
            contact = Contact(email=f"p{n % 2}@example.org") if name == few_senders else None
            batch.append(
                SubmissionIn(text=text, received_at=START + timedelta(days=t, hours=n), contact=contact)
            )
        ids[name] = [a.id for a in accept(db, cipher, batch, actor="test", client=None)]
    staged = settings.model_copy(update={"stages": ["language", "normalize", "pii", "embed"]})
    assert Worker(db, build_pipeline(staged, db), staged).drain() == sum(len(v) for v in ids.values())
    return ids


def test_ids_kept_across_runs_rename_survives_and_new_items_join(settings: Settings, db: Database) -> None:
    ids = _store(settings, db)
    now = START + timedelta(days=10)
    with db.write() as session:
        _, first = refresh_themes(session, ThemeSlice(), k_anonymity=5, now=now)
    assert len(first.themes) == 3 and all(t.is_new for t in first.themes)
    flood = next(t for t in first.themes if set(t.member_ids) == set(ids["flood"]))
    with db.write() as session:
        decide(session, flood.id, "rename", actor="analyst@example.org", value="Ngập sau mưa")
        _, second = refresh_themes(session, ThemeSlice(), k_anonymity=5, now=now + timedelta(days=8))
    assert {t.id for t in second.themes} == {t.id for t in first.themes}
    renamed = next(t for t in second.themes if t.id == flood.id)
    assert renamed.label == "Ngập sau mưa" and renamed.renamed
    assert not any(t.is_new for t in second.themes)  # all were seen more than a week earlier
    with db.read() as session:
        redacted = {
            row.submission_id: row.data["redacted_text"]
            for row in session.scalars(select(AnnotationRow).where(AnnotationRow.stage == "pii"))
        }
    for theme in second.themes:
        for quote in theme.quotes:
            assert quote.text in redacted[quote.submission_id]

    # a new submission about floods joins the stored flood theme as the worker analyses it
    cipher = ContactCipher(settings.fernet_key)
    [late] = accept(
        db,
        cipher,
        [SubmissionIn(text="Phố tôi lại ngập nước sau cơn mưa tối qua, cống tắc.")],
        actor="test",
        client=None,
    )
    staged = settings.model_copy(update={"stages": ["language", "normalize", "pii", "embed"]})
    Worker(db, build_pipeline(staged, db), staged).drain()
    with db.write() as session:
        joined = session.scalars(
            select(ThemeMemberRow.theme_id).where(ThemeMemberRow.submission_id == late.id)
        ).all()
        assert joined == [flood.id]
        assert assign_new(session, [late.id]) == {}  # already placed: nothing twice


def test_themes_of_too_few_senders_are_suppressed(settings: Settings, db: Database) -> None:
    _store(settings, db, few_senders="waste")
    with db.read() as session:
        view = themes_view(session, ThemeSlice(), k_anonymity=5)
    assert view.suppressed == 1 and len(view.themes) == 2
    assert all(t.senders >= 5 for t in view.themes)
    assert not any("rác" in t.label for t in view.themes)


@pytest.fixture
def server(settings: Settings, db: Database) -> Iterator[tuple[str, str]]:
    """The real app over HTTP, with a viewer's token."""
    with db.write() as session:
        token = create_token(session, create_user(session, "viewer@example.org", "password-123", Role.viewer))
    with serving(settings) as url:
        yield url, token


def test_api_lists_themes_of_a_window_for_any_role(
    settings: Settings, db: Database, server: tuple[str, str]
) -> None:
    url, token = server
    ids = _store(settings, db, few_senders="noise")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        everything = client.get("/api/v1/themes")
        window = client.get(
            "/api/v1/themes",
            params={"from": START.isoformat(), "to": (START + timedelta(days=1)).isoformat()},
        )
        backwards = client.get("/api/v1/themes", params={"from": START.isoformat(), "to": START.isoformat()})
        anonymous = httpx.get(f"{url}/api/v1/themes", timeout=10)
    assert everything.status_code == 200, everything.text
    body = everything.json()
    assert body["suppressed"] == 1 and body["items"] == 24 and body["k_anonymity"] == 5
    assert {frozenset(t["member_ids"]) for t in body["themes"]} == {
        frozenset(ids["flood"]),
        frozenset(ids["waste"]),
    }
    for theme in body["themes"]:
        assert theme["quotes"] and all(q["submission_id"] in theme["member_ids"] for q in theme["quotes"])
    assert window.status_code == 200 and window.json()["items"] == 8  # only the floods of day one
    assert backwards.status_code == 422
    assert anonymous.status_code == 401


def test_api_decisions_are_checked_and_applied(
    settings: Settings, db: Database, server: tuple[str, str]
) -> None:
    url, viewer = server
    ids = _store(settings, db)
    with db.write() as session:
        analyst = create_token(session, create_user(session, "a@example.org", "password-123", Role.analyst))
        _, first = refresh_themes(session, ThemeSlice(), k_anonymity=5)
    by_topic = {name: next(t.id for t in first.themes if set(t.member_ids) == set(ids[name])) for name in ids}
    path = "/api/v1/themes/{}/decisions"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {analyst}"}, timeout=60) as client:
        merged = client.post(
            path.format(by_topic["waste"]), json={"action": "merge", "target_id": by_topic["flood"]}
        )
        dismissed = client.post(path.format(by_topic["noise"]), json={"action": "dismiss"})
        unknown = client.post(path.format(999_999), json={"action": "dismiss"})
        bad = client.post(path.format(by_topic["flood"]), json={"action": "explode"})
        no_name = client.post(path.format(by_topic["flood"]), json={"action": "rename"})
        too_many = client.post(path.format(by_topic["flood"]), json={"action": "split", "parts": 7})
        view = client.get("/api/v1/themes").json()
    as_viewer = httpx.post(
        f"{url}{path.format(by_topic['flood'])}",
        json={"action": "dismiss"},
        headers={"Authorization": f"Bearer {viewer}"},
        timeout=10,
    )
    assert merged.status_code == 201 and dismissed.status_code == 201, merged.text
    assert unknown.status_code == 404 and bad.status_code == 422 and no_name.status_code == 422
    assert too_many.status_code == 422 and "parts" in too_many.text
    assert as_viewer.status_code == 403
    assert view["dismissed"] == 1 and len(view["themes"]) == 1
    [theme] = view["themes"]
    assert theme["id"] == by_topic["flood"] and set(theme["member_ids"]) == set(ids["flood"]) | set(
        ids["waste"]
    )
    assert theme["senders"] == 16


def test_merge_then_split_replays_in_order_and_children_take_decisions(
    settings: Settings, db: Database
) -> None:
    ids = _store(settings, db)
    now = START + timedelta(days=10)
    with db.write() as session:
        _, first = refresh_themes(session, ThemeSlice(), k_anonymity=5, now=now)
    by_topic = {name: next(t.id for t in first.themes if set(t.member_ids) == set(ids[name])) for name in ids}
    with db.write() as session:
        decide(session, by_topic["waste"], "merge", actor="a@example.org", target_id=by_topic["flood"])
        split = decide(session, by_topic["flood"], "split", actor="a@example.org", parts=2)
        view = themes_view(session, ThemeSlice(), k_anonymity=5, now=now)
    assert split.children is not None and len(split.children) == 2
    assert not set(split.children) & {t.id for t in first.themes}
    children = [t for t in view.themes if t.split_from == by_topic["flood"]]
    # the merged theme (floods + waste) splits back along its two topics
    assert {frozenset(t.member_ids) for t in children} == {frozenset(ids["flood"]), frozenset(ids["waste"])}
    assert {t.id for t in children} == set(split.children)
    assert all(t.is_new for t in children)  # made by the split, just now
    waste_child = next(t for t in children if set(t.member_ids) == set(ids["waste"]))
    assert any("rác" in k for k in waste_child.keywords)
    with db.write() as session:
        decide(session, waste_child.id, "rename", actor="a@example.org", value="Thu gom rác")
        _, again = refresh_themes(session, ThemeSlice(), k_anonymity=5, now=now + timedelta(days=1))
    renamed = next(t for t in again.themes if t.id == waste_child.id)
    assert renamed.label == "Thu gom rác" and set(renamed.member_ids) == set(ids["waste"])
    with db.write() as session, pytest.raises(Unprocessable):
        decide(session, by_topic["noise"], "split", actor="a@example.org", parts=9)


def _cited_reply(body: dict) -> str:
    """A well-behaved model: a label, and one sentence citing the first excerpt it was shown."""
    prompt = body["messages"][1]["content"]
    first = re.findall(r"^\[(\d+)\] ", prompt, re.M)[0]
    summary = [{"text": "Người dân phản ánh cùng một vấn đề.", "cites": [int(first)]}]
    return json.dumps({"label": "Vấn đề người dân nêu", "summary": summary})


def test_generated_labels_see_only_redacted_excerpts_and_cite_members(
    settings: Settings, db: Database
) -> None:
    _store(settings, db)
    cipher = ContactCipher(settings.fernet_key)
    phone = "Gọi tôi số 0912 345 678: đường nhà tôi ngập sâu sau mưa, cống thoát nước tắc."
    accept(db, cipher, [SubmissionIn(text=phone)], actor="test", client=None)
    staged = settings.model_copy(update={"stages": ["language", "normalize", "pii", "embed"]})
    Worker(db, build_pipeline(staged, db), staged).drain()
    with fake_chat(_cited_reply) as url, db.write() as session:
        _, view = refresh_themes(session, ThemeSlice(), k_anonymity=5, llm=ChatClient(url, "m"))
        asked = len(FakeChat.requests)
        _, again = refresh_themes(session, ThemeSlice(), k_anonymity=5, llm=ChatClient(url, "m"))
        redacted = [
            row.data["redacted_text"]
            for row in session.scalars(select(AnnotationRow).where(AnnotationRow.stage == "pii"))
        ]
    assert asked == len(view.themes) == 3 and len(FakeChat.requests) == asked  # kept, not asked again
    prompts = [r["messages"][1]["content"] for r in FakeChat.requests]
    assert not any("0912" in p or "345 678" in p for p in prompts)
    for line in (ln for p in prompts for ln in p.splitlines() if re.match(r"\[\d+\] ", ln)):
        excerpt = line.split("] ", 1)[1]
        assert any(excerpt in text for text in redacted)  # only redacted text reaches the model
    for theme in again.themes:
        assert theme.generated is not None and theme.generated.label == "Vấn đề người dân nêu"
        assert theme.generated.model == "m" and theme.summary  # the extractive summary stays
        assert set(theme.generated.summary[0].submission_ids) <= set(theme.member_ids)


def test_generated_text_that_cites_nothing_shown_is_dropped(settings: Settings, db: Database) -> None:
    _store(settings, db)
    bad = {"label": "Bịa đặt", "summary": [{"text": "Một câu không có nguồn.", "cites": [99]}]}
    replies = [json.dumps(bad), "không phải JSON", 500]
    with fake_chat(lambda body: replies.pop(0) if replies else 500) as url, db.write() as session:
        _, view = refresh_themes(
            session, ThemeSlice(), k_anonymity=5, llm=ChatClient(url, "m", max_retries=0)
        )
    assert len(view.themes) == 3
    assert all(t.generated is None and t.label and t.summary for t in view.themes)


def test_keywords_leave_out_placeholders_masks_and_punctuation() -> None:
    words = content_words(
        "Gọi [PHONE] về khoản vay ID XX ngày XX/XX/2023, trả {$1000} cho [PERSON]; ngập nước!"
    )
    assert ("ngập" in words and "khoản_vay" in words) or "vay" in words
    assert not any("[" in w or "]" in w or "phone" in w or "person" in w for w in words)
    assert not any("xx" in w.split("_") or not any(c.isalpha() for c in w) for w in words)


def test_two_fresh_stores_give_the_same_themes(tmp_path) -> None:
    """The same submissions, accepted in another order (other ids) and analysed in other batches,
    give the same themes with the same sizes."""
    texts = [t for group in TOPICS.values() for t in group] + [FLOODS[0]] * 4
    views = []
    for name, order, batch in (("a", texts, 64), ("b", texts[::-1], 3)):
        settings = make_settings(f"sqlite:///{tmp_path / name}.db", worker_batch=batch)
        db = Database.from_settings(settings)
        db.upgrade()
        cipher = ContactCipher(settings.fernet_key)
        items = [
            SubmissionIn(
                text=t, received_at=START + timedelta(hours=n), contact=Contact(email=f"s{n}@example.org")
            )
            for n, t in enumerate(order)
        ]
        accept(db, cipher, items, actor="test", client=None)
        staged = settings.model_copy(update={"stages": ["language", "normalize", "pii", "embed", "dedup"]})
        Worker(db, build_pipeline(staged, db), staged).drain()
        with db.read() as session:
            view = themes_view(session, ThemeSlice(), k_anonymity=1)
            texts_of = {
                sid: text for sid, text in session.execute(select(SubmissionRow.id, SubmissionRow.text)).all()
            }
        views.append(
            sorted(
                (t.label, t.members, t.senders, sorted(texts_of[i] for i in t.member_ids))
                for t in view.themes
            )
        )
        db.dispose()
    assert views[0] == views[1]
    assert len(views[0]) >= 3


def _assert_words_with_marks(label: str, keywords: list[str], members: list[ThemeItem]) -> None:
    """The label is found verbatim in a member's text with marks (restored or typed so), and no
    keyword comes twice, with and without its marks ("ngap" beside "ngập")."""
    assert any(label.lower() in m.analysed_text.lower() and has_marks(m.analysed_text) for m in members)
    assert keywords and not any(strip_marks(k) != k and strip_marks(k) in keywords for k in keywords)


def test_twins_typed_without_marks_share_the_theme_label_and_summary_of_their_restored_text() -> None:
    """Each complaint twice, with and without marks (its restored text given, as the normalize
    stage gives it): both in one theme; the label, keywords and summary come from the restored
    text, quotes and excerpts keep the citizen's own spelling."""
    marked, gold, vectors = _items()
    unmarked = [
        ThemeItem(it.id + 1000, strip_marks(it.text), received_at=it.received_at, restored=it.text)
        for it in marked
    ]
    items = marked + unmarked
    found = discover_themes(items, np.vstack([vectors, vectors]), WITH_WORDS)
    by_id = {it.id: int(label) for it, label in zip(items, found.clustering.labels, strict=True)}
    assert all(by_id[it.id] == by_id[it.id + 1000] for it in marked)
    assert len(found.themes) == len(set(gold)) and -1 not in by_id.values()
    item_of = {it.id: it for it in items}
    for theme in found.themes:
        _assert_words_with_marks(theme.label, theme.keywords, [item_of[sid] for sid in theme.member_ids])
        for quote in theme.quotes + theme.excerpts:
            assert quote.text in item_of[quote.submission_id].text  # as typed
        for sentence in theme.summary:
            assert sentence.text in item_of[sentence.submission_id].analysed_text
        typed = [q for q in theme.excerpts if item_of[q.submission_id].restored is not None]
        assert typed and all(not has_marks(q.text) for q in typed)
        folded = [strip_marks(q.text).lower() for q in theme.quotes]
        assert len(folded) == len(set(folded))  # a twin's quote is the same quote: said once


def test_complaints_typed_without_marks_join_the_same_complaints_with_marks(
    settings: Settings, db: Database
) -> None:
    """The same complaints accepted with and without diacritics, through the real stages: the
    normalize stage restores the marks, and themes read the restored text, so each pair lands in
    one theme, labelled with marks; quotes stay verbatim in the redacted text as typed."""
    cipher = ContactCipher(settings.fernet_key)
    texts = [t for group in TOPICS.values() for t in group]
    topic_of_text = {t: name for name, group in TOPICS.items() for t in group}
    batch = [SubmissionIn(text=t, received_at=START + timedelta(hours=n)) for n, t in enumerate(texts)]
    batch += [
        SubmissionIn(text=strip_marks(t), received_at=START + timedelta(hours=n, minutes=30))
        for n, t in enumerate(texts)
    ]
    accepted = [a.id for a in accept(db, cipher, batch, actor="test", client=None)]
    twin = dict(zip(accepted[: len(texts)], accepted[len(texts) :], strict=True))
    topic = {sid: topic_of_text[t] for sid, t in zip(accepted, texts + texts, strict=True)}
    staged = settings.model_copy(update={"stages": ["language", "normalize", "pii", "embed"]})
    assert Worker(db, build_pipeline(staged, db), staged).drain() == len(batch)
    with db.read() as session:
        items, _, _, _ = load_slice(session, ThemeSlice())
        view = themes_view(session, ThemeSlice(), k_anonymity=1, params=WITH_WORDS)
    item_of = {it.id: it for it in items}
    assert all(item_of[sid].restored is None for sid in twin)
    assert all(has_marks(item_of[sid].restored or "") for sid in twin.values())
    theme_of = {sid: theme.id for theme in view.themes for sid in theme.member_ids}
    assert set(theme_of) == set(topic)  # none unassigned
    assert all(theme_of[a] == theme_of[b] for a, b in twin.items())
    one_topic_each = {(theme_of[sid], name) for sid, name in topic.items()}
    assert len(one_topic_each) == len(view.themes)
    for theme in view.themes:
        keywords = [k.replace(" ", "_") for k in theme.keywords]
        _assert_words_with_marks(theme.label, keywords, [item_of[sid] for sid in theme.member_ids])
        for quote in theme.quotes + theme.excerpts:
            assert quote.text in item_of[quote.submission_id].text
