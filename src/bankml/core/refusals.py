"""How unauthenticated refusals reach the audit trail without letting a flood fill it.

Anyone can send a request with no token or a made-up one; recording each refusal as an
audit event would let them grow the chain, and hold its head, at will. In each minute the
first `PER_SUBJECT` refusals of one subject (`token:none`, `token:<id>`, ...) and the
first `PER_MINUTE` of all are recorded as `auth.refused` events; the rest are counted.
Once the minute has passed, the next refusal (or anchor) records one
`auth.refused_summary` event per subject that had refusals left uncounted in the chain,
with how many, and the counts are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bankml.core.canonical import utc_timestamp

PER_SUBJECT = 10  # refusals of one subject recorded per minute
PER_MINUTE = 100  # refusals of all subjects together recorded per minute
ALL_SUBJECTS = "*"


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusalCount:
    window: str  # the minute's start, canonical UTC text
    subject: str
    refused: int
    recorded: int

    @property
    def unrecorded(self) -> int:
        return self.refused - self.recorded


def window_of(moment: datetime) -> str:
    """The start of `moment`'s minute, as canonical UTC text."""
    return utc_timestamp(moment.astimezone(UTC).replace(second=0, microsecond=0))


def is_recorded(of_subject: int, of_all: int) -> bool:
    """Whether the refusal counted as number `of_subject` of its subject and `of_all` of
    the minute becomes an audit event."""
    return of_subject <= PER_SUBJECT and of_all <= PER_MINUTE
