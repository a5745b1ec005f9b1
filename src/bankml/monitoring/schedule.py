"""Monitoring on a schedule: a cron expression, and a loop that runs each window once.

`Cron` reads the five classic fields (minute, hour, day of month, month, day of week:
`*`, numbers, `a-b` ranges, `*/n` or `a-b/n` steps and comma lists; day of week 0-7,
both 0 and 7 Sunday; when day of month and day of week are both restricted, either one
matches, as in cron). `Schedule` fires at each moment the expression names: the window of
that fire ends at its moment, so a restart or a retry asks for the same window, which the
monitor measures once. On start it fires the latest moment already due (a window missed
while the process was down is measured; one measured already is only read back), then
each next moment in turn: a run that overruns the next moment is followed at once by
that moment's run, so no window is skipped. `stop()` (SIGTERM, in the CLI) ends the wait
at once; a run in progress finishes first. Time comes from an injected clock and waits go through an
injected `wait`, so tests drive the loop without sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bankml.core.canonical import utc_timestamp
from bankml.core.errors import BankmlError, InvalidInputError
from bankml.core.identity import SYSTEM, Principal
from bankml.core.ports import MetadataStore

if TYPE_CHECKING:  # the runs load pandas: `bankml --help` must not
    from bankml.monitoring.runs import Monitor

log = logging.getLogger(__name__)

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
           ("day of week", 0, 7))
STOP_CHECK_S = 1.0  # the longest a stop from a signal handler can go unheard
HORIZON_DAYS = 366 * 5  # a valid expression fires within this (29 February included)


@dataclass(frozen=True, slots=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 Sunday .. 6 Saturday
    any_day: bool  # day of month is *
    any_weekday: bool  # day of week is *

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != len(_FIELDS):
            raise InvalidInputError("cron", f"{text!r} has {len(parts)} fields; give five: "
                                    "minute hour day-of-month month day-of-week "
                                    "(e.g. '0 2 * * 1')", rule="schedule.cron")
        sets = [_field(part, name, low, high)
                for part, (name, low, high) in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        cron = cls(text=text, minutes=sets[0], hours=sets[1], days=sets[2], months=sets[3],
                   weekdays=weekdays, any_day=parts[2] == "*", any_weekday=parts[4] == "*")
        cron.next_after(datetime(2000, 1, 1, tzinfo=UTC))  # fires at all (not 31 February)
        return cron

    def _day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        in_month, in_week = day.day in self.days, (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, moment: datetime) -> datetime:
        """The first moment strictly after `moment` (UTC, whole minutes) that it names."""
        start = (moment.astimezone(UTC) + timedelta(minutes=1)).replace(second=0,
                                                                        microsecond=0)
        day = start.replace(hour=0, minute=0)
        for _ in range(HORIZON_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        found = day.replace(hour=hour, minute=minute)
                        if found >= start:
                            return found
            day += timedelta(days=1)
        raise InvalidInputError("cron", f"{self.text!r} names no moment in five years",
                                rule="schedule.cron")

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The last moment at or before `moment` that it names."""
        end = moment.astimezone(UTC).replace(second=0, microsecond=0)
        day = end.replace(hour=0, minute=0)
        for _ in range(HORIZON_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours, reverse=True):
                    for minute in sorted(self.minutes, reverse=True):
                        found = day.replace(hour=hour, minute=minute)
                        if found <= end:
                            return found
            day -= timedelta(days=1)
        raise InvalidInputError("cron", f"{self.text!r} names no moment in five years",
                                rule="schedule.cron")


