"""Drift of one variable between a reference sample and production: PSI (CSI for inputs),
KS, chi-square and Jensen-Shannon, with the data-quality figures read on the way.

Conventions (docs/monitoring.md):

- **PSI** follows `bankml.validation.stability.psi` exactly: numbers are cut at the
  reference's quantiles 1/bins .. (bins-1)/bins (numpy "linear", equal cuts merged, bins
  `[c_k, c_k+1)`, outer bins open), categories are their own bins (a category seen only in
  production included), missing values are a bin of their own, bins empty in both samples
  are left out and shares below 1e-4 are floored in both the log and the difference. The
  PSI of a model input is its CSI.
- **KS**: SciPy's two-sided two-sample test (`kolmogorov.ks_2samp`) on the present values;
  D is the effect size the p-value is read with.
- **Chi-square**: Pearson's test of homogeneity on the 2 x K table of the PSI's bins (no
  continuity correction), with Cramer's V = sqrt(chi2 / N) as its effect size.
- **Jensen-Shannon**: the distance (square root of the divergence, base 2, in [0, 1])
  between the bin shares, unfloored.

A `NumericReference` sorts the reference once; every window is then measured against it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.errors import InvalidInputError
from bankml.monitoring.kolmogorov import KsResult, ks_2samp
from bankml.validation.stability import (
    MISSING,
    PSI_EPSILON,
    PsiResult,
    bin_labels,
    psi_from_counts,
)

PSI_BINS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class ChiSquareResult:
    statistic: float
    dof: int
    p_value: float
    cramers_v: float  # the effect size: sqrt(chi2 / N) for a 2 x K table


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureDrift:
    """How one variable moved: the four statistics and its data quality in production."""

    feature: str
    kind: str  # "numeric" or "categorical"
    psi: PsiResult
    ks: KsResult | None  # numbers only
    chi_square: ChiSquareResult
    js_distance: float
    rows: int  # production rows measured
    missing_rate: float
    missing_rate_reference: float
    out_of_range_rate: float  # numbers outside the reference's [min, max]
    unseen_rate: float  # categories the reference never held


@dataclass(frozen=True, slots=True, eq=False)
class NumericReference:
    """A numeric reference sample, sorted once: its present values, missing count, cuts."""

    values: FloatArray  # sorted, no NaN
    missing: int
    cuts: FloatArray

    @classmethod
    def of(cls, values: npt.ArrayLike, *, bins: int = PSI_BINS) -> NumericReference:
        ordered = np.sort(np.asarray(values, dtype=np.float64))
        present = int(np.searchsorted(ordered, np.inf, side="right"))  # NaN sorts last
        kept = ordered[:present]
        cuts = (np.unique(np.quantile(kept, np.arange(1, bins) / bins)) if present
                else np.array([], dtype=np.float64))
        return cls(values=kept, missing=ordered.size - present, cuts=cuts)

    @property
    def rows(self) -> int:
        return self.values.size + self.missing

    def counts(self) -> npt.NDArray[np.int64]:
        return _bin_counts(self.values, self.cuts, self.missing)


def numeric_drift(reference: NumericReference, current: npt.ArrayLike, *,
                  feature: str, epsilon: float = PSI_EPSILON) -> FeatureDrift:
    """Drift of a number against its sorted reference."""
    ordered = np.sort(np.asarray(current, dtype=np.float64))
    present = int(np.searchsorted(ordered, np.inf, side="right"))
    values, missing = ordered[:present], ordered.size - present
    if ordered.size == 0 or reference.rows == 0:
        raise InvalidInputError(feature, "drift needs values in both samples",
                                rule="monitoring.nonempty")
    expected, actual = reference.counts(), _bin_counts(values, reference.cuts, missing)
    labels = bin_labels(reference.cuts.tolist())
    ks = (ks_2samp(reference.values, values)
          if values.size and reference.values.size else None)
    outside = 0
    if values.size and reference.values.size:
        outside = int(np.searchsorted(values, reference.values[0], side="left")
                      + values.size - np.searchsorted(values, reference.values[-1],
                                                      side="right"))
    return FeatureDrift(
        feature=feature, kind="numeric",
        psi=psi_from_counts(labels, expected, actual, feature=feature, epsilon=epsilon),
        ks=ks, chi_square=chi_square(expected, actual), js_distance=js_distance(
            expected, actual),
        rows=int(ordered.size), missing_rate=missing / ordered.size,
        missing_rate_reference=reference.missing / reference.rows,
        out_of_range_rate=outside / values.size if values.size else 0.0, unseen_rate=0.0)


def categorical_drift(reference: npt.ArrayLike | pd.Series, current: npt.ArrayLike | pd.Series,
                      *, feature: str, epsilon: float = PSI_EPSILON) -> FeatureDrift:
    """Drift of a category (text, booleans, outcomes): each category its own bin."""
    before = pd.Series(reference).astype("string").fillna(MISSING)
    after = pd.Series(current).astype("string").fillna(MISSING)
    if before.empty or after.empty:
        raise InvalidInputError(feature, "drift needs values in both samples",
                                rule="monitoring.nonempty")
    categories = sorted(set(before.unique()) | set(after.unique()))
    expected = before.value_counts().reindex(categories, fill_value=0).to_numpy(np.int64)
    actual = after.value_counts().reindex(categories, fill_value=0).to_numpy(np.int64)
    known = set(before.unique()) - {MISSING}
    present = after[after != MISSING]
    return FeatureDrift(
        feature=feature, kind="categorical",
        psi=psi_from_counts(categories, expected, actual, feature=feature, epsilon=epsilon),
        ks=None, chi_square=chi_square(expected, actual),
        js_distance=js_distance(expected, actual), rows=len(after),
        missing_rate=float((after == MISSING).mean()),
        missing_rate_reference=float((before == MISSING).mean()), out_of_range_rate=0.0,
        unseen_rate=float((~present.isin(known)).mean()) if len(present) else 0.0)


def chi_square(expected_counts: npt.ArrayLike, actual_counts: npt.ArrayLike) -> ChiSquareResult:
    """Pearson's chi-square of homogeneity on the 2 x K table (bins empty in both left
    out), as `scipy.stats.chi2_contingency(table, correction=False)`."""
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it

    table = np.vstack([np.asarray(expected_counts, np.float64),
                       np.asarray(actual_counts, np.float64)])
    table = table[:, table.sum(axis=0) > 0]
    total = table.sum()
    dof = table.shape[1] - 1
    if dof < 1:
        return ChiSquareResult(statistic=0.0, dof=0, p_value=1.0, cramers_v=0.0)
    fitted = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / total
    statistic = float(np.sum((table - fitted) ** 2 / fitted))
    return ChiSquareResult(statistic=statistic, dof=dof,
                           p_value=float(stats.chi2.sf(statistic, dof)),
                           cramers_v=math.sqrt(statistic / total))


def js_distance(expected_counts: npt.ArrayLike, actual_counts: npt.ArrayLike) -> float:
    """The Jensen-Shannon distance, base 2, between two count vectors' shares."""
    p = np.asarray(expected_counts, np.float64)
    q = np.asarray(actual_counts, np.float64)
    p, q = p / p.sum(), q / q.sum()
    middle = (p + q) / 2

    def divergence(x: FloatArray) -> float:
        kept = x > 0
        return float(np.sum(x[kept] * np.log2(x[kept] / middle[kept])))

    return math.sqrt(max((divergence(p) + divergence(q)) / 2, 0.0))


