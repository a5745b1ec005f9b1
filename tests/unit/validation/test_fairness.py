"""Group fairness against fairlearn, hand-checked ratios, bootstrap and proxy screening."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import association
from sklearn.metrics import roc_auc_score

from bankml.core.errors import InvalidInputError
from bankml.validation.fairness import (
    FISHER_EXACT,
    TWO_PROPORTION_Z,
    alert_parity,
    alert_reference,
    cramers_v,
    fairness_by_group,
    fairness_report,
    group_calibration,
    proxy_screen,
    rate_difference,
)


def applicants(seed: int = 11, n: int = 5000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n, p=[0.4, 0.6])
    age = rng.choice(["<25", "25-60", ">60"], n, p=[0.2, 0.7, 0.1])
    good = (rng.random(n) < 0.7).astype(int)
    approve = (rng.random(n) < 0.45 + 0.25 * good - 0.08 * (sex == "female")).astype(int)
    return pd.DataFrame({"sex": sex, "age": age, "good": good, "approve": approve})


def test_rates_match_fairlearn_metricframe() -> None:
    """Selection rate, TPR and FPR per group equal fairlearn's MetricFrame."""
    data = applicants()
    frame = MetricFrame(metrics={"sr": selection_rate, "tpr": true_positive_rate,
                                 "fpr": false_positive_rate},
                        y_true=data.good, y_pred=data.approve, sensitive_features=data.sex)

    report = fairness_by_group(data.approve, data.good, data.sex, bootstrap_samples=0)

    by_group = {g.group.removeprefix("sex="): g for g in report.groups}
    for group, row in frame.by_group.iterrows():
        assert by_group[str(group)].selection_rate == pytest.approx(row.sr, abs=1e-12)
        assert by_group[str(group)].true_positive_rate == pytest.approx(row.tpr, abs=1e-12)
        assert by_group[str(group)].false_positive_rate == pytest.approx(row.fpr, abs=1e-12)


def test_min_max_ratio_and_difference_match_fairlearn() -> None:
    """min/max selection-rate ratio and max-min difference equal fairlearn's
    demographic_parity_ratio and demographic_parity_difference, on intersections too."""
    data = applicants()
    features = data[["sex", "age"]]

    report = fairness_by_group(data.approve, data.good, features, bootstrap_samples=0,
                               min_group_size=1)

    assert report.min_max_ratio == pytest.approx(demographic_parity_ratio(
        data.good, data.approve, sensitive_features=features), abs=1e-12)
    assert report.max_min_difference == pytest.approx(demographic_parity_difference(
        data.good, data.approve, sensitive_features=features), abs=1e-12)


def test_impact_ratio_and_differences_hand_example() -> None:
    """AIR, SPD, EOD, AOD and z for a 2-group example computed by hand (AIF360 defs)."""
    # reference r: 10 rows, 6 approved; outcome good for 8 of which 6 approved -> TPR 6/8,
    # FPR 0/2. group u: 10 rows, 3 approved; 5 good of which 3 approved -> TPR 3/5, FPR 0/5.
    decisions = [1] * 6 + [0] * 4 + [1] * 3 + [0] * 7
    outcomes = [1] * 8 + [0] * 2 + [1] * 5 + [0] * 5
    groups = pd.Series(["r"] * 10 + ["u"] * 10, name="g")

    report = fairness_by_group(decisions, outcomes, groups, reference="g=r",
                               bootstrap_samples=0, min_group_size=1)

    u = report.groups[1]
    pooled = 9 / 20
    z = (0.3 - 0.6) / np.sqrt(pooled * (1 - pooled) * (1 / 10 + 1 / 10))
    assert u.impact_ratio == pytest.approx(0.5, abs=1e-12)
    assert u.four_fifths_flag
    assert u.statistical_parity_difference == pytest.approx(-0.3, abs=1e-12)
    assert u.equal_opportunity_difference == pytest.approx(3 / 5 - 6 / 8, abs=1e-12)
    assert u.average_odds_difference == pytest.approx(((0 - 0) + (3 / 5 - 6 / 8)) / 2,
                                                      abs=1e-12)
    assert (u.z, u.p_value) == pytest.approx((z, 2 * stats.norm.sf(abs(z))), rel=1e-12)
    assert u.shortfall == pytest.approx(3.0)


def test_reference_defaults_to_highest_selection_rate() -> None:
    """Without a declared reference, the large group with the highest rate is used."""
    data = applicants()

    report = fairness_by_group(data.approve, data.good, data.sex, bootstrap_samples=0)

    assert (report.reference, report.reference_rule) == ("sex=male", "highest selection rate")
    assert max(g.impact_ratio for g in report.groups) == 1.0


