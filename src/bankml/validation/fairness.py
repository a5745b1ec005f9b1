"""Group fairness of decisions and alerts, by protected attribute and their intersections.

Notation (regulatory.md section 4.2, IBM AIF360 definitions): `decisions` are 1 for the
favourable decision (approve); `outcomes` are 1 for the good outcome (repaid). Per group g:
selection rate `SR_g = P(decision = 1 | g)`, `TPR_g = P(decision = 1 | outcome = 1, g)`,
`FPR_g = P(decision = 1 | outcome = 0, g)`. Every group is compared with one reference
group r, named in the result:

- adverse impact ratio `AIR_g = SR_g / SR_r`; four-fifths flag when AIR_g < 0.8
  (29 CFR 1607.4(D)). The reference is the declared one, else the group with the highest
  selection rate among groups of at least the minimum size (UGESP). The symmetric
  `min_max_ratio` = min_g SR_g / max_g SR_g (Fairlearn's demographic_parity_ratio) is
  reported alongside.
- `SPD_g = SR_g - SR_r`, `EOD_g = TPR_g - TPR_r`, `AOD_g = ((FPR_g - FPR_r) + EOD_g) / 2`.
- two-proportion z of SR_g against SR_r with the pooled rate, and the shortfall
  `n_g (SR_r - SR_g)` (regulatory.md FL-12).
- `rate_difference`: whether one group's rate differs from the reference's beyond chance,
  by the pooled two-proportion z where every expected cell of the 2x2 table holds at
  least 5, else by Fisher's exact test (two-sided), as FL-12 asks for small cells. The
  battery reads it for the worst group of each ratio test.

Groups smaller than `min_group_size` are kept and flagged `is_small`, never dropped.
Bootstrap intervals resample rows with replacement; because every metric here is a
function of the counts in the cells (group, outcome, decision), a row bootstrap is drawn
exactly as a multinomial draw of those cell counts, which is what we do: seeded, and
independent of the number of rows.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankml.arrays import FloatArray, IntArray
from bankml.core.errors import InvalidInputError
from bankml.validation.calibration import jeffreys_p_value
from bankml.validation.discrimination import auc_delong
from bankml.validation.samples import (
    binary_labels,
    column_list,
    group_codes,
    probabilities,
    share,
)

FOUR_FIFTHS = 0.8
# the usual validity rule of the normal approximation to a 2x2 table: below it, Fisher exact
MIN_EXPECTED_CELL = 5.0
TWO_PROPORTION_Z = "two-proportion z"
FISHER_EXACT = "Fisher exact"
# cell order inside a group: (outcome, decision) = (0,0), (0,1), (1,0), (1,1)
_CELLS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """A bootstrap percentile interval."""

    low: float
    high: float


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupFairness:
    """One group's rates and its comparison with the reference group."""

    group: str
    n: int
    is_small: bool  # fewer rows than the minimum group size: read with care
    selection_rate: float
    true_positive_rate: float
    false_positive_rate: float
    impact_ratio: float  # SR_g / SR_ref
    four_fifths_flag: bool  # impact_ratio < 0.8
    statistical_parity_difference: float
    equal_opportunity_difference: float
    average_odds_difference: float
    z: float  # two-proportion z of SR_g vs SR_ref
    p_value: float  # two-sided
    shortfall: float  # n_g (SR_ref - SR_g): favourable decisions missing for parity
    impact_ratio_ci: Interval | None = None
    statistical_parity_difference_ci: Interval | None = None
    equal_opportunity_difference_ci: Interval | None = None
    average_odds_difference_ci: Interval | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessReport:
    """Fairness of one attribute (or intersection) against a named reference group."""

    attribute: str  # column name, or "a & b" for an intersection
    reference: str
    reference_rule: str  # "declared" or "highest selection rate"
    groups: tuple[GroupFairness, ...]
    min_max_ratio: float  # min SR / max SR over groups of at least the minimum size
    max_min_difference: float  # max SR - min SR over the same groups
    min_group_size: int
    bootstrap_samples: int
    confidence: float
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """One row per group, intervals as `_low`/`_high` columns."""
        rows = []
        for group in self.groups:
            row: dict[str, object] = {}
            for field in GroupFairness.__slots__:
                value = getattr(group, field)
                if field.endswith("_ci"):
                    row[f"{field[:-3]}_low"] = None if value is None else value.low
                    row[f"{field[:-3]}_high"] = None if value is None else value.high
                else:
                    row[field] = value
            rows.append(row)
        return pd.DataFrame(rows)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateDifference:
    """Whether a group's rate differs from the reference group's beyond chance (FL-12)."""

    method: str  # TWO_PROPORTION_Z or FISHER_EXACT
    p_value: float  # two-sided
    z: float | None  # the pooled z, when the method is the z test
    min_expected: float  # the smallest expected cell count of the 2x2 table


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupCalibration:
    """Observed against predicted default rate in one group (PD-32 / FL-17)."""

    group: str
    n: int
    is_small: bool
    mean_pd: float
    default_rate: float
    difference: float  # default_rate - mean_pd; positive means under-prediction
    jeffreys_p_value: float  # small means the group's PD underestimates its defaults


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyScore:
    """How well one input predicts a protected attribute (FL-15)."""

    feature: str
    auc: float | None  # numeric inputs: max over groups of one-vs-rest max(AUC, 1 - AUC)
    cramers_v: float  # association of the (binned) input with the attribute


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertParity:
    """One group's alert burden and alert quality against the reference (FL-20..22)."""

    group: str
    n: int
    is_small: bool
    alert_rate: float
    alert_rate_ratio: float
    false_positive_rate: float  # P(alert | not SAR-worthy)
    false_positive_rate_ratio: float
    precision: float  # SAR-worthy alerts / alerts
    precision_ratio: float


