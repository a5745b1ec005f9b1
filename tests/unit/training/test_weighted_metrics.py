"""Weighted metrics (a case-control sample re-weighted to its population) against an
independent reference: with whole-number weights, each row repeated that many times and
the unweighted metric computed on the repeated rows."""

from __future__ import annotations

import numpy as np
import pytest

from bankml.core.decisions import PolicyKind, make_policy
from bankml.training.evaluation import evaluate, outcome_shares
from bankml.training.spec import METRICS

RNG = np.random.default_rng(5)
LABELS = RNG.integers(0, 2, 300)
SCORES = np.round(RNG.random(300) * 0.6 + 0.4 * LABELS, 2)  # rounded: ties on purpose
WEIGHTS = RNG.integers(1, 6, 300).astype(np.float64)
REPEATED = np.repeat(np.arange(300), WEIGHTS.astype(int))


@pytest.mark.parametrize("name", [m for m in METRICS if m != "top_decile_lift"])
def test_a_weighted_metric_is_the_metric_of_the_repeated_rows(name: str) -> None:
    weighted = evaluate((name,), LABELS, SCORES, prefix="t", weights=WEIGHTS)
    repeated = evaluate((name,), LABELS[REPEATED], SCORES[REPEATED], prefix="t")

    assert weighted["t." + name] == pytest.approx(repeated["t." + name], abs=1e-12)


def test_weighted_lift_of_a_hand_checked_sample() -> None:
    """Four rows weighing 1, 1, 8, 10 (total 20): the first tenth of the weight (2) is the
    two highest scores, one of them an event: rate 1/2 against the overall 9/20."""
    labels, scores = np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.5, 0.1])
    weights = np.array([1.0, 1.0, 8.0, 10.0])

    found = evaluate(("top_decile_lift",), labels, scores, prefix="t", weights=weights)

    assert found["t.top_decile_lift"] == pytest.approx((1 / 2) / (9 / 20))


def test_weighted_outcome_shares_are_shares_of_the_weight() -> None:
    policy = make_policy(PolicyKind.ALLOW_CHALLENGE_BLOCK, version="t",
                         cutoffs={"challenge_from": 0.3, "block_from": 0.8})

    weighted = outcome_shares(policy, SCORES, prefix="t", weights=WEIGHTS)
    repeated = outcome_shares(policy, SCORES[REPEATED], prefix="t")

    assert weighted == pytest.approx(repeated, abs=1e-12)
    assert sum(weighted.values()) == pytest.approx(1.0)
