"""A flood of unauthenticated requests is counted, not appended to the chain event by event:
the first few per minute and subject are recorded, the rest summarised once the minute is
over; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bankml import Platform
from bankml.core.errors import AuthenticationError
from bankml.core.refusals import PER_MINUTE, PER_SUBJECT
from bankml.governance import Identity
from support.trail import audit_events, verify

START = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)


@pytest.fixture
def clock() -> list[datetime]:
    return [START]


@pytest.fixture
def identity(platform: Platform, clock: list[datetime]) -> Identity:
    return Identity(platform.metadata, clock=lambda: clock[0])


def _refuse(identity: Identity, token: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            identity.authenticate(token)


def _actions(platform: Platform) -> list[str]:
    return [event.action for event in audit_events(platform)]


def test_one_subject_is_recorded_a_few_times_a_minute(platform: Platform, identity: Identity,
                                                      clock: list[datetime]) -> None:
    """Fifty malformed tokens in a minute: ten auth.refused events; the next refusal, a
    minute later, first records a summary of the forty only counted."""
    _refuse(identity, "not-a-token", 50)
    assert _actions(platform) == ["auth.refused"] * PER_SUBJECT

    clock[0] = START + timedelta(minutes=1)
    _refuse(identity, "not-a-token", 1)

    *_, summary, latest = audit_events(platform)
    assert (summary.action, summary.subject) == ("auth.refused_summary", "token:malformed")
    assert summary.payload == {"minute": "2026-03-01T10:00:00.000000Z", "refused": 50,
                               "recorded": PER_SUBJECT, "not_recorded": 50 - PER_SUBJECT}
    assert latest.action == "auth.refused"
    assert verify(platform).is_intact


def test_many_subjects_are_capped_together(platform: Platform, identity: Identity,
                                           clock: list[datetime]) -> None:
    """Made-up token ids, one per request, cannot outrun the cap: a minute records at most
    PER_MINUTE refusals of all subjects, and the rest are summarised per subject."""
    tokens = [f"bml_{index:016x}_{'A' * 43}" for index in range(PER_MINUTE + 20)]
    for token in tokens:
        _refuse(identity, token, 1)
    assert _actions(platform).count("auth.refused") == PER_MINUTE

    clock[0] = START + timedelta(minutes=1)
    _refuse(identity, "not-a-token", 1)

    summaries = [e for e in audit_events(platform) if e.action == "auth.refused_summary"]
    assert len(summaries) == 20
    assert {s.payload["not_recorded"] for s in summaries} == {1}