def cell_counts(decisions: npt.ArrayLike, outcomes: npt.ArrayLike, codes: IntArray,
                groups: int) -> IntArray:
    """Counts per group and (outcome, decision) cell: shape (groups, 4), one bincount."""
    decided = binary_labels("decisions", decisions, both_classes=False)
    good = binary_labels("outcomes", outcomes, both_classes=False)
    if decided.size != codes.size or good.size != codes.size:
        raise InvalidInputError("outcomes", f"decisions ({decided.size}), outcomes "
                                f"({good.size}) and groups ({codes.size}) differ in length",
                                rule="validation.same_length")
    key = codes * _CELLS + good.view(np.uint8) * 2 + decided.view(np.uint8)
    return np.bincount(key, minlength=groups * _CELLS).reshape(groups, _CELLS)


def _rates(counts: npt.NDArray[np.int64] | FloatArray) -> tuple[FloatArray, ...]:
    """n, SR, TPR, FPR, precision from cell counts (..., groups, 4); NaN where undefined."""
    c = counts.astype(np.float64)
    n = c.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        selection = (c[..., 1] + c[..., 3]) / n
        tpr = c[..., 3] / (c[..., 2] + c[..., 3])
        fpr = c[..., 1] / (c[..., 0] + c[..., 1])
        precision = c[..., 3] / (c[..., 1] + c[..., 3])
    return n, selection, tpr, fpr, precision


