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


def woe_by_hand(goods: int, bads: int, total_goods: int, total_bads: int, bins: int) -> float:
    """ln(share of goods / share of bads), 0.5 added to each cell as the encoder does."""
    return math.log(((goods + 0.5) / (total_goods + 0.5 * bins))
                    / ((bads + 0.5) / (total_bads + 0.5 * bins)))


def test_a_count_that_is_mostly_zero_keeps_its_zeros_apart() -> None:
    """Quantile edges of a count that is 0 on 90% of rows all fall on 0; bins closed above
    keep the zeros in a bin of their own instead of one bin for every value."""
    counts = np.r_[np.zeros(90), np.arange(1, 11)]
    labels = np.r_[np.tile([0, 0, 1], 30), np.tile([0, 1], 5)]  # zeros: 60 goods, 30 bads
    frame = pd.DataFrame({"delinquencies": counts})

    encoder = WoeEncoder(bins=5).fit(frame, labels)
    encoded = encoder.transform(pd.DataFrame({"delinquencies": [0.0, 3.0]}))[:, 0]

    assert encoder.edges_["delinquencies"] == [0.0]
    assert encoded == pytest.approx([woe_by_hand(60, 30, 65, 35, 2),
                                     woe_by_hand(5, 5, 65, 35, 2)], abs=1e-12)


def test_edges_set_by_hand_are_the_bins() -> None:
    """`edges` cut an input where the spec says: (-inf, 2], (2, 5], (5, inf)."""
    frame = pd.DataFrame({"years": [1.0, 2.0, 3.0, 5.0, 6.0, 9.0]})
    labels = np.array([1, 1, 0, 1, 0, 0])

    encoder = WoeEncoder(edges={"years": [5.0, 2.0]}).fit(frame, labels)
    encoded = encoder.transform(pd.DataFrame({"years": [2.0, 4.0, 7.0]}))[:, 0]

    assert encoder.edges_["years"] == [2.0, 5.0]
    assert encoded == pytest.approx([woe_by_hand(0, 2, 3, 3, 3), woe_by_hand(1, 1, 3, 3, 3),
                                     woe_by_hand(2, 0, 3, 3, 3)], abs=1e-12)


def test_monotone_binning_merges_bins_until_the_woe_is_monotone() -> None:
    """Quantile bins whose WoE zig-zags are merged until it rises steadily with the value."""
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 100, 4_000)
    bad = 0.1 + 0.5 * values / 100 + np.where((values > 40) & (values < 60), 0.25, 0.0)
    frame = pd.DataFrame({"utilisation": values})
    labels = (rng.uniform(size=values.size) < bad).astype(int)

    quantile = WoeEncoder(bins=10).fit(frame, labels)
    monotone = WoeEncoder(bins=10, method="monotone").fit(frame, labels)

    def woe_in_order(encoder: WoeEncoder) -> list[float]:
        edges = encoder.edges_["utilisation"]
        return [encoder.woe_["utilisation"][f"bin{i}"] for i in range(len(edges) + 1)]

    assert np.any(np.diff(woe_in_order(quantile)) > 0)  # bads rise, WoE falls: not steadily
    assert np.all(np.diff(woe_in_order(monotone)) < 0)
    assert 2 <= len(monotone.edges_["utilisation"]) < len(quantile.edges_["utilisation"])


def test_an_encoder_stored_before_bins_were_closed_above_bins_as_it_did() -> None:
    """A fitted encoder without the new attribute (as loaded from an older artifact) keeps
    its bins [e_k, e_k+1), so registered scorecards score as they always have."""
    frame = pd.DataFrame({"amount": [1.0, 2.0, 3.0, 4.0]})
    encoder = WoeEncoder(bins=2).fit(frame, np.array([0, 0, 1, 1]))
    del encoder.closed_above_

    assert encoder._bin("amount", pd.Series([2.5, 3.0])) == ["bin1", "bin1"]
