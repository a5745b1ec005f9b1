"""Fairness in production against independent references: fairlearn's selection rates and
demographic-parity ratio, SciPy's Wilson interval and chi-square test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, demographic_parity_ratio, selection_rate
from scipy import stats

from bankml.monitoring.fairness import selection_by_group, wilson_interval


def _sample(seed: int = 3) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    groups = rng.choice(["a", "b", "c"], size=2_000, p=[0.5, 0.35, 0.15]).tolist()
    rates = {"a": 0.7, "b": 0.55, "c": 0.6}
    selected = (rng.random(2_000) < np.array([rates[g] for g in groups])).astype(int)
    return selected, groups


def test_selection_rates_and_ratio_equal_fairlearn() -> None:
    """Each group's selection rate is fairlearn's, and the lowest impact ratio (against
    the highest-rate group) is fairlearn's demographic-parity ratio."""
    selected, groups = _sample()
    report = selection_by_group(selected, groups, attribute="g", bootstrap_samples=0)

    frame = MetricFrame(metrics=selection_rate, y_true=selected, y_pred=selected,
                        sensitive_features=pd.Series(groups))
    for group in report.groups:
        assert group.selection_rate == pytest.approx(frame.by_group[group.group], abs=1e-12)
    ratio = demographic_parity_ratio(selected, selected, sensitive_features=groups)
    assert min(g.impact_ratio for g in report.groups) == pytest.approx(ratio, abs=1e-12)
    assert report.reference == "a"


def test_the_wilson_interval_equals_scipy() -> None:
    """SciPy's binomtest Wilson interval, at several counts, including 0 and n."""
    for selected, n in [(8, 10), (0, 25), (25, 25), (137, 400)]:
        expected = stats.binomtest(selected, n).proportion_ci(0.95, method="wilson")
        low, high = wilson_interval(selected, n)
        assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_the_p_value_is_the_two_by_two_chi_square() -> None:
    """The pooled two-proportion z test is the uncorrected 2 x 2 chi-square test."""
    selected, groups = _sample()
    report = selection_by_group(selected, groups, attribute="g", bootstrap_samples=0)
    codes = np.asarray(groups)
    for group in ("b", "c"):
        table = [[int(selected[codes == name].sum()), int((1 - selected[codes == name]).sum())]
                 for name in ("a", group)]
        _, expected, _, _ = stats.chi2_contingency(table, correction=False)
        found = next(g for g in report.groups if g.group == group)
        assert found.p_value == pytest.approx(expected, rel=1e-9)


def test_a_small_group_is_reported_but_never_the_reference() -> None:
    """A group below the minimum size is flagged small, and the reference is the
    highest-rate large group even when the small one selects more."""
    selected = [1] * 5 + [1] * 60 + [0] * 40 + [1] * 30 + [0] * 70
    groups = ["tiny"] * 5 + ["big"] * 100 + ["other"] * 100
    report = selection_by_group(selected, groups, attribute="g", min_group_size=30,
                                bootstrap_samples=200)

    by_name = {g.group: g for g in report.groups}
    assert report.reference == "big"
    assert by_name["tiny"].is_small
    assert by_name["other"].impact_ratio == pytest.approx(0.3 / 0.6)
    low, high = by_name["other"].impact_ratio_ci or (math.nan, math.nan)
    assert low < 0.5 < high


def test_the_bootstrap_interval_is_seeded() -> None:
    """The same seed gives the same interval."""
    selected, groups = _sample()
    first = selection_by_group(selected, groups, attribute="g", seed=7)
    again = selection_by_group(selected, groups, attribute="g", seed=7)

    assert [g.impact_ratio_ci for g in first.groups] == [g.impact_ratio_ci for g in again.groups]