def test_small_groups_are_flagged_not_dropped() -> None:
    """A group below the minimum size stays in the report, flagged."""
    data = applicants()

    report = fairness_by_group(data.approve, data.good, data[["sex", "age"]],
                               min_group_size=400, bootstrap_samples=0)

    small = {g.group for g in report.groups if g.is_small}
    assert len(report.groups) == 6
    assert small == {"sex=female & age=>60", "sex=male & age=>60"}


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    """The same seed gives the same intervals; another seed gives others."""
    data = applicants()

    def intervals(seed: int) -> list[object]:
        report = fairness_by_group(data.approve, data.good, data.sex, seed=seed,
                                   bootstrap_samples=300)
        return [g.impact_ratio_ci for g in report.groups]

    assert intervals(1) == intervals(1)
    assert intervals(1) != intervals(2)


def test_bootstrap_matches_row_resampling_in_distribution() -> None:
    """The multinomial cell bootstrap agrees with resampling rows (within MC error)."""
    data = applicants(n=2000)
    report = fairness_by_group(data.approve, data.good, data.sex, reference="sex=male",
                               bootstrap_samples=4000, seed=3)
    rng = np.random.default_rng(4)
    female, approve = (data.sex == "female").to_numpy(), data.approve.to_numpy()
    ratios = []
    for _ in range(4000):
        idx = rng.integers(0, len(data), len(data))
        f, a = female[idx], approve[idx]
        ratios.append(a[f].mean() / a[~f].mean())
    low, high = np.percentile(ratios, [2.5, 97.5])

    interval = next(g for g in report.groups if g.group == "sex=female").impact_ratio_ci
    assert interval is not None
    assert (interval.low, interval.high) == pytest.approx((low, high), abs=0.01)


def test_report_covers_each_attribute_and_the_intersection() -> None:
    """Two attributes give three reports; declared references carry to the intersection."""
    data = applicants()

    reports = fairness_report(data.approve, data.good, data[["sex", "age"]],
                              references={"sex": "male", "age": "25-60"},
                              bootstrap_samples=0)

    assert [(r.attribute, r.reference) for r in reports] == [
        ("sex", "sex=male"), ("age", "age=25-60"), ("sex & age", "sex=male & age=25-60")]
    assert all(r.reference_rule == "declared" for r in reports)


def test_unknown_reference_is_refused() -> None:
    """A reference group that does not exist is an error listing the groups."""
    data = applicants()

    with pytest.raises(InvalidInputError, match=r"'sex=other' is not a group"):
        fairness_by_group(data.approve, data.good, data.sex, reference="sex=other")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from("abc")),
                min_size=2, max_size=60))
def test_impact_ratio_is_never_negative(rows: list[tuple[int, int, str]]) -> None:
    """Every impact ratio is in [0, inf) or undefined (NaN) when the reference rate is 0."""
    decisions, outcomes, groups = zip(*rows, strict=True)

    report = fairness_by_group(list(decisions), list(outcomes), pd.Series(groups, name="g"),
                               bootstrap_samples=0, min_group_size=1)

    assert all(g.impact_ratio >= 0 or np.isnan(g.impact_ratio) for g in report.groups)


def test_group_calibration_uses_jeffreys_per_group() -> None:
    """Each group's p-value is the Beta CDF at its mean PD (ECB Jeffreys, per group)."""
    rng = np.random.default_rng(6)
    pds = rng.beta(2, 15, 3000)
    groups = pd.Series(rng.choice(["a", "b"], 3000), name="g")
    defaults = (rng.random(3000) < pds * np.where(groups == "b", 1.5, 1.0)).astype(int)

    rows = group_calibration(defaults, pds, groups)

    for row in rows:
        member = (groups == row.group.removeprefix("g=")).to_numpy()
        d, n = defaults[member].sum(), member.sum()
        assert row.jeffreys_p_value == pytest.approx(
            stats.beta.cdf(pds[member].mean(), d + 0.5, n - d + 0.5), abs=1e-12)


def test_cramers_v_matches_scipy() -> None:
    """Cramér's V equals SciPy's association(method='cramer')."""
    rng = np.random.default_rng(8)
    x, y = rng.choice(list("abcd"), 900), rng.choice(list("xyz"), 900)
    table = pd.crosstab(x, y).to_numpy()

    assert cramers_v(x, y) == pytest.approx(association(table, method="cramer"), abs=1e-12)