def _field(part: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for item in part.split(","):
        body, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                first, last = low, high
            elif "-" in body:
                first, last = (int(v) for v in body.split("-", 1))
            else:
                first = int(body)
                last = high if step_text else first
        except ValueError:
            raise InvalidInputError("cron", f"{name} {item!r} is not a number, range, list "
                                    "or step", rule="schedule.cron") from None
        if not low <= first <= last <= high or step < 1:
            raise InvalidInputError("cron", f"{name} {item!r} is outside {low}-{high}",
                                    rule="schedule.cron")
        values.update(range(first, last + 1, step))
    return frozenset(values)


class Schedule:
    """Fires `job(moment)` at every moment of `cron` until stopped."""

    def __init__(self, cron: Cron, job: Callable[[datetime], None], *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 wait: Callable[[float], bool] | None = None) -> None:
        """`wait(seconds)` blocks up to `seconds` and returns True once stopped (default:
        waiting on the stop event, in slices of `STOP_CHECK_S`)."""
        self._cron, self._job, self._clock = cron, job, clock
        self._stopped = threading.Event()
        self._wait = wait or self._wait_for_stop

    def stop(self) -> None:
        self._stopped.set()

    def _wait_for_stop(self, seconds: float) -> bool:
        # In slices: `stop()` from a signal handler runs on the waiting thread itself, and
        # if it lands between Event.wait's look at the flag and its sleep, that sleep never
        # hears of it; the loop looks at the flag again after each slice.
        return self._stopped.wait(min(seconds, STOP_CHECK_S))

    @property
    def is_stopped(self) -> bool:
        return self._stopped.is_set()

    def run_forever(self) -> None:
        """Fire the latest due moment, then each next one, until `stop()`."""
        moment = self._cron.latest_at_or_before(self._clock())
        while not self._stopped.is_set():
            self._job(moment)
            moment = self._cron.next_after(moment)
            while not self._stopped.is_set():
                remaining = (moment - self._clock()).total_seconds()
                if remaining <= 0:
                    break
                if self._wait(remaining):
                    self._stopped.set()


class Due:
    """The cron moments due since last asked, for a caller that looks now and then (the
    rollout controller's leader, each round) rather than waiting in a loop of its own. The
    first look gives the latest moment already due, as `Schedule` does on start."""

    def __init__(self, cron: Cron) -> None:
        self._cron = cron
        self._next: datetime | None = None

    def take(self, now: datetime) -> list[datetime]:
        due: list[datetime] = []
        if self._next is None:
            latest = self._cron.latest_at_or_before(now)
            due.append(latest)
            self._next = self._cron.next_after(latest)
        while self._next <= now:
            due.append(self._next)
            self._next = self._cron.next_after(self._next)
        return due

    def forget(self) -> None:
        """Leadership lost: whoever leads next starts from the latest due moment again."""
        self._next = None


class LeaderSchedule:
    """Monitoring on a cron inside `bankml serve`: the rollout controller calls `tick` each
    round while it holds its lease, so one process among workers and replicas fires. Runs
    go to a thread of their own (a retraining takes minutes; the lease must be renewed
    meanwhile), one fire at a time; each is audited as `monitoring.scheduled` with the
    lease holder and the runs it measured (a window measured before is only read back).
    `workers` (BANKML_MONITOR_WORKERS) measure the endpoints of a fire at once."""

    def __init__(self, metadata: MetadataStore, monitor: Monitor, cron: Cron, *,
                 window_days: int, by: Principal = SYSTEM, workers: int = 1) -> None:
        self._metadata, self._monitor, self._by = metadata, monitor, by
        self._cron, self._window_days, self._workers = cron, window_days, workers
        self._due = Due(cron)
        self._thread: threading.Thread | None = None

    def tick(self, now: datetime, *, holder: str) -> None:
        if self._thread is not None and self._thread.is_alive():
            return  # the fire before is still running; its moments are not lost
        moments = self._due.take(now)
        if moments:
            self._thread = threading.Thread(target=self._fire, args=(moments, holder),
                                            name="monitor-schedule", daemon=True)
            self._thread.start()

    def lost(self) -> None:
        self._due.forget()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _fire(self, moments: list[datetime], holder: str) -> None:
        for moment in moments:
            began = utc_timestamp(datetime.now(UTC))
            try:
                runs = self._monitor.run(self._by, window_days=self._window_days,
                                         as_of=moment, workers=self._workers)
            except BankmlError as failed:  # the next window is tried all the same
                log.warning("scheduled monitoring to %s failed: %s", moment, failed)
                continue
            with self._metadata.transaction() as tx:
                tx.audit.record(self._by.name, "monitoring.scheduled", "schedule:monitoring", {
                    "cron": self._cron.text, "window_end": utc_timestamp(moment),
                    "window_days": self._window_days, "holder": holder,
                    "runs": [r.run_id for r in runs],
                    "measured": [r.run_id for r in runs if r.created_at >= began]})
