"""The battery of tests that fits a model's domain, on one population, with verdicts.

`run_battery` takes scored rows (and the training rows as the stability reference), runs
the tests of the library for the domain, gives each a verdict under the policy and returns
the verdicts with the details a report draws (curves, bins, tables). Nothing here reads or
writes storage.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.canonical import to_plain
from bankml.core.domains import Battery, profile
from bankml.core.errors import InvalidInputError
from bankml.core.registry import Domain
from bankml.core.validation import (
    AlertFairness,
    AucSummary,
    ChampionComparison,
    FairnessTable,
    GroupAlerts,
    GroupCalibration,
    GroupSelection,
    InitialAucComparison,
    PopulationDetails,
    ProxyScore,
    SelectionFairness,
    ValidationTestResult,
    Verdict,
)
from bankml.explain import explainer_for, global_importance, sample_background
from bankml.validation import alerting, calibration, discrimination, fairness, soundness, stability
from bankml.validation.declarations import Declarations
from bankml.validation.policy import ValidationPolicy

CURVE_POINTS = 200  # charts need the shape, not every distinct score
EXPLAINABLE = "soundness.explainable"  # 1 when every input's contribution is attributed
R = TypeVar("R")
Scorer = Callable[[pd.DataFrame], FloatArray]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Population:
    """Rows to validate on: inputs, labels (1 = event), the model's scores, protected data."""

    name: str  # "out_of_time" or "sample"
    inputs: pd.DataFrame
    labels: np.ndarray
    scores: FloatArray
    protected: pd.DataFrame  # joined from the data for testing only; may have no columns
    values: FloatArray | None = None  # the amount at stake per row (the spec's source.value)
    # a case-control sample's weights (the spec's source.weight): the alert budget is read
    # on the population they stand for
    weights: FloatArray | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Reference:
    """What the population is compared with: the training rows and earlier evidence."""

    inputs: pd.DataFrame
    scores: FloatArray
    auc_initial: float | None = None  # the initial validation's AUC (ECB PD-07)
    auc_initial_source: str = ""
    champion_scores: FloatArray | None = None  # the compared version on the same rows
    champion: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryResult:
    """Verdicts and the details behind them, as the stored result holds them."""

    tests: tuple[ValidationTestResult, ...]
    details: PopulationDetails


class _Battery:
    """Collects one population's verdicts, the typed details and the chart data."""

    def __init__(self, policy: ValidationPolicy, population: Population) -> None:
        self.policy, self.population = policy, population
        self.tests: list[ValidationTestResult] = []
        self.charts: dict[str, Any] = {}
        self.auc: AucSummary | None = None
        self.auc_vs_initial: InitialAucComparison | None = None
        self.comparison: ChampionComparison | None = None
        self.fairness: list[FairnessTable] = []

    def finish(self) -> BatteryResult:
        return BatteryResult(tests=tuple(self.tests), details=PopulationDetails(
            auc=self.auc, auc_vs_initial=self.auc_vs_initial, comparison=self.comparison,
            fairness=tuple(self.fairness), charts=to_plain(self.charts)))

    def add(self, test: str, value: float, *, p_value: float | None = None,
            detail: str = "") -> None:
        threshold = self.policy.threshold(test)
        if threshold is None:
            raise InvalidInputError(f"validation policy {self.policy.policy_id}",
                                    f"thresholds.{test.split('[', 1)[0]}: missing; the "
                                    f"{self.policy.domain} battery runs this test",
                                    rule="validation_policy.complete")
        read = p_value if threshold.statistic == "p_value" else value
        self.tests.append(ValidationTestResult(
            test=test, population=self.population.name, value=float(value),
            p_value=None if p_value is None else float(p_value), threshold=threshold,
            verdict=threshold.verdict(float("nan") if read is None else float(read),
                                      p_value=p_value),
            detail=detail))