def is_numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values)
                and not pd.api.types.is_bool_dtype(values))


def references(frame: pd.DataFrame, columns: Sequence[str], *,
               bins: int = PSI_BINS) -> dict[str, NumericReference | pd.Series]:
    """Each column's reference: sorted numbers, or the categories as they are."""
    return {c: NumericReference.of(frame[c].to_numpy(np.float64), bins=bins)
            if is_numeric(frame[c]) else frame[c] for c in columns}


def drift_frame(reference: pd.DataFrame | Mapping[str, NumericReference | pd.Series],
                current: pd.DataFrame, columns: Sequence[str], *,
                workers: int | None = None) -> list[FeatureDrift]:
    """Drift of every column, in threads (numpy's sorts and searches release the GIL)."""
    missing = [c for c in columns if c not in current.columns]
    if missing:
        raise InvalidInputError("current", f"lacks the columns {missing}",
                                rule="monitoring.columns")

    def one(column: str) -> FeatureDrift:
        base: Any = (reference[column] if not isinstance(reference, pd.DataFrame)
                     else NumericReference.of(reference[column].to_numpy(np.float64))
                     if is_numeric(reference[column]) else reference[column])
        if isinstance(base, NumericReference):
            return numeric_drift(base, current[column].to_numpy(np.float64), feature=column)
        return categorical_drift(base, current[column], feature=column)

    count = min(len(columns), workers or os.cpu_count() or 1)
    if count <= 1:
        return [one(c) for c in columns]
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="drift") as pool:
        return list(pool.map(one, columns))


def _bin_counts(ordered: FloatArray, cuts: FloatArray, missing: int) -> npt.NDArray[np.int64]:
    """Counts of sorted values in the bins `[c_k, c_k+1)`, then the missing count."""
    bounds = np.searchsorted(ordered, cuts, side="left")
    edges = np.concatenate([[0], bounds, [ordered.size]])
    return np.append(np.diff(edges), missing).astype(np.int64)
