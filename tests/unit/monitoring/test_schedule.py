"""The monitoring schedule: cron moments, and a loop driven by an injected clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from bankml.core.errors import InvalidInputError
from bankml.monitoring import schedule as schedule_module
from bankml.monitoring.schedule import Cron, Due, Schedule

MONDAY = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # a Monday, 01:00


@pytest.mark.parametrize(("text", "after", "expected"), [
    ("0 2 * * 1", MONDAY, datetime(2026, 11, 30, 2, 0, tzinfo=UTC)),
    ("0 2 * * 1", MONDAY.replace(hour=2), datetime(2026, 12, 7, 2, 0, tzinfo=UTC)),
    ("*/15 * * * *", MONDAY.replace(minute=7), MONDAY.replace(minute=15)),
    ("30 6 1 * *", MONDAY, datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
    ("0 0 29 2 *", MONDAY, datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
    ("0 9 1 * 0", MONDAY, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),  # the 1st or a Sunday
    ("0 0 * * 7", MONDAY, datetime(2026, 12, 6, 0, 0, tzinfo=UTC)),  # 7 is Sunday too
    ("5,10-12 3 * * *", MONDAY, MONDAY.replace(hour=3, minute=5)),
])
def test_the_next_moment_is_crons(text: str, after: datetime, expected: datetime) -> None:
    """Each expression's next moment is the one cron would fire at."""
    assert Cron.parse(text).next_after(after) == expected


def test_the_latest_due_moment_includes_now() -> None:
    cron = Cron.parse("0 2 * * 1")
    assert cron.latest_at_or_before(MONDAY.replace(hour=2)) == MONDAY.replace(hour=2)
    assert cron.latest_at_or_before(MONDAY) == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "message"), [
    ("0 2 * *", "has 4 fields"), ("61 * * * *", "minute '61' is outside 0-59"),
    ("0 2 * * mon", "day of week 'mon' is not a number"), ("0 0 31 2 *", "no moment"),
    ("*/0 * * * *", "outside"),
])
def test_a_bad_expression_is_named(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as refused:
        Cron.parse(text)
    assert (refused.value.field, refused.value.rule) == ("cron", "schedule.cron")


class FakeTime:
    """A clock that moves only when the schedule waits; stops after `until`."""

    def __init__(self, start: datetime, until: datetime) -> None:
        self.now, self.until, self.waits = start, until, []

    def clock(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)
        return self.now > self.until


def test_the_loop_fires_the_due_moment_then_each_next_once() -> None:
    """Started on a Monday at 01:00 with a Monday 02:00 schedule: last Monday's window,
    then this one's and the next, each once, waiting exactly until each."""
    time = FakeTime(MONDAY, until=datetime(2026, 12, 8, tzinfo=UTC))
    fired: list[datetime] = []
    Schedule(Cron.parse("0 2 * * 1"), fired.append, clock=time.clock,
             wait=time.wait).run_forever()

    assert fired == [datetime(2026, 11, 23, 2, tzinfo=UTC), datetime(2026, 11, 30, 2, tzinfo=UTC),
                     datetime(2026, 12, 7, 2, tzinfo=UTC)]
    assert time.waits[:2] == [3600.0, 7 * 86400.0]


def test_an_overrunning_run_is_followed_by_the_window_it_missed() -> None:
    """A run that takes past the next moment: that moment fires at once, no window is
    skipped and none twice."""
    time = FakeTime(MONDAY, until=MONDAY.replace(minute=10))
    fired: list[datetime] = []
    schedule: Schedule

    def slow(moment: datetime) -> None:
        fired.append(moment)
        time.now += timedelta(minutes=5 if moment == MONDAY else 0, seconds=10)

    schedule = Schedule(Cron.parse("* * * * *"), slow, clock=time.clock, wait=time.wait)
    schedule.run_forever()

    assert fired == [MONDAY.replace(minute=m) for m in range(len(fired))]
    assert len(fired) >= 6  # 01:00 overran to 01:05:10; 01:01 .. 01:05 followed at once


def test_stop_ends_the_wait() -> None:
    """stop() from another thread (the signal handler) ends the loop after the run."""
    fired: list[datetime] = []
    schedule: Schedule

    def job(moment: datetime) -> None:
        fired.append(moment)
        schedule.stop()

    schedule = Schedule(Cron.parse("0 2 * * 1"), job, clock=lambda: MONDAY)
    schedule.run_forever()

    assert len(fired) == 1
    assert schedule.is_stopped


def test_due_gives_the_latest_due_moment_first_then_each_next_once() -> None:
    """A leader looking each round: the latest moment due on its first look, nothing until
    the next moment, every moment passed since (none skipped, none twice); a lost lease
    starts over from the latest due moment."""
    due = Due(Cron.parse("0 2 * * *"))
    start = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

    first = due.take(start)
    again = due.take(start + timedelta(hours=1))
    later = due.take(start + timedelta(days=2))
    due.forget()
    restarted = due.take(start + timedelta(days=2))

    assert first == [datetime(2026, 3, 4, 2, 0, tzinfo=UTC)]
    assert again == []
    assert later == [datetime(2026, 3, 5, 2, 0, tzinfo=UTC), datetime(2026, 3, 6, 2, 0, tzinfo=UTC)]
    assert restarted == [datetime(2026, 3, 6, 2, 0, tzinfo=UTC)]


class _StopLandsAfterTheLook(threading.Event):
    """An Event whose first wait meets a stop() from a signal handler landing after the
    wait read the flag: its sleep never hears of it and lasts its whole time."""

    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        was_set = self.is_set()
        if not was_set and not self.slept:
            self.set()  # the handler, between the look and the sleep
        self.slept.append(timeout or 0.0)
        time.sleep(timeout or 0.0)  # what a sleep that missed the wakeup does
        return was_set


def test_a_stop_that_lands_between_the_look_and_the_sleep_is_heard_soon(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The default wait sleeps in slices, so a stop its sleep missed ends the loop after one
    slice, not at the next window days away (a SIGTERM once hung `monitor schedule`)."""
    monkeypatch.setattr(schedule_module, "STOP_CHECK_S", 0.01)
    fired: list[datetime] = []
    loop = Schedule(Cron.parse("0 2 * * 1"), fired.append)
    loop._stopped = _StopLandsAfterTheLook()
    running = threading.Thread(target=loop.run_forever, daemon=True)
    running.start()
    running.join(timeout=60)

    assert not running.is_alive()
    assert len(fired) == 1
    assert loop._stopped.slept == [0.01]
