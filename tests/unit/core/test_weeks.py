"""ISO weeks as the weekly review reads them: week 53 only where the year has one, bad
input refused naming the field and the rule."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bankml.core.errors import InvalidInputError
from bankml.core.weeks import IsoWeek, parse_week, week_of


def test_a_week_runs_monday_to_monday_utc() -> None:
    """2026-W49 starts on Monday 30 November 2026 and ends (exclusive) on 7 December."""
    week = parse_week("2026-W49")

    assert (week.start, week.end) == (datetime(2026, 11, 30, tzinfo=UTC),
                                      datetime(2026, 12, 7, tzinfo=UTC))
    assert week.label == "2026-W49"


def test_week_53_exists_in_a_year_that_has_one() -> None:
    """2026 has 53 ISO weeks: W53 runs into 2027, and the week before 2027-W01 is it."""
    week = parse_week("2026-W53")

    assert week.start.date() == date(2026, 12, 28)
    assert week.end.date() == date(2027, 1, 4)
    assert parse_week("2027-W01").previous() == week
    assert week_of(date(2027, 1, 3)) == week


def test_week_53_of_a_year_without_one_is_refused() -> None:
    """2027 has 52 weeks: its W53 is refused, not rolled into 2028."""
    with pytest.raises(InvalidInputError, match="2027 has ISO weeks W01 to W52") as refused:
        parse_week("2027-W53")

    assert (refused.value.field, refused.value.rule) == ("week", "week.exists")


@pytest.mark.parametrize("text", ["2026-49", "2026W49", "2026-W4", "W49", "2026-w49x", "",
                                  "2026-W049"])
def test_text_that_is_no_iso_week_is_refused(text: str) -> None:
    """Anything but YYYY-Www is refused with the form to use."""
    with pytest.raises(InvalidInputError, match="write it as YYYY-Www") as refused:
        parse_week(text)

    assert (refused.value.field, refused.value.rule) == ("week", "week.iso_format")


@pytest.mark.parametrize("text", ["2026-W00", "2026-W54", "0000-W01"])
def test_weeks_out_of_range_are_refused(text: str) -> None:
    """Week 0, week 54 and year 0 do not exist."""
    with pytest.raises(InvalidInputError, match="does not exist") as refused:
        parse_week(text)

    assert refused.value.rule == "week.exists"


def test_the_monday_midnight_belongs_to_its_own_week() -> None:
    """The first instant of a week is in it; the instant before is in the week before."""
    week = IsoWeek(2026, 49)

    assert week_of(week.start) == week
    assert week_of(datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC)) == week.previous()