def run_battery(policy: ValidationPolicy, domain: Domain, population: Population,
                reference: Reference, *, model: Scorer, explain_model: Any,
                decision_cutoffs: dict[str, float], full: bool = True,
                declared: Declarations | None = None) -> BatteryResult:
    """Every test of the domain's battery on `population`, with verdicts under `policy`.

    `full` adds what is drawn once per run (soundness, explanations, champion comparison);
    a fresh sample gets the statistical tests only.
    """
    battery = _Battery(policy, population)
    declared = declared or Declarations()
    battery.charts["declarations"] = {"sources": dict(declared.sources),
                                      "warnings": list(declared.warnings)}
    labels, scores = population.labels, population.scores
    _discrimination(battery, reference)
    kind = profile(domain).battery
    if kind == Battery.CREDIT:
        _calibration(battery, reference)
    elif kind == Battery.ALERTING:
        _alerting(battery)
    else:
        lift = alerting.lift_table(labels, scores)
        battery.add("propensity.top_decile_lift", float(lift["lift"].iloc[0]),
                    detail=f"gain in the top decile {lift['cumulative_gain'].iloc[0]:.1%}")
        battery.charts["lift"] = lift.to_dict(orient="records")
    _stability(battery, reference)
    _fairness(battery, domain, decision_cutoffs, declared)
    if full:
        _soundness(battery, model, declared)
        _explanations(battery, reference, explain_model)
        if reference.champion_scores is not None:
            comparison = discrimination.compare_auc(labels, scores, reference.champion_scores)
            battery.add("comparison.delong", comparison.z, p_value=comparison.p_value,
                        detail=f"AUC {comparison.auc_a:.4f} vs {reference.champion} "
                        f"{comparison.auc_b:.4f}")
            battery.comparison = _record(ChampionComparison, _fields(comparison),
                                         against=reference.champion)
    return battery.finish()


def _discrimination(battery: _Battery, reference: Reference) -> None:
    labels, scores = battery.population.labels, battery.population.scores
    charts = battery.charts
    auc = discrimination.auc_delong(labels, scores)
    battery.add("discrimination.auc", auc.auc, detail=(
        f"Gini {auc.gini:.4f}, 95% CI [{2 * auc.ci_low - 1:.4f}, {2 * auc.ci_high - 1:.4f}] "
        "(DeLong; Gini = 2 AUC - 1)"))
    battery.auc = _record(AucSummary, _fields(auc))
    if reference.auc_initial is not None and "discrimination.auc_vs_initial" in \
            battery.policy.thresholds:
        change = discrimination.compare_with_initial_auc(labels, scores,
                                                         auc_initial=reference.auc_initial)
        battery.add("discrimination.auc_vs_initial", change.statistic,
                    p_value=change.p_value, detail=(
                        f"initial AUC {change.auc_initial:.4f} ({reference.auc_initial_source})"
                        f", current {change.auc_current:.4f}"))
        battery.auc_vs_initial = _record(InitialAucComparison, _fields(change),
                                         source=reference.auc_initial_source)
    if "discrimination.ks" in battery.policy.thresholds:
        ks = discrimination.ks_test(labels, scores)
        battery.add("discrimination.ks", ks.statistic, detail=f"at score {ks.threshold:.4f}")
        charts["ks"] = _fields(ks)
    roc = discrimination.roc_curve(labels, scores)
    cap = discrimination.cap_curve(labels, scores)
    charts["roc"] = _thin({"fpr": roc.false_positive_rate, "tpr": roc.true_positive_rate})
    charts["cap"] = {**_thin({"population": cap.population_share,
                               "events": cap.event_share}),
                      "accuracy_ratio": cap.accuracy_ratio}
    charts["score_distribution"] = _histograms(labels, scores)


def grade_names(master_scale: Sequence[float]) -> np.ndarray:
    """Every grade of the master scale, `G1` (best) .. `G{K}`, K = bounds + 1."""
    width = len(str(len(master_scale) + 1))
    return np.array([f"G{i + 1:0{width}d}" for i in range(len(master_scale) + 1)])


def grades_of(scores: FloatArray, master_scale: Sequence[float]) -> np.ndarray:
    """Master-scale grade labels of scores: PD at most the grade's bound."""
    index = np.searchsorted(np.asarray(master_scale, dtype=np.float64), scores, side="left")
    return grade_names(master_scale)[index]


