"""How much the demo does: the full narrative, or `--quick`'s smaller one (for tests and a
first look). Every step runs in both, on less data and fewer weeks with --quick, which
also leaves the validation report's rendering out (the command that writes it is shown)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Scale:
    quick: bool
    weeks: int  # of simulated live traffic in the monitoring step
    per_week: int  # applications a week
    drift_from_week: int  # the first week whose inputs drift
    transactions: int  # synthetic card transactions of the feature step
    cards: int
    cases: int  # decided on each other use case's endpoint


# Monitoring needs 100 rows a week for a status (the policy's min_n; 150 keep a clean week
# clear of chance reds) and two clean weeks before the drift, so that the drift is seen
# turning the status red.
FULL = Scale(quick=False, weeks=4, per_week=150, drift_from_week=3,
             transactions=3_000, cards=200, cases=20)
QUICK = Scale(quick=True, weeks=3, per_week=150, drift_from_week=3,
              transactions=1_000, cards=100, cases=10)


def scale_for(quick: bool) -> Scale:
    return QUICK if quick else FULL
