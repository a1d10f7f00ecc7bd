"""Language identification: languages outside the configured list are ``und``, not forced into one."""

from __future__ import annotations

import pytest

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.language import UNDETERMINED, LanguageStage
from civicpulse.settings import Settings

OUTSIDE = {
    "pl": "Dzień dobry, chciałbym zgłosić dziurę w drodze przed szkołą, dzieci codziennie tam chodzą.",
    "cs": "Dobrý den, chtěl bych nahlásit rozbitou lampu na naší ulici, je tam večer úplná tma.",
    "tr": "Merhaba, evimizin önündeki sokak lambası bir haftadır bozuk ve akşamları çok karanlık.",
}
INSIDE = {
    "de": "Guten Tag, die Straßenlaterne vor unserem Haus ist seit einer Woche kaputt.",
    "th": "ไฟถนนหน้าบ้านเสียมาหนึ่งสัปดาห์แล้ว ตอนกลางคืนมืดมาก",
    "vi": "Đèn đường trước nhà tôi hỏng cả tuần nay, buổi tối tối om.",
    "en": "The street light in front of our house has been broken for a week.",
}


@pytest.fixture(scope="module")
def stage() -> LanguageStage:
    return LanguageStage(Settings())


def detect(stage: LanguageStage, texts: dict[str, str]) -> dict[str, str]:
    items = [AnalysisItem(id=i, text=text) for i, text in enumerate(texts.values())]
    result = stage.process(items)
    return {code: result.outputs[i].language for i, code in enumerate(texts)}  # type: ignore[attr-defined]


def test_languages_outside_the_list_are_undetermined(stage):
    assert detect(stage, OUTSIDE) == dict.fromkeys(OUTSIDE, UNDETERMINED)


def test_configured_languages_are_still_found(stage):
    assert detect(stage, INSIDE) == {code: code for code in INSIDE}


def test_a_narrower_list_makes_the_others_undetermined():
    narrow = LanguageStage(Settings(languages=["vi", "en"]))
    found = detect(narrow, {"de": INSIDE["de"], "vi": INSIDE["vi"], "pl": OUTSIDE["pl"]})
    assert found == {"de": UNDETERMINED, "vi": "vi", "pl": UNDETERMINED}
