"""A logged decision made again, and how it compares with the record."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bankml.core.decisions import DecisionRecord

# Scoring one row and scoring it inside a batch may differ in the last bits (BLAS sums in
# another order); regulators accept |delta| <= 1e-9 for such models (TR-02).
REPLAY_TOLERANCE = 1e-9


def reasons_of(record: DecisionRecord) -> tuple[str, ...]:
    """The reason codes a record holds, in the order they were given."""
    described = json.loads(record.reasons_json)
    codes = described.get("codes", []) if isinstance(described, dict) else []
    return tuple(str(item["code"]) for item in codes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Replay:
    """A logged decision scored again from its recorded artifact and inputs."""

    record: DecisionRecord
    score: float
    outcome: str
    reasons: tuple[str, ...] | None = None  # None: the endpoint gives no reasons

    @property
    def delta(self) -> float:
        return abs(self.score - self.record.score)

    @property
    def reasons_equal(self) -> bool:
        return self.reasons is None or self.reasons == reasons_of(self.record)

    @property
    def is_bitwise_identical(self) -> bool:
        return (self.score == self.record.score and self.outcome == self.record.outcome
                and self.reasons_equal)

    @property
    def is_identical(self) -> bool:
        """Same decision and reasons, and the score equal within `REPLAY_TOLERANCE`."""
        return (self.delta <= REPLAY_TOLERANCE and self.outcome == self.record.outcome
                and self.reasons_equal)
