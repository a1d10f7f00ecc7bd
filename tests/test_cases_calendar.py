"""Working-day arithmetic of case deadlines across weekends, Tết and agencies' days off, against a
plain day-by-day count on the ``holidays`` calendar."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicpulse.cases.calendar import LOCAL_TIME, WorkingCalendar, end_of_day, local_date, start_of_day
from civicpulse.cases.deadlines import (
    CaseType,
    InvalidDeadlines,
    Period,
    capped,
    clock,
    load_policy,
    parse_policy,
)

NATIONAL = holidays.country_holidays("VN", years=range(2023, 2031))
DAYS = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2029, 12, 31))
OFF = st.lists(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 6, 30)), max_size=15)


def plain_is_working(day: dt.date, days_off: frozenset[dt.date] = frozenset()) -> bool:
    return NATIONAL.is_working_day(day) and day not in days_off


def plain_add(start: dt.date, count: int, days_off: frozenset[dt.date] = frozenset()) -> dt.date:
    day = start
    while count:
        day += dt.timedelta(days=1)
        if plain_is_working(day, days_off):
            count -= 1
    return day


@settings(max_examples=300, deadline=None)
@given(start=DAYS, count=st.integers(min_value=1, max_value=70), off=OFF)
def test_adding_working_days_matches_a_day_by_day_count(
    start: dt.date, count: int, off: list[dt.date]
) -> None:
    calendar = WorkingCalendar(off)
    assert calendar.add_working_days(start, count) == plain_add(start, count, frozenset(off))


@settings(max_examples=200, deadline=None)
@given(start=DAYS, span=st.integers(min_value=0, max_value=500), off=OFF)
def test_counting_working_days_matches_a_day_by_day_count(
    start: dt.date, span: int, off: list[dt.date]
) -> None:
    end = start + dt.timedelta(days=span)
    expected = sum(plain_is_working(start + dt.timedelta(days=i), frozenset(off)) for i in range(1, span + 1))
    assert WorkingCalendar(off).working_days_between(start, end) == expected


@settings(max_examples=200, deadline=None)
@given(
    start=DAYS, days=st.integers(min_value=1, max_value=60), working=st.booleans(), hour=st.integers(0, 23)
)
def test_a_clock_warns_at_three_quarters_and_falls_due_on_a_working_day(
    start: dt.date, days: int, working: bool, hour: int
) -> None:
    calendar = WorkingCalendar()
    received = dt.datetime.combine(start, dt.time(hour), tzinfo=LOCAL_TIME)
    found = clock(received, Period(days=days, working=working), calendar)
    due_day = local_date(found.due_at - dt.timedelta(microseconds=1))
    assert found.due_at == end_of_day(due_day)
    assert plain_is_working(due_day)
    assert received < found.warn_at < found.due_at
    if working:
        assert due_day == plain_add(start, days)
        warn_day = local_date(found.warn_at - dt.timedelta(microseconds=1))
        whole = calendar.working_days_between(start, warn_day - dt.timedelta(days=1))
        part = (found.warn_at - start_of_day(warn_day)) / dt.timedelta(days=1)
        assert plain_is_working(warn_day)
        assert whole + part == pytest.approx(0.75 * days)
    else:
        nominal = start + dt.timedelta(days=days)
        assert due_day >= nominal
        assert all(
            not plain_is_working(nominal + dt.timedelta(days=i)) for i in range((due_day - nominal).days)
        )


def test_tet_2026_and_the_weekends_around_it_are_skipped() -> None:
    # Received Friday 13 Feb 2026; Tết holidays Mon 16 - Fri 20 Feb: the 1st working day is Mon 23 Feb.
    calendar = WorkingCalendar()
    friday = dt.date(2026, 2, 13)
    assert calendar.add_working_days(friday, 1) == dt.date(2026, 2, 23)
    assert calendar.add_working_days(friday, 10) == dt.date(2026, 3, 6)
    assert calendar.working_days_between(friday, dt.date(2026, 2, 22)) == 0


def test_a_calendar_period_ending_in_tet_ends_on_the_next_working_day() -> None:
    received = dt.datetime(2026, 1, 17, 9, tzinfo=LOCAL_TIME)  # 30 days later: Mon 16 Feb, Tết
    found = clock(received, Period(days=30, working=False), WorkingCalendar())
    assert found.due_at == end_of_day(dt.date(2026, 2, 23))


def test_an_agencys_days_off_push_its_deadline() -> None:
    start = dt.date(2025, 6, 2)  # a Monday, no holiday that week
    assert WorkingCalendar().add_working_days(start, 3) == dt.date(2025, 6, 5)
    assert WorkingCalendar([dt.date(2025, 6, 4)]).add_working_days(start, 3) == dt.date(2025, 6, 6)


def test_a_swapped_saturday_is_a_working_day() -> None:
    # 26 April 2025 (Saturday) was worked in exchange for Friday 2 May.
    calendar = WorkingCalendar()
    assert calendar.is_working_day(dt.date(2025, 4, 26))
    assert not calendar.is_working_day(dt.date(2025, 5, 2))


def test_urgency_brings_a_deadline_forward_only_when_sooner() -> None:
    received = dt.datetime(2025, 6, 2, 9, tzinfo=LOCAL_TIME)
    found = clock(received, Period(days=10, working=True), WorkingCalendar())
    sooner = end_of_day(dt.date(2025, 6, 3))
    shortened = capped(found, sooner)
    assert shortened.due_at == sooner
    assert received < shortened.warn_at < sooner
    assert capped(found, found.due_at + dt.timedelta(days=3)) == found


def test_the_packaged_policy_follows_the_laws_and_topics_pick_the_type() -> None:
    policy = load_policy()
    assert policy.type_of("conduct") is CaseType.denunciation
    assert policy.type_of("land") is CaseType.complaint
    assert policy.type_of("health") is CaseType.petition
    assert policy.period(CaseType.complaint, "land", "accept") == Period(days=10, working=True)
    assert policy.period(CaseType.complaint, "land", "answer_complex").days == 45
    assert policy.period(CaseType.denunciation, "conduct", "accept") == Period(days=7, working=True)


def test_a_topic_may_set_its_own_periods() -> None:
    text = (
        (load_policy().source and "")
        + """
[types.complaint]
accept = { days = 10 }
answer = { days = 30, working = false }
answer_complex = { days = 45, working = false }
[types.denunciation]
accept = { days = 7 }
answer = { days = 30, working = false }
answer_complex = { days = 60, working = false }
[types.petition]
accept = { days = 10 }
answer = { days = 20 }
answer_complex = { days = 30 }
[types.request]
accept = { days = 5 }
answer = { days = 15 }
answer_complex = { days = 20 }
[topics.health]
type = "petition"
answer = { days = 5 }
"""
    )
    policy = parse_policy(text)
    assert policy.period(CaseType.petition, "health", "answer") == Period(days=5)
    assert policy.period(CaseType.petition, "education", "answer") == Period(days=20)
    assert policy.period(CaseType.complaint, "health", "answer").days == 30  # the override is the petition's


@pytest.mark.parametrize(
    "text",
    [
        "[types.complaint]\naccept = { days = 0 }",
        "urgent_min_score = 2",
        "[types",
        "[topics.x]\ntype = 'other'",
    ],
)
def test_a_bad_policy_is_refused_with_its_reason(text: str) -> None:
    with pytest.raises(InvalidDeadlines):
        parse_policy(text)
