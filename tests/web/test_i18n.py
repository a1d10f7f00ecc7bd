"""UI strings: both languages complete, every key the pages use exists; language and redirect choices."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civicpulse.domain import AnalysisState, CaseStatus, Channel
from civicpulse.web import i18n
from civicpulse.web.auth_pages import safe_next

WEB = Path(i18n.__file__).parent
USED_KEY = re.compile(r"""(?:\bt|translator\(request\))\(\s*["']([a-z0-9_.]+)["']""")


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    assert set(i18n.VI) == set(i18n.EN)
    placeholder = re.compile(r"\{(\w+)\}")
    for key in i18n.VI:
        assert set(placeholder.findall(i18n.VI[key])) == set(placeholder.findall(i18n.EN[key])), key


def test_every_key_used_by_templates_and_views_exists() -> None:
    sources = [*WEB.glob("templates/*.html"), *(p for p in WEB.glob("*.py") if p.name != "i18n.py")]
    found = {key for path in sources for key in USED_KEY.findall(path.read_text(encoding="utf-8"))}
    used = {key for key in found if not key.endswith(".")}  # "channel." ~ value: checked below
    assert len(used) > 80
    assert sorted(used - set(i18n.VI)) == []
    dynamic = [f"channel.{c.value}" for c in Channel] + [f"status.{s.value}" for s in CaseStatus]
    dynamic += [f"analysis.{a.value}" for a in AnalysisState] + [f"lang.{code}" for code in i18n.LANGUAGES]
    assert sorted(set(dynamic) - set(i18n.VI)) == []


def test_translator_formats_and_falls_back() -> None:
    english = i18n.Translator("en")
    assert english("inbox.count", count=3) == "3 submissions"
    assert i18n.Translator("xx")("nav.inbox") == "Hộp thư phản ánh"
    assert english("no.such.key") == "no.such.key"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.4, vi;q=0.8", "vi"),
        ("de, fr", None),
        ("en;q=0", None),
        ("en;q=abc, vi", "vi"),
        ("", None),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert i18n._from_accept_language(header) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/submissions/3?lang=en", "/submissions/3?lang=en"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
        (None, "/"),
    ],
)
def test_only_local_paths_are_followed_after_sign_in(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
