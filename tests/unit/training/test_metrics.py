"""Evaluation numbers against independent references: SciPy, and a hand-checked WoE table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bankml.training.evaluation import METRIC_FUNCTIONS, evaluate, ks_statistic
from bankml.training.woe import WoeEncoder

RNG = np.random.default_rng(11)
LABELS = RNG.integers(0, 2, 500)
SCORES = np.round(RNG.random(500) * 0.7 + 0.3 * LABELS, 2)  # rounded: ties on purpose


def test_ks_matches_scipy() -> None:
    """KS equals SciPy's two-sample statistic between bads' and goods' scores."""
    expected = stats.ks_2samp(SCORES[LABELS == 1], SCORES[LABELS == 0]).statistic

    assert ks_statistic(LABELS, SCORES) == pytest.approx(expected, abs=1e-12)


def test_gini_matches_somers_d() -> None:
    """Gini equals Somers' D of the score given the label (SciPy)."""
    expected = stats.somersd(LABELS, SCORES).statistic

    assert METRIC_FUNCTIONS["gini"](LABELS, SCORES) == pytest.approx(expected, abs=1e-9)


def test_evaluate_gives_each_metric_function_exactly() -> None:
    """Sharing one ROC curve among AUC, Gini and KS changes no bit of any metric."""
    names = tuple(METRIC_FUNCTIONS)

    found = evaluate(names, LABELS, SCORES, prefix="test")

    assert found == {f"test.{name}": METRIC_FUNCTIONS[name](LABELS, SCORES) for name in names}


def test_woe_matches_a_hand_computed_table() -> None:
    """A: 3 goods 1 bad, B: 1 good 3 bads; with 0.5 smoothing WoE is +-ln(7/3)."""
    frame = pd.DataFrame({"housing": ["A", "A", "A", "A", "B", "B", "B", "B"]})
    labels = np.array([0, 0, 0, 1, 0, 1, 1, 1])

    encoded = WoeEncoder(bins=5).fit(frame, labels).transform(
        pd.DataFrame({"housing": ["A", "B", "never seen"]}))

    assert encoded[:, 0] == pytest.approx([math.log(7 / 3), -math.log(7 / 3), 0.0], abs=1e-12)


def test_woe_bins_numbers_at_training_quantiles() -> None:
    """Numbers fall in quantile bins; a missing value has a bin of its own."""
    frame = pd.DataFrame({"amount": [1.0, 2.0, 3.0, 4.0, np.nan, np.nan]})
    labels = np.array([0, 0, 1, 1, 1, 0])

    encoder = WoeEncoder(bins=2).fit(frame, labels)

    assert encoder.edges_["amount"] == [2.5]
    assert set(encoder.woe_["amount"]) == {"bin0", "bin1", "__missing__"}
    assert encoder.woe_["amount"]["__missing__"] == pytest.approx(0.0, abs=1e-12)
