"""Top-decile lift, the propensity KPI reported at training: a hand-checked case."""

from __future__ import annotations

import numpy as np
import pytest

from bankml.training.evaluation import evaluate, top_decile_lift
from bankml.validation.alerting import lift_table

# 25 rows, 5 events (rate 0.2); the top tenth is ceil(25 / 10) = 3 rows
LABELS = np.array([0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0])
SCORES = np.full(25, 0.1)
SCORES[[1, 8, 2, 4]] = [0.9, 0.8, 0.7, 0.7]  # rows 2 and 4 tie for third place


def test_top_decile_lift_by_hand() -> None:
    """Rows 1, 8 and 2 (the earlier of the tie) hold 2 events: (2/3) / 0.2 = 10/3."""
    assert top_decile_lift(LABELS, SCORES) == pytest.approx(10 / 3, abs=1e-12)


def test_training_reports_it_by_name() -> None:
    """`top_decile_lift` in a spec's metrics is reported for each evaluated set."""
    found = evaluate(("top_decile_lift",), LABELS, SCORES, prefix="test")

    assert found == {"test.top_decile_lift": pytest.approx(10 / 3, abs=1e-12)}


def test_it_is_the_validation_tables_first_decile() -> None:
    """Training and validation agree on the first decile's lift, ties included."""
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 1_003)
    scores = np.round(rng.random(1_003) * 0.5 + 0.3 * labels, 1)  # many ties

    expected = float(lift_table(labels, scores)["lift"].iloc[0])
    assert top_decile_lift(labels, scores) == pytest.approx(expected, abs=1e-12)
