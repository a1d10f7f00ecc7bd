"""The setting ``urgency_learned``: off, the urgency stage the runtime builds keeps the rules' score,
reasons and deadline for a report the learned model would lift into the first urgent band."""

from __future__ import annotations

import datetime as dt

import pytest

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.urgency import LEARNED, UrgencyStage, add_days, load_rules
from civicpulse.annotations import UrgencyOut
from civicpulse.runtime.stages import Ports, build_stage
from civicpulse.settings import Settings

LIFTED = "Since we reported the loan sharks someone threw paint at our door and left a note"
SENT = dt.datetime(2025, 3, 7, 2, 0, tzinfo=dt.UTC)  # a Friday in Viet Nam


def assessed(settings: Settings, text: str = LIFTED) -> UrgencyOut:
    stage = build_stage("urgency", settings, Ports())
    output = stage.process([AnalysisItem(id=1, text=text, received_at=SENT)]).outputs[1]
    assert isinstance(output, UrgencyOut)
    return output


def test_off_the_rules_alone_decide_and_on_the_model_lifts(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = load_rules()
    lowest, first_urgent = rules.policy[-1], rules.policy[-2]
    on = assessed(Settings())
    monkeypatch.setenv("CIVICPULSE_URGENCY_LEARNED", "false")
    off = assessed(Settings())

    assert off.score < first_urgent.min_score <= on.score
    assert LEARNED.code not in [reason.code for reason in off.reason]
    assert on.reason[:-1] == off.reason and on.reason[-1].code == LEARNED.code
    assert off.deadline == add_days(SENT.date(), lowest.days, working=lowest.working_days).isoformat()
    assert (
        on.deadline == add_days(SENT.date(), first_urgent.days, working=first_urgent.working_days).isoformat()
    )
    assert off == UrgencyStage(Settings(), learned=False).assess(LIFTED, SENT.date())


def test_the_setting_defaults_on_and_an_explicit_choice_wins() -> None:
    assert Settings().urgency_learned is True
    assert Settings(urgency_learned=False).urgency_learned is False
    off_by_setting = UrgencyStage(Settings(urgency_learned=False))
    assert off_by_setting.learned is False
    assert UrgencyStage(Settings(urgency_learned=False), learned=True).learned is True
    lifted = UrgencyStage(Settings(urgency_learned=False), learned=True).assess(LIFTED, SENT.date())
    assert lifted == assessed(Settings(urgency_learned=True))


def test_off_leaves_what_the_rules_call_urgent_as_it_was() -> None:
    fire = "Nhà bên cạnh đang cháy lớn, lửa lan sang dãy trọ"
    assert assessed(Settings(urgency_learned=False), fire) == assessed(Settings(), fire)
    assert assessed(Settings(urgency_learned=False), fire).score >= load_rules().policy[-2].min_score