def test_proxy_screen_finds_the_proxy() -> None:
    """An input built from the attribute ranks first, with AUC equal to scikit-learn's."""
    data = applicants()
    rng = np.random.default_rng(2)
    features = pd.DataFrame({"income": rng.normal(size=len(data)),
                             "proxy": (data.sex == "female") + rng.normal(0, 0.5, len(data))})

    scores = proxy_screen(features, data.sex)

    assert scores[0].feature == "proxy"
    auc = roc_auc_score(data.sex == "female", features.proxy)
    assert scores[0].auc == pytest.approx(max(auc, 1 - auc), abs=1e-12)


def test_alert_parity_hand_example() -> None:
    """Alert-rate, FPR and precision ratios against the lowest-alert-rate group."""
    # group a: 10 rows, 2 alerts (1 SAR-worthy), 1 other SAR-worthy; group b: 10 rows,
    # 5 alerts (1 SAR-worthy), no other SAR-worthy.
    alerts = [1, 1] + [0] * 8 + [1] * 5 + [0] * 5
    sar = [1, 0, 1] + [0] * 7 + [1] + [0] * 9
    groups = pd.Series(["a"] * 10 + ["b"] * 10, name="g")

    a, b = alert_parity(alerts, sar, groups, min_group_size=1)

    assert b.alert_rate_ratio == pytest.approx(0.5 / 0.2)
    assert b.false_positive_rate_ratio == pytest.approx((4 / 9) / (1 / 8))
    assert b.precision_ratio == pytest.approx((1 / 5) / (1 / 2))
    assert a.alert_rate_ratio == 1.0


def test_alert_reference_is_the_group_alert_parity_compared_with() -> None:
    """The lowest alert rate among large groups (a smaller, lower one is not it), or the
    declared group."""
    alerts = [1] + [0] * 19 + [0] * 5 + [1] * 4 + [0] * 16  # a: 1/20, tiny: 0/5, b: 4/20
    groups = pd.Series(["a"] * 20 + ["tiny"] * 5 + ["b"] * 20, name="g")

    parity = alert_parity(alerts, [0] * 45, groups, min_group_size=10)

    assert alert_reference(parity).group == "g=a"
    assert [p.alert_rate_ratio for p in parity] == pytest.approx([1.0, 4.0, 0.0])
    assert alert_reference(parity, reference="g=b").group == "g=b"


def hand_z_p_value(x: int, n: int, y: int, m: int) -> float:
    """FL-12's pooled two-proportion z, two-sided, from its formula (erfc, not scipy)."""
    pooled = (x + y) / (n + m)
    z = (x / n - y / m) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    return math.erfc(abs(z) / math.sqrt(2))


@pytest.mark.parametrize(("table", "method"), [
    ((30, 300, 20, 1000), TWO_PROPORTION_Z),   # every expected cell >= 5
    ((25, 50, 25, 50), TWO_PROPORTION_Z),
    ((5, 50, 5, 50), TWO_PROPORTION_Z),        # expected alerted cells exactly 5: still z
    ((5, 50, 4, 50), FISHER_EXACT),            # 4.5: Fisher
    ((2, 40, 20, 1000), FISHER_EXACT),         # the small AML cell
    ((3, 98, 0, 30), FISHER_EXACT),
    ((0, 30, 0, 100), FISHER_EXACT),           # no event at all: p = 1
])
def test_rate_difference_is_z_with_large_cells_and_fisher_with_small(
        table: tuple[int, int, int, int], method: str) -> None:
    """The p-value is the hand-computed pooled z's where every expected count of the 2x2
    table is at least 5, else SciPy's two-sided Fisher exact p."""
    x, n, y, m = table

    result = rate_difference(x, n, y, m)

    expected = hand_z_p_value(x, n, y, m) if method == TWO_PROPORTION_Z else \
        stats.fisher_exact([[x, n - x], [y, m - y]], alternative="two-sided").pvalue
    assert result.method == method
    assert result.p_value == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert (result.z is None) == (method == FISHER_EXACT)


def test_rate_difference_z_is_the_one_fairness_by_group_reports() -> None:
    """The battery's significance test reuses FL-12's z of the fairness table."""
    data = applicants()
    report = fairness_by_group(data.approve, data.good, data.sex, reference="sex=male",
                               bootstrap_samples=0)
    female, male = report.groups

    result = rate_difference(round(female.selection_rate * female.n), female.n,
                             round(male.selection_rate * male.n), male.n)

    assert result.method == TWO_PROPORTION_Z
    assert result.z == pytest.approx(female.z, rel=1e-12)
    assert result.p_value == pytest.approx(female.p_value, rel=1e-12)


def test_rate_difference_refuses_counts_that_are_no_table() -> None:
    with pytest.raises(InvalidInputError, match="not a table"):
        rate_difference(5, 3, 1, 10)