def _calibration(battery: _Battery, reference: Reference) -> None:
    labels, charts = battery.population.labels, battery.charts
    scale, floor = battery.policy.parameters.master_scale, battery.policy.parameters.pd_floor
    policy = f"validation policy {battery.policy.policy_id}"
    if not scale:
        raise InvalidInputError(policy, "parameters.master_scale: empty; credit calibration "
                                "tests run per master-scale grade",
                                rule="validation_policy.complete")
    if floor is None:
        raise InvalidInputError(policy, "parameters.pd_floor: missing; credit calibration "
                                "tests read PDs floored as own-funds PDs are (e.g. CRR Art. "
                                "160(1): 0.03 %)", rule="validation_policy.complete")
    # A PD of exactly 0 (isotonic calibration can give one) would make one default
    # impossible: Jeffreys p = 0, Hosmer-Lemeshow undefined. The floor is what own funds use.
    scores = np.maximum(battery.population.scores, floor.value)
    floored = int(np.count_nonzero(battery.population.scores < floor.value))
    charts["pd_floor"] = {"value": floor.value, "tag": str(floor.tag), "source": floor.source,
                          "rows_floored": floored, "rows": int(scores.size)}
    note = f"; PD floor {floor.value:.4%} on {floored} rows"
    grades = grades_of(scores, scale)
    jeffreys = calibration.jeffreys_test(grades, scores, labels)
    battery.add("calibration.jeffreys_portfolio", jeffreys.portfolio.default_rate,
                p_value=jeffreys.portfolio.p_value, detail=(
                    f"PD {jeffreys.portfolio.pd:.4f}, defaults {jeffreys.portfolio.defaults}/"
                    f"{jeffreys.portfolio.n}{note}"))
    worst = min(jeffreys.grades, key=lambda g: g.p_value)
    battery.add("calibration.jeffreys_grades", worst.default_rate, p_value=worst.p_value,
                detail=f"worst grade {worst.grade}: PD {worst.pd:.4f}, defaults "
                f"{worst.defaults}/{worst.n}{note}")
    binomial = calibration.binomial_test(grades, scores, labels)
    battery.add("calibration.binomial_portfolio", binomial.portfolio.default_rate,
                p_value=binomial.portfolio.p_value, detail=note.removeprefix("; "))
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero PD with defaults: T = inf
        hosmer = calibration.hosmer_lemeshow(labels, scores, groups=grades)
    battery.add("calibration.hosmer_lemeshow", hosmer.statistic, p_value=hosmer.p_value,
                detail=f"df {hosmer.degrees_of_freedom} (master-scale grades, out of "
                f"sample){note}")
    brier = calibration.brier_score(labels, scores)
    battery.add("calibration.brier", brier.score,
                detail=f"reliability {brier.reliability:.4f}, resolution "
                f"{brier.resolution:.4f}{note}")
    light = calibration.traffic_light(int(labels.sum()), trials=int(labels.size),
                                      coverage=1.0 - float(scores.mean()))
    battery.add("calibration.traffic_light", light.cumulative_probability,
                detail=f"zone {light.zone}: {light.exceptions} defaults in "
                f"{light.trials}{note}")
    curve = calibration.calibration_curve(labels, scores, bins=10, strategy="quantile")
    charts |= {
        "grades": [_fields(g) for g in (*jeffreys.grades, jeffreys.portfolio)],
        "binomial_grades": [_fields(g) for g in binomial.grades],
        "hosmer_lemeshow": _fields(hosmer), "brier": _fields(brier),
        "traffic_light": _fields(light),
        "calibration_curve": {"predicted": curve.mean_predicted.tolist(),
                              "observed": curve.observed_rate.tolist(),
                              "count": curve.count.tolist()}}
    every_grade = grade_names(scale)
    # Empty grades count in K (ECB 2.5.5.3): a portfolio crowded into few grades of the
    # master scale is exactly the concentration the test is for.
    current = pd.Series(grades).value_counts().reindex(every_grade, fill_value=0)
    initial = pd.Series(grades_of(reference.scores, scale)).value_counts().reindex(
        every_grade, fill_value=0)
    herfindahl = stability.herfindahl_test(initial=initial.to_numpy(),
                                           current=current.to_numpy())
    battery.add("stability.concentration", herfindahl.hi_current,
                p_value=herfindahl.p_value,
                detail=f"Herfindahl {herfindahl.hi_current:.4f} now, "
                f"{herfindahl.hi_initial:.4f} on the training rows, over "
                f"{herfindahl.grades} grades")
    charts["concentration"] = {**_fields(herfindahl),
                                "counts_current": current.to_dict(),
                                "counts_initial": initial.to_dict()}


