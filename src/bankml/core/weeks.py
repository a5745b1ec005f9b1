"""ISO 8601 weeks (`2026-W49`): what the weekly production model review covers.

A week runs from Monday 00:00 UTC to the next Monday 00:00 UTC (half-open). A year has
52 or 53 ISO weeks: 2026 has a W53 (Monday 28 December 2026 to 3 January 2027), 2027 has
none; a week that does not exist is refused, never rolled into the next year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bankml.core.errors import InvalidInputError

WEEK_PATTERN = re.compile(r"(\d{4})-W(\d{2})")
FORMAT_RULE = "week.iso_format"
EXISTS_RULE = "week.exists"


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    year: int
    week: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def start(self) -> datetime:
        """Monday 00:00 UTC."""
        monday = date.fromisocalendar(self.year, self.week, 1)
        return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 UTC (exclusive)."""
        return self.start + timedelta(weeks=1)

    def previous(self) -> IsoWeek:
        return week_of(self.start - timedelta(days=1))

    def __str__(self) -> str:
        return self.label


def weeks_in(year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last."""
    return date(year, 12, 28).isocalendar().week


def parse_week(text: str) -> IsoWeek:
    """`YYYY-Www` as an ISO week; InvalidInputError naming `week` and the rule broken."""
    found = WEEK_PATTERN.fullmatch(text.strip())
    if found is None:
        raise InvalidInputError("week", f"{text!r} is not an ISO week; write it as "
                                "YYYY-Www, e.g. 2026-W49", rule=FORMAT_RULE)
    year, week = int(found[1]), int(found[2])
    if year < 1 or not 1 <= week <= weeks_in(year):
        last = weeks_in(year) if year >= 1 else 52
        raise InvalidInputError("week", f"{text!r} does not exist: {year} has ISO weeks "
                                f"W01 to W{last:02d}", rule=EXISTS_RULE)
    return IsoWeek(year, week)


def week_of(moment: datetime | date) -> IsoWeek:
    """The ISO week a moment (read in UTC) or a day falls in."""
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    iso = day.isocalendar()
    return IsoWeek(iso.year, iso.week)


__all__ = ["IsoWeek", "parse_week", "week_of", "weeks_in"]
