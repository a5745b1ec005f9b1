"""The battery's fairness ratio tests: the worst group's ratio, judged with the significance
of its difference from the reference group (regulatory.md FL-12), counts made by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bankml.core.registry import Domain
from bankml.core.validation import ValidationTestResult, Verdict
from bankml.validation.battery import Population, Reference, run_battery
from bankml.validation.policy import default_policy

CUT = 0.5  # the decision cutoffs below alert (AML) or decline (credit) from here


def rows(cells: dict[str, tuple[int, int]]) -> tuple[np.ndarray, pd.Series]:
    """Scores and groups: per group (rows, rows at or above the cut), those first."""
    scores, groups = [], []
    for group, (n, high) in cells.items():
        scores += [0.9] * high + [0.1] * (n - high)
        groups += [group] * n
    return np.array(scores), pd.Series(groups, name="band")


def fairness_test(domain: Domain, cells: dict[str, tuple[int, int]]) -> ValidationTestResult:
    """The shipped policy's battery on the rows; the model's labels are its own decisions
    with every tenth row flipped, so both classes are there."""
    scores, groups = rows(cells)
    labels = (scores >= CUT).astype(np.int64)
    labels[::10] = 1 - labels[::10]
    inputs = pd.DataFrame({"x": scores})
    population = Population(name="out_of_time", inputs=inputs, labels=labels, scores=scores,
                            protected=groups.to_frame())
    cutoffs = {"alert_from": CUT} if domain == Domain.AML else {"decline_from": CUT}
    result = run_battery(default_policy(domain), domain, population,
                         Reference(inputs=inputs, scores=scores),
                         model=lambda frame: frame["x"].to_numpy(), explain_model=None,
                         decision_cutoffs=cutoffs, full=False)
    name = "alert_rate_ratio" if domain == Domain.AML else "impact_ratio"
    [test] = [t for t in result.tests if t.test == f"fairness.{name}[band]"]
    return test


def pooled_z_p_value(x: int, n: int, y: int, m: int) -> float:
    pooled = (x + y) / (n + m)
    z = (x / n - y / m) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    return math.erfc(abs(z) / math.sqrt(2))


def test_a_large_significant_alert_rate_disparity_is_red() -> None:
    """30/300 alerted against 20/1000: ratio 5, every expected cell >= 5, the z test's
    p far below 0.05: red, as without the rule."""
    test = fairness_test(Domain.AML, {"a": (1000, 20), "b": (300, 30)})

    assert test.value == pytest.approx(5.0, abs=1e-12)
    assert test.p_value == pytest.approx(pooled_z_p_value(30, 300, 20, 1000), rel=1e-12)
    assert test.verdict == Verdict.RED
    assert test.detail.startswith("worst band=b: 30/300 alerted, reference band=a: 20/1000; "
                                  "two-proportion z p = ")


def test_a_small_cell_disparity_that_chance_explains_is_amber() -> None:
    """2/40 alerted against 20/1000: ratio 2.5, beyond the amber bound 1.5, but the cell
    is small (Fisher exact) and p is about 0.2: amber, and the detail says why."""
    test = fairness_test(Domain.AML, {"a": (1000, 20), "b": (40, 2)})

    fisher = stats.fisher_exact([[2, 38], [20, 980]], alternative="two-sided").pvalue
    assert test.value == pytest.approx(2.5, abs=1e-12)
    assert test.p_value == pytest.approx(fisher, rel=1e-12)
    assert fisher > 0.05
    assert test.verdict == Verdict.AMBER
    assert f"not significant at this sample (p = {fisher:.3g}, Fisher exact)" in test.detail


def test_parity_within_the_green_bound_stays_green() -> None:
    """7/300 alerted against 20/1000: ratio 1.17, green, whatever its p-value."""
    test = fairness_test(Domain.AML, {"a": (1000, 20), "b": (300, 7)})

    assert test.value == pytest.approx((7 / 300) / (20 / 1000), abs=1e-12)
    assert test.p_value == pytest.approx(pooled_z_p_value(7, 300, 20, 1000), rel=1e-12)
    assert test.verdict == Verdict.GREEN


def test_groups_alerted_alike_compare_with_nothing_to_test() -> None:
    """Equal rates: the heaviest group is the reference itself, ratio 1, green."""
    test = fairness_test(Domain.AML, {"a": (1000, 20), "b": (300, 6)})

    assert (test.value, test.p_value, test.verdict) == (1.0, None, Verdict.GREEN)
    assert test.detail == "no group compares worse than the reference band=a"


def test_a_significant_adverse_impact_in_credit_is_red() -> None:
    """Approved (below the decline cutoff): 120/200 against 720/800, AIR 0.667 < 0.7 and
    significant: red; the p-value is the z test's on the approval rates."""
    test = fairness_test(Domain.CREDIT, {"a": (800, 80), "b": (200, 80)})

    assert test.value == pytest.approx((120 / 200) / (720 / 800), abs=1e-12)
    assert test.p_value == pytest.approx(pooled_z_p_value(120, 200, 720, 800), rel=1e-12)
    assert test.verdict == Verdict.RED
    assert test.detail.startswith("worst band=b: 120/200 not declined, reference band=a: "
                                  "720/800; two-proportion z p = ")


def test_a_small_group_adverse_impact_that_chance_explains_is_amber() -> None:
    """Approved 3/30 against 6/30: AIR 0.5, beyond 0.7, but 4.5 approvals expected per
    group (Fisher exact) and p about 0.47: amber, not red."""
    test = fairness_test(Domain.CREDIT, {"a": (30, 24), "b": (30, 27)})

    fisher = stats.fisher_exact([[3, 27], [6, 24]], alternative="two-sided").pvalue
    assert test.value == pytest.approx(0.5, abs=1e-12)
    assert test.p_value == pytest.approx(fisher, rel=1e-12)
    assert test.verdict == Verdict.AMBER
    assert f"not significant at this sample (p = {fisher:.3g}, Fisher exact)" in test.detail