def _alerting(battery: _Battery) -> None:
    labels, scores = battery.population.labels, battery.population.scores
    params = battery.policy.parameters
    weights = battery.population.weights
    budget = alerting.alert_budget(labels, scores, budget=params.alert_budget,
                                   values=battery.population.values, weights=weights)
    alerted = (f"{budget.alerts} alerts ({budget.alert_rate:.2%})" if weights is None else
               f"{budget.alerts} rows alerted ({budget.alert_rate:.2%} of the population, "
               "sampling weights)")
    battery.add("alerting.precision_at_budget", budget.precision, detail=alerted)
    battery.add("alerting.recall_at_budget", budget.recall, detail=alerted)
    if budget.value_detection_rate is not None and \
            "alerting.value_detection_rate" in battery.policy.thresholds:
        battery.add("alerting.value_detection_rate", budget.value_detection_rate,
                    detail=f"share of the event value among {budget.alerts} alerts")
    k = min(params.top_k, labels.size)
    battery.add("alerting.precision_at_k", alerting.precision_at_k(labels, scores, k),
                detail=f"k = {k}")
    battery.charts["alert_budget"] = _fields(budget)
    battery.charts["lift"] = alerting.lift_table(labels, scores).to_dict(orient="records")


def _stability(battery: _Battery, reference: Reference) -> None:
    population = battery.population
    score_psi = stability.psi(reference.scores, population.scores)
    battery.add("stability.psi_score", score_psi.value, detail=f"{score_psi.shift}")
    columns = list(population.inputs.columns)
    csis = stability.csi(reference.inputs[columns], population.inputs[columns], columns)
    top = max(csis, key=lambda r: r.value)
    battery.add("stability.csi_max", top.value, detail=f"largest: {top.feature}")
    battery.charts["psi_bins"] = [_fields(b) for b in score_psi.bins]
    battery.charts["csi"] = [{"feature": r.feature, "value": r.value, "shift": str(r.shift)}
                             for r in csis]


def _fairness(battery: _Battery, domain: Domain, cutoffs: dict[str, float],
              declared: Declarations) -> None:
    population, params = battery.population, battery.policy.parameters
    if population.protected.columns.empty:
        return
    groups = declared.groups(population.protected)
    scores, labels = population.scores, population.labels
    combos = [list(c) for size in range(1, params.max_intersection + 1)
              for c in itertools.combinations(groups.columns, size)]
    kind = profile(domain).battery
    for columns in combos:
        attribute = " & ".join(columns)
        if kind == Battery.ALERTING:  # fairness of alerts: alert rates by group
            cut = cutoffs.get("alert_from", cutoffs.get("block_from", 0.5))
            parity = fairness.alert_parity(scores >= cut, labels, groups[columns],
                                           reference=declared.reference(columns),
                                           min_group_size=params.min_group_size)
            large = [p for p in parity if not p.is_small and math.isfinite(p.alert_rate_ratio)]
            heaviest = max(large, key=lambda p: p.alert_rate_ratio, default=None)
            alert_reference = fairness.alert_reference(parity,
                                                       reference=declared.reference(columns))
            _add_ratio(battery, f"fairness.alert_rate_ratio[{attribute}]",
                       None if heaviest is None else (heaviest.alert_rate_ratio, _Rate(
                           group=heaviest.group, rate=heaviest.alert_rate, n=heaviest.n)),
                       _Rate(group=alert_reference.group, rate=alert_reference.alert_rate,
                             n=alert_reference.n),
                       what="alerted", note=_small_note(len(large), len(parity)))
            battery.fairness.append(AlertFairness(attribute=attribute, groups=tuple(
                _record(GroupAlerts, _fields(p)) for p in parity)))
            continue
        if kind == Battery.CREDIT:  # favourable: not declined
            favourable = scores < cutoffs.get("decline_from", 0.5)
            good = 1 - labels
        else:  # favourable: selected for the offer
            favourable = scores >= cutoffs.get("alert_from", float(np.quantile(scores, 0.9)))
            good = labels
        report = fairness.fairness_by_group(
            favourable.astype(int), good, groups[columns], reference=declared.reference(columns),
            min_group_size=params.min_group_size, bootstrap_samples=params.bootstrap_samples,
            seed=params.seed)
        compared = [g for g in report.groups if not g.is_small and g.group != report.reference]
        lowest = min(compared, key=lambda g: g.impact_ratio, default=None)
        selection_reference = next(g for g in report.groups if g.group == report.reference)
        _add_ratio(battery, f"fairness.impact_ratio[{attribute}]",
                   None if lowest is None else (lowest.impact_ratio, _Rate(
                       group=lowest.group, rate=lowest.selection_rate, n=lowest.n)),
                   _Rate(group=selection_reference.group, rate=selection_reference.selection_rate,
                         n=selection_reference.n),
                   what="not declined" if kind == Battery.CREDIT else "offered",
                   note=_small_note(len(compared), len(report.groups) - 1))
        if "fairness.equal_opportunity" in battery.policy.thresholds:
            battery.add(f"fairness.equal_opportunity[{attribute}]",
                        max((abs(g.equal_opportunity_difference) for g in compared),
                            default=float("nan")), detail="largest |EOD|")
        calibration: tuple[GroupCalibration, ...] = ()
        proxies: tuple[ProxyScore, ...] = ()
        if kind == Battery.CREDIT and len(columns) == 1:
            floor = params.pd_floor.value if params.pd_floor is not None else 0.0
            calibration = tuple(_record(GroupCalibration, _fields(c))
                                for c in fairness.group_calibration(
                labels, np.maximum(scores, floor), groups[columns],
                min_group_size=params.min_group_size))
            proxies = tuple(_record(ProxyScore, _fields(p)) for p in fairness.proxy_screen(
                population.inputs, groups[columns[0]]))
        battery.fairness.append(SelectionFairness(
            attribute=attribute, reference=report.reference,
            reference_rule=report.reference_rule,
            min_max_ratio=to_plain(float(report.min_max_ratio)),
            groups=tuple(_record(GroupSelection, {str(k): v for k, v in row.items()})
                         for row in report.to_frame().to_dict(orient="records")),
            calibration=calibration, proxies=proxies))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rate:
    """One side of a fairness ratio: a group, its rate and its rows."""

    group: str
    rate: float
    n: int

    @property
    def events(self) -> int:
        # every rate here is a count over n rows, so this gives the count back exactly
        return round(self.rate * self.n)


