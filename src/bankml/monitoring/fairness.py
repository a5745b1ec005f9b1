"""Fairness in production: selection rates and adverse-impact ratios by protected group.

The bank supplies each protected attribute with the decision, for monitoring alone (the
endpoint's `monitoring.attributes`: recorded in the request fields, never a model input).
Per attribute and group g of the window's decisions that carry it:

- selection rate `SR_g` = share of the domain's favourable decision (approve, allow, no
  alert, offer), with its Wilson score interval (Wilson 1927: it keeps its coverage near 0
  and 1 and at the small n of a minority group, where the Wald interval does not);
- adverse-impact ratio `AIR_g = SR_g / SR_r` against the reference r, the group with the
  highest selection rate among those of at least `min_group_size` decisions (UGESP; the
  validation battery's rule); its interval is a seeded parametric bootstrap of each
  group's count (`k*_g ~ Binomial(n_g, SR_g)`, which is the row bootstrap stratified by
  group), percentile at the stated confidence;
- the two-proportion z test of SR_g against SR_r (pooled), the p-value an AIR is read
  with: the policy turns it amber or red only when the test also rejects.

Groups below the minimum size are reported but never judged (`insufficient`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bankml.core.errors import InvalidInputError
from bankml.core.monitoring import MetricPoint
from bankml.monitoring.policy import MonitoringPolicy
from bankml.monitoring.window import WindowColumns


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSelection:
    group: str
    n: int
    selected: int
    selection_rate: float
    selection_rate_ci: tuple[float, float]  # Wilson
    impact_ratio: float  # against the reference; NaN when the reference selects nobody
    impact_ratio_ci: tuple[float, float] | None  # bootstrap; None without samples
    p_value: float  # two-proportion z against the reference
    is_small: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectionReport:
    attribute: str
    reference: str | None  # None: no group reaches the minimum size
    groups: tuple[GroupSelection, ...]
    min_group_size: int
    confidence: float


def wilson_interval(selected: int, n: int, *, confidence: float = 0.95
                    ) -> tuple[float, float]:
    """The Wilson score interval of a proportion `selected / n`."""
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    if n <= 0:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    share = selected / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def selection_by_group(selected: npt.ArrayLike, groups: Sequence[str], *, attribute: str,
                       min_group_size: int = 30, bootstrap_samples: int = 500,
                       confidence: float = 0.95, seed: int = 0) -> SelectionReport:
    """Selection rate and AIR of every group; `selected` is 1 for a favourable decision."""
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    chosen = np.asarray(selected, dtype=np.int64)
    if chosen.size != len(groups):
        raise InvalidInputError(attribute, f"{chosen.size} decisions but {len(groups)} group "
                                "values", rule="monitoring.same_length")
    labels, codes = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    n = np.bincount(codes, minlength=labels.size)
    k = np.bincount(codes, weights=chosen, minlength=labels.size).astype(np.int64)
    rate = k / n
    large = n >= min_group_size
    if not large.any():
        return SelectionReport(attribute=attribute, reference=None, groups=tuple(
            GroupSelection(group=str(g), n=int(n[i]), selected=int(k[i]),
                           selection_rate=float(rate[i]),
                           selection_rate_ci=wilson_interval(int(k[i]), int(n[i]),
                                                             confidence=confidence),
                           impact_ratio=math.nan, impact_ratio_ci=None, p_value=math.nan,
                           is_small=True) for i, g in enumerate(labels)),
            min_group_size=min_group_size, confidence=confidence)
    ref = int(np.flatnonzero(large)[np.argmax(rate[large])])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = rate / rate[ref]
        pooled = (k + k[ref]) / (n + n[ref])
        z = (rate - rate[ref]) / np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n[ref]))
    p = np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(np.nan_to_num(z))), 1.0)
    intervals = _bootstrap_ratio(n, rate, ref, samples=bootstrap_samples,
                                 confidence=confidence, seed=seed)
    return SelectionReport(attribute=attribute, reference=str(labels[ref]), groups=tuple(
        GroupSelection(group=str(g), n=int(n[i]), selected=int(k[i]),
                       selection_rate=float(rate[i]),
                       selection_rate_ci=wilson_interval(int(k[i]), int(n[i]),
                                                         confidence=confidence),
                       impact_ratio=float(ratio[i]),
                       impact_ratio_ci=None if intervals is None else (
                           float(intervals[0][i]), float(intervals[1][i])),
                       p_value=float(p[i]), is_small=not bool(large[i]))
        for i, g in enumerate(labels)), min_group_size=min_group_size, confidence=confidence)


def _bootstrap_ratio(n: npt.NDArray[np.int64], rate: npt.NDArray[np.float64], ref: int, *,
                     samples: int, confidence: float, seed: int
                     ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    if samples <= 0 or rate[ref] == 0:
        return None  # a reference that selects nobody gives no ratio to bound
    drawn = np.random.default_rng(seed).binomial(n, rate, size=(samples, n.size)) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = drawn / drawn[:, ref, None]
    ratios = np.where(np.isfinite(ratios), ratios, np.nan)  # draws whose reference is 0
    tail = (1 - confidence) / 2
    return (np.nanquantile(ratios, tail, axis=0), np.nanquantile(ratios, 1 - tail, axis=0))


def fairness_points(point: Callable[..., MetricPoint], window: WindowColumns, *,
                    favourable: str, policy: MonitoringPolicy) -> list[MetricPoint]:
    """For each declared attribute: how many decisions carry it, each group's selection
    rate, and its adverse-impact ratio judged by the policy."""
    points: list[MetricPoint] = []
    threshold = policy.threshold("fairness.impact_ratio")
    min_group = threshold.min_n if threshold is not None else 30
    selected_all = np.asarray(window.outcomes, dtype=object) == favourable
    for attribute in window.attribute_names:
        values = window.attribute(attribute)
        carried = values.notna().to_numpy()
        points.append(point(f"fairness.reported[{attribute}]", float(carried.mean()),
                            len(window), judged=False,
                            detail="share of decisions that carry the attribute"))
        if not carried.any():
            continue
        report = selection_by_group(
            selected_all[carried].astype(np.int64), values[carried].astype(str).tolist(),
            attribute=attribute, min_group_size=min_group,
            bootstrap_samples=policy.fairness_bootstrap,
            confidence=policy.fairness_confidence)
        share = f"{policy.fairness_confidence:.0%}"
        for group in report.groups:
            name = f"{attribute}={group.group}"
            low, high = group.selection_rate_ci
            points.append(point(f"fairness.selection_rate[{name}]", group.selection_rate,
                                group.n, judged=False,
                                detail=f"{favourable}: {group.selected} of {group.n}; Wilson "
                                       f"{share} CI {low:.3f} .. {high:.3f}"))
            if report.reference is None:
                points.append(point(f"fairness.impact_ratio[{name}]", None, group.n,
                                    detail=f"no group has {min_group} decisions"))
                continue
            interval = ("" if group.impact_ratio_ci is None else
                        f"; bootstrap {share} CI {group.impact_ratio_ci[0]:.3f} .. "
                        f"{group.impact_ratio_ci[1]:.3f}")
            reference = next(g for g in report.groups if g.group == report.reference)
            points.append(point(f"fairness.impact_ratio[{name}]", group.impact_ratio, group.n,
                                p_value=group.p_value, baseline=reference.selection_rate,
                                detail=f"against {attribute}={report.reference}{interval}"))
    return points