def _comparisons(counts: npt.NDArray[np.int64] | FloatArray,
                 ref: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """AIR, SPD, EOD, AOD of every group against group `ref` (works on bootstrap stacks)."""
    _, sr, tpr, fpr, _ = _rates(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        air = sr / sr[..., ref, None]
    eod = tpr - tpr[..., ref, None]
    aod = ((fpr - fpr[..., ref, None]) + eod) / 2
    return air, sr - sr[..., ref, None], eod, aod


def fairness_by_group(decisions: npt.ArrayLike, outcomes: npt.ArrayLike,
                      groups: pd.DataFrame | pd.Series, *,
                      reference: str | None = None, min_group_size: int = 30,
                      bootstrap_samples: int = 1000, confidence: float = 0.95,
                      seed: int = 0) -> FairnessReport:
    """Selection rates, impact ratios and parity differences of one attribute.

    `groups` is one column, or several whose intersections form the groups (labelled
    `a=x & b=y`). `reference` names the reference group by its label (e.g. "sex=male");
    when None the group with the highest selection rate among those of at least
    `min_group_size` rows is used. `bootstrap_samples=0` skips the intervals.
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    share("confidence", confidence)
    frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
    codes, labels = group_codes("groups", frame, size=len(frame))
    counts = cell_counts(decisions, outcomes, codes, len(labels))
    n, sr, tpr, fpr, _ = _rates(counts)
    large = n >= min_group_size
    ref, rule = _reference(labels, sr, large, reference, highest=True)
    air, spd, eod, aod = _comparisons(counts, ref)
    intervals = _bootstrap(counts, ref, bootstrap_samples, confidence, seed)
    selected = counts[:, 1] + counts[:, 3]
    z = two_proportion_z(selected, n, selected[ref], n[ref])
    z = np.where(np.arange(n.size) == ref, 0.0, np.nan_to_num(z, nan=0.0))
    rows = []
    for g, label in enumerate(labels):
        cis = [None if i is None else Interval(low=float(i[0][g]), high=float(i[1][g]))
               for i in intervals]
        rows.append(GroupFairness(
            group=label, n=int(n[g]), is_small=not bool(large[g]),
            selection_rate=float(sr[g]), true_positive_rate=float(tpr[g]),
            false_positive_rate=float(fpr[g]), impact_ratio=float(air[g]),
            four_fifths_flag=bool(air[g] < FOUR_FIFTHS),
            statistical_parity_difference=float(spd[g]),
            equal_opportunity_difference=float(eod[g]),
            average_odds_difference=float(aod[g]), z=float(z[g]),
            p_value=float(2 * stats.norm.sf(abs(z[g]))),
            shortfall=float(n[g] * (sr[ref] - sr[g])),
            impact_ratio_ci=cis[0], statistical_parity_difference_ci=cis[1],
            equal_opportunity_difference_ci=cis[2], average_odds_difference_ci=cis[3]))
    compared = sr[large] if large.any() else sr
    top = float(compared.max())
    return FairnessReport(
        attribute=" & ".join(str(c) for c in frame.columns), reference=labels[ref],
        reference_rule=rule, groups=tuple(rows),
        min_max_ratio=float(compared.min()) / top if top > 0 else float("nan"),
        max_min_difference=float(compared.max() - compared.min()),
        min_group_size=min_group_size, bootstrap_samples=bootstrap_samples,
        confidence=confidence, seed=seed)


def two_proportion_z(events: npt.ArrayLike, n: npt.ArrayLike, reference_events: npt.ArrayLike,
                     reference_n: npt.ArrayLike) -> FloatArray:
    """`z = (p_g - p_r) / sqrt(p (1 - p) (1/n_g + 1/n_r))` with the pooled rate p (FL-12);
    NaN where both rates are 0 or both 1. Elementwise over arrays."""
    e, m = np.asarray(events, dtype=np.float64), np.asarray(n, dtype=np.float64)
    e_r, m_r = (np.asarray(reference_events, dtype=np.float64),
                np.asarray(reference_n, dtype=np.float64))
    pooled = (e + e_r) / (m + m_r)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((e / m - e_r / m_r)
                          / np.sqrt(pooled * (1 - pooled) * (1 / m + 1 / m_r)))


def rate_difference(events: int, n: int, reference_events: int,
                    reference_n: int) -> RateDifference:
    """Two-sided test of `events / n` against `reference_events / reference_n` (FL-12).

    The 2x2 table is (group, reference) x (event, no event). Where every expected count
    (row total x column total / all) is at least `MIN_EXPECTED_CELL` the pooled
    two-proportion z is normal enough; otherwise Fisher's exact test, which a table
    with no event at all (or only events) also takes (p = 1).
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    table = np.array([[events, n - events], [reference_events, reference_n - reference_events]])
    if (table < 0).any() or n <= 0 or reference_n <= 0:
        raise InvalidInputError("rate_difference", f"counts {table.tolist()} are not a table "
                                "of events and non-events", rule="fairness.counts_valid")
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    smallest = float(expected.min())
    if smallest >= MIN_EXPECTED_CELL:
        z = float(two_proportion_z(events, n, reference_events, reference_n))
        return RateDifference(method=TWO_PROPORTION_Z, p_value=float(2 * stats.norm.sf(abs(z))),
                              z=z, min_expected=smallest)
    fisher = stats.fisher_exact(table, alternative="two-sided")
    return RateDifference(method=FISHER_EXACT, p_value=float(fisher.pvalue), z=None,
                          min_expected=smallest)


def _reference(labels: tuple[str, ...], rates: FloatArray, large: npt.NDArray[np.bool_],
               declared: str | None, *, highest: bool) -> tuple[int, str]:
    if declared is not None:
        if declared not in labels:
            raise InvalidInputError("reference", f"{declared!r} is not a group; groups are "
                                    f"{list(labels)}", rule="fairness.reference_exists")
        return labels.index(declared), "declared"
    candidates = np.flatnonzero(large) if large.any() else np.arange(rates.size)
    pick = np.argmax if highest else np.argmin
    chosen = int(candidates[pick(rates[candidates])])
    return chosen, "highest selection rate" if highest else "lowest alert rate"


def _bootstrap(counts: npt.NDArray[np.int64], ref: int, samples: int, confidence: float,
               seed: int) -> list[tuple[FloatArray, FloatArray] | None]:
    """Percentile intervals of AIR, SPD, EOD, AOD from multinomial redraws of the cells."""
    if samples <= 0:
        return [None] * 4
    rng = np.random.default_rng(seed)
    flat = counts.ravel()
    draws = rng.multinomial(int(flat.sum()), flat / flat.sum(), size=samples)
    stacked = draws.reshape(samples, *counts.shape)
    tail = (1 - confidence) / 2 * 100
    intervals: list[tuple[FloatArray, FloatArray] | None] = []
    for metric in _comparisons(stacked, ref):
        finite = np.where(np.isfinite(metric), metric, np.nan)
        with warnings.catch_warnings():  # a group with no defined value gets NaN bounds
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanpercentile(finite, [tail, 100 - tail], axis=0)
        intervals.append((low, high))
    return intervals


def fairness_report(decisions: npt.ArrayLike, outcomes: npt.ArrayLike,
                    protected: pd.DataFrame, *,
                    references: Mapping[str, str] | None = None, min_group_size: int = 30,
                    bootstrap_samples: int = 1000, confidence: float = 0.95,
                    seed: int = 0) -> tuple[FairnessReport, ...]:
    """`fairness_by_group` for each protected column and every intersection of them.

    `references` maps a column to its reference value (e.g. {"sex": "male"}); an
    intersection's reference is the intersection of its columns' references when all are
    declared, else the highest-selection-rate rule applies.
    """
    declared = dict(references or {})
    column_list("references", protected, list(declared))
    reports = []
    for size in range(1, len(protected.columns) + 1):
        for columns in itertools.combinations(protected.columns, size):
            label = None
            if all(c in declared for c in columns):
                label = " & ".join(f"{c}={declared[c]}" for c in columns)
            reports.append(fairness_by_group(
                decisions, outcomes, protected[list(columns)], reference=label,
                min_group_size=min_group_size, bootstrap_samples=bootstrap_samples,
                confidence=confidence, seed=seed))
    return tuple(reports)


def group_calibration(defaults: npt.ArrayLike, pds: npt.ArrayLike,
                      groups: pd.DataFrame | pd.Series, *,
                      min_group_size: int = 30) -> tuple[GroupCalibration, ...]:
    """Observed default rate against mean PD per group, with the Jeffreys p-value."""
    frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
    codes, labels = group_codes("groups", frame, size=len(frame))
    events = binary_labels("defaults", defaults, both_classes=False)
    pd_values = probabilities("pds", pds, size=events.size)
    n = np.bincount(codes, minlength=len(labels))
    observed = np.bincount(codes, weights=events.astype(np.float64), minlength=len(labels))
    mean_pd = np.bincount(codes, weights=pd_values, minlength=len(labels)) / n
    return tuple(
        GroupCalibration(group=label, n=int(n[g]), is_small=bool(n[g] < min_group_size),
                         mean_pd=float(mean_pd[g]), default_rate=float(observed[g] / n[g]),
                         difference=float(observed[g] / n[g] - mean_pd[g]),
                         jeffreys_p_value=jeffreys_p_value(float(mean_pd[g]), int(n[g]),
                                                           int(observed[g])))
        for g, label in enumerate(labels))


def cramers_v(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Cramér's V = sqrt(chi2 / (n (min(r, c) - 1))), chi2 without continuity correction."""
    table = pd.crosstab(np.asarray(x), np.asarray(y)).to_numpy(dtype=np.float64)
    if min(table.shape) < 2:
        return 0.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = float(np.sum((table - expected) ** 2 / expected))
    return float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))


def proxy_screen(features: pd.DataFrame, protected: pd.Series | npt.ArrayLike, *,
                 bins: int = 10) -> tuple[ProxyScore, ...]:
    """Screen every input for how well it alone predicts the protected attribute.

    Numeric inputs: AUC of the input against each group one-vs-rest, taking max(AUC,
    1 - AUC) so direction does not matter, and the maximum over groups (0.5 = no signal);
    Cramér's V on the input cut into `bins` quantile bins. Categorical inputs: Cramér's V.
    Sorted by Cramér's V, strongest first. Read with the input's own predictive power:
    strong for the attribute but weak for default suggests a proxy (regulatory.md FL-15).
    """
    attribute = np.asarray(protected).astype(str)
    if attribute.size != len(features):
        raise InvalidInputError("protected", f"has {attribute.size} values but features "
                                f"have {len(features)} rows", rule="validation.same_length")
    scores = []
    for column in features.columns:
        values = features[column]
        auc = None
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numbers = values.to_numpy(dtype=np.float64)
            present = ~np.isnan(numbers)
            aucs = [auc_delong(attribute[present] == g, numbers[present]).auc
                    for g in np.unique(attribute[present])
                    if 0 < np.count_nonzero(attribute[present] == g) < present.sum()]
            auc = max((max(a, 1 - a) for a in aucs), default=0.5)
            binned = pd.qcut(values, bins, labels=False, duplicates="drop")
            cells = binned.fillna(-1).to_numpy()
        else:
            cells = values.astype("string").fillna("missing").to_numpy()
        scores.append(ProxyScore(feature=str(column), auc=auc,
                                 cramers_v=cramers_v(cells, attribute)))
    return tuple(sorted(scores, key=lambda s: -s.cramers_v))


def alert_reference(parity: Sequence[AlertParity], *,
                    reference: str | None = None) -> AlertParity:
    """The group `alert_parity` compared the others with: the declared one, else the
    lowest alert rate among groups of at least the minimum size (the same rule, read
    from its result)."""
    labels = tuple(p.group for p in parity)
    rates = np.array([p.alert_rate for p in parity], dtype=np.float64)
    large = np.array([not p.is_small for p in parity])
    return parity[_reference(labels, rates, large, reference, highest=False)[0]]


def alert_parity(alerts: npt.ArrayLike, sar_worthy: npt.ArrayLike,
                 groups: pd.DataFrame | pd.Series, *, reference: str | None = None,
                 min_group_size: int = 30) -> tuple[AlertParity, ...]:
    """AML/fraud alert-rate, false-positive and precision parity (FL-20, FL-21, FL-22).

    Ratios are group / reference. An alert is the adverse outcome, so without a declared
    reference the group with the lowest alert rate (among groups of at least the minimum
    size) is the reference; ratios above 1 mean a heavier burden for the group.
    """
    frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
    codes, labels = group_codes("groups", frame, size=len(frame))
    counts = cell_counts(alerts, sar_worthy, codes, len(labels))
    n, alert_rate, _, fpr, precision = _rates(counts)
    ref, _ = _reference(labels, alert_rate, n >= min_group_size, reference, highest=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = [alert_rate / alert_rate[ref], fpr / fpr[ref], precision / precision[ref]]
    return tuple(
        AlertParity(group=label, n=int(n[g]), is_small=bool(n[g] < min_group_size),
                    alert_rate=float(alert_rate[g]), alert_rate_ratio=float(ratios[0][g]),
                    false_positive_rate=float(fpr[g]),
                    false_positive_rate_ratio=float(ratios[1][g]),
                    precision=float(precision[g]), precision_ratio=float(ratios[2][g]))
        for g, label in enumerate(labels))