def _add_ratio(battery: _Battery, test: str, worst_ratio: tuple[float, _Rate] | None,
               reference: _Rate, *, what: str, note: str) -> None:
    """A fairness ratio test: the worst group's ratio to the reference group, with the
    significance of its difference (FL-12), which the threshold's rule may read."""
    if worst_ratio is None:  # no group to compare: not assessable, amber
        battery.add(test, float("nan"), detail=f"reference {reference.group}; {note}")
        return
    ratio, worst = worst_ratio
    if worst.group == reference.group:  # every other group compares better: nothing to test
        battery.add(test, ratio, detail="; ".join(filter(None, [
            f"no group compares worse than the reference {reference.group}", note])))
        return
    difference = fairness.rate_difference(worst.events, worst.n, reference.events,
                                          reference.n)
    p, method = difference.p_value, difference.method
    threshold = battery.policy.threshold(test)
    held_back = threshold is not None and threshold.bounds_verdict(ratio) == \
        Verdict.RED and not threshold.is_significant(p)
    judged = (f"not significant at this sample (p = {p:.3g}, {method})" if held_back else
              f"{method} p = {p:.3g}")
    detail = (f"worst {worst.group}: {worst.events}/{worst.n} {what}, reference "
              f"{reference.group}: {reference.events}/{reference.n}; {judged}")
    battery.add(test, ratio, p_value=p, detail="; ".join(filter(None, [detail, note])))


def _small_note(compared: int, others: int) -> str:
    if compared == 0:
        return "no group besides the reference reaches the minimum size: not assessable"
    return f"{compared} of {others} groups compared" if compared < others else ""


def _soundness(battery: _Battery, model: Scorer, declared: Declarations) -> None:
    params = battery.policy.parameters
    inputs = battery.population.inputs
    rows = inputs.sample(n=min(params.soundness_rows, len(inputs)), random_state=params.seed)
    numeric = [c for c in inputs.columns if pd.api.types.is_numeric_dtype(inputs[c])
               and not pd.api.types.is_bool_dtype(inputs[c])]
    charts = battery.charts
    if numeric:
        moved = soundness.sensitivity(model, rows, numeric, delta=params.sensitivity_delta)
        worst = max(moved, key=lambda s: max(abs(s.mean_change_down), abs(s.mean_change_up)))
        battery.add("soundness.sensitivity", max(abs(worst.mean_change_down),
                                                 abs(worst.mean_change_up)),
                    detail=f"largest mean change: {worst.feature} at "
                    f"+/-{params.sensitivity_delta:g}")
        extremes = soundness.extreme_values(model, rows, numeric)
        invalid = sum(not e.is_valid for e in extremes)
        battery.add("soundness.extreme_values", invalid,
                    detail=f"{len(extremes)} grid points, {invalid} outside [0, 1]")
        charts["sensitivity"] = [_fields(s) for s in moved]
        charts["extreme_values"] = [_fields(e) for e in extremes]
    directions = {f: d for f, d in declared.monotone.items() if f in numeric}
    notes = charts.setdefault("declarations", {}).setdefault("warnings", [])
    notes += [f"{f} is declared monotone but is not a number: its direction is not tested"
              for f in declared.monotone if f not in numeric]
    if not declared.monotone:
        notes.append("no input declares a monotone direction (model.monotone in the spec): "
                     "monotonicity is not tested")
    if directions and "soundness.monotonicity" in battery.policy.thresholds:
        checks = soundness.monotonicity(model, rows, directions)
        worst_share = max(c.violating_rows / c.rows_checked for c in checks)
        battery.add("soundness.monotonicity", worst_share, detail="; ".join(
            f"{c.feature} ({c.direction:+d}): {c.violating_rows}/{c.rows_checked} rows"
            for c in checks))
        charts["monotonicity"] = [_fields(c) for c in checks]


def _explanations(battery: _Battery, reference: Reference, model: Any) -> None:
    params = battery.policy.parameters
    inputs = battery.population.inputs
    background = sample_background(reference.inputs, rows=200, seed=params.seed)
    try:
        explainer = explainer_for(model, background, features=list(inputs.columns),
                                  seed=params.seed)
    except InvalidInputError as exc:
        # Not a failed run but a finding: decline reasons and global importance cannot be
        # given for this model, and the opinion must say so.
        battery.add(EXPLAINABLE, 0.0, detail=f"not explainable: {exc} (rule {exc.rule})")
        battery.charts["explanations"] = {"error": str(exc), "rule": exc.rule}
        return
    rows = inputs.sample(n=min(params.explain_rows, len(inputs)), random_state=params.seed)
    explanation = explainer.explain(rows.reset_index(drop=True))
    battery.add(EXPLAINABLE, 1.0, detail=f"every input attributed ({explanation.method}, "
                f"{explanation.space})")
    battery.charts["explanations"] = {
        "method": str(explanation.method), "space": explanation.space,
        "rows": len(rows), "background_sha256": explanation.background_sha256,
        "explainer_version": explanation.explainer_version, "seed": explanation.seed,
        "importance": [_fields(i) for i in global_importance(explanation)]}


def _record(kind: type[R], fields: Mapping[str, object], **extra: object) -> R:
    """A stored-evidence record from a result's fields (or a table row): numpy values
    unwrapped and NaN as None, as the stored result holds them."""
    return kind(**to_plain({**fields, **extra}))


def _fields(value: Any) -> dict[str, Any]:
    """A frozen result's fields as plain numbers and text."""
    out: dict[str, Any] = {}
    for name in value.__slots__:
        item = getattr(value, name)
        if isinstance(item, np.generic):
            item = item.item()
        out[name] = item if isinstance(item, str | int | float | bool | None) else str(item)
    return out


def _thin(curves: dict[str, FloatArray]) -> dict[str, list[float]]:
    size = len(next(iter(curves.values())))
    keep = np.unique(np.linspace(0, size - 1, min(size, CURVE_POINTS)).round().astype(int))
    return {name: values[keep].tolist() for name, values in curves.items()}


def _histograms(labels: np.ndarray, scores: FloatArray, bins: int = 20) -> dict[str, Any]:
    edges = np.linspace(0.0, max(1.0, float(scores.max())), bins + 1)
    events = labels.astype(bool)
    return {"edges": edges.tolist(),
            "events": np.histogram(scores[events], edges)[0].tolist(),
            "non_events": np.histogram(scores[~events], edges)[0].tolist()}
