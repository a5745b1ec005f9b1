"""Stability: has the population moved since development, and how do ratings migrate?

PSI and CSI (regulatory.md PD-28/29), the ECB's migration tests (PD-10/11) and the
Herfindahl concentration test (PD-12).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.errors import InvalidInputError
from bankml.validation.samples import column_list, real_values

PSI_EPSILON = 1e-4  # floor for empty bins' shares [bank policy], recorded in every result
MISSING = "missing"


class Shift(StrEnum):
    """Industry reading of a PSI (Siddiqi, Credit Risk Scorecards, 2006)."""

    STABLE = "stable"  # PSI < 0.10
    MODERATE = "moderate"  # 0.10 <= PSI <= 0.25: investigate
    SIGNIFICANT = "significant"  # PSI > 0.25: act


@dataclass(frozen=True, slots=True, kw_only=True)
class PsiBin:
    """One bin's shares and its term of the PSI sum."""

    label: str
    expected_share: float
    actual_share: float
    contribution: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PsiResult:
    """Population stability index of one variable, bin by bin."""

    feature: str
    value: float
    shift: Shift
    bins: tuple[PsiBin, ...]
    epsilon: float
    floored_bins: int  # bins whose share was raised to epsilon

    def to_frame(self) -> pd.DataFrame:
        """One row per bin."""
        return pd.DataFrame([{f: getattr(b, f) for f in PsiBin.__slots__} for b in self.bins])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MigrationResult:
    """Rating migration matrix with the ECB's bandwidth and monotonicity tests."""

    grades: tuple[str, ...]  # from best to worst, as given
    exits: tuple[str, ...]  # end states that are not grades (default, terminated, ...)
    counts: pd.DataFrame  # grades x (grades + exits)
    mwb_upper: float
    mwb_lower: float
    z: FloatArray  # K x K, NaN on the diagonal and where undefined ("missing")
    p_values: FloatArray  # Phi(z); small means non-monotonic migration


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcentrationTest:
    """ECB PD-12: Herfindahl index now and at initial validation, and its test."""

    hi_current: float
    hi_initial: float
    cv_current: float
    cv_initial: float
    grades: int
    p_value: float  # H0: HI_curr < HI_init; small means concentration has risen


def shift_of(value: float) -> Shift:
    """Band a PSI or CSI at 0.10 and 0.25."""
    if value < 0.10:
        return Shift.STABLE
    return Shift.MODERATE if value <= 0.25 else Shift.SIGNIFICANT


def psi(expected: npt.ArrayLike | pd.Series, actual: npt.ArrayLike | pd.Series, *,
        bins: int = 10, edges: Sequence[float] | None = None, feature: str = "score",
        epsilon: float = PSI_EPSILON) -> PsiResult:
    """PSI = sum_k (a_k - e_k) ln(a_k / e_k) on bins fixed by the expected sample.

    Binning: numbers are cut at the expected sample's quantiles 1/bins .. (bins-1)/bins
    (duplicates merged; each bin [e_k, e_k+1), outer bins open) unless `edges` are given;
    categories (non-numeric dtype) are their own bins, including categories seen only in
    the actual sample. Missing values form their own bin. Zero bins: a share below
    `epsilon` is raised to `epsilon` in both the log and the difference (no renormalising),
    so an empty bin adds a large but finite term; the count of floored bins is reported.
    Source: Siddiqi (2006) ch. 8; Yurdakul (2018), "Statistical properties of the
    population stability index".
    """
    expected_series, actual_series = pd.Series(expected), pd.Series(actual)
    if expected_series.empty or actual_series.empty:
        raise InvalidInputError(feature, "PSI needs values in both samples",
                                rule="validation.nonempty")
    labels, expected_codes, actual_codes = _bin(expected_series, actual_series, bins, edges)
    size = len(labels)
    return psi_from_counts(labels, np.bincount(expected_codes, minlength=size),
                           np.bincount(actual_codes, minlength=size), feature=feature,
                           epsilon=epsilon)


def psi_from_counts(labels: Sequence[str], expected_counts: npt.ArrayLike,
                    actual_counts: npt.ArrayLike, *, feature: str = "score",
                    epsilon: float = PSI_EPSILON) -> PsiResult:
    """The PSI of bins already counted, by the convention of `psi` (bins empty in both
    samples left out, shares below `epsilon` floored in the log and the difference).

    Monitoring counts production's values in the development bins and comes here, so that
    a PSI means the same wherever bankml reports it.
    """
    expected_n = np.asarray(expected_counts, dtype=np.float64)
    actual_n = np.asarray(actual_counts, dtype=np.float64)
    e, a = expected_n / expected_n.sum(), actual_n / actual_n.sum()
    seen = (e > 0) | (a > 0)  # a bin empty in both samples says nothing; leave it out
    labels, e, a = [label for label, s in zip(labels, seen, strict=True) if s], e[seen], a[seen]
    e_floor, a_floor = np.maximum(e, epsilon), np.maximum(a, epsilon)
    terms = (a_floor - e_floor) * np.log(a_floor / e_floor)
    value = float(terms.sum())
    return PsiResult(
        feature=feature, value=value, shift=shift_of(value), epsilon=epsilon,
        floored_bins=int(np.count_nonzero((e < epsilon) | (a < epsilon))),
        bins=tuple(PsiBin(label=label, expected_share=float(es), actual_share=float(ac),
                          contribution=float(term))
                   for label, es, ac, term in zip(labels, e, a, terms, strict=True)))


def bin_labels(cuts: Sequence[float]) -> list[str]:
    """`[lo, hi)` labels of the bins `cuts` make, outer bins open, then the missing bin."""
    bounds = [-np.inf, *cuts, np.inf]
    return [*(f"[{lo:.6g}, {hi:.6g})" for lo, hi in itertools.pairwise(bounds)), MISSING]


def _bin(expected: pd.Series, actual: pd.Series, bins: int,
         edges: Sequence[float] | None) -> tuple[list[str], npt.NDArray[np.intp],
                                                 npt.NDArray[np.intp]]:
    numeric = pd.api.types.is_numeric_dtype(expected) and not pd.api.types.is_bool_dtype(
        expected)
    if numeric:
        e_values = expected.to_numpy(dtype=np.float64)
        a_values = pd.to_numeric(actual).to_numpy(dtype=np.float64)
        if edges is None:
            present = e_values[~np.isnan(e_values)]
            cuts = np.unique(np.quantile(present, np.arange(1, bins) / bins)) \
                if present.size else np.array([])
        else:
            cuts = np.unique(np.asarray(edges, dtype=np.float64))
        labels = bin_labels(cuts.tolist())
        missing_code = len(labels) - 1

        def codes(values: FloatArray) -> npt.NDArray[np.intp]:
            found = np.searchsorted(cuts, values, side="right")
            return np.where(np.isnan(values), missing_code, found)

        return labels, codes(e_values), codes(a_values)
    e_text = expected.astype("string").fillna(MISSING)
    a_text = actual.astype("string").fillna(MISSING)
    categories = sorted(set(e_text.unique()) | set(a_text.unique()))
    lookup = pd.Index(categories)
    return (list(categories), lookup.get_indexer(e_text).astype(np.intp),
            lookup.get_indexer(a_text).astype(np.intp))


def csi(expected: pd.DataFrame, actual: pd.DataFrame, columns: Sequence[str], *,
        bins: int = 10, epsilon: float = PSI_EPSILON) -> tuple[PsiResult, ...]:
    """PD-29: the characteristic stability index, PSI per feature with the same bands."""
    for frame_name, frame in (("expected", expected), ("actual", actual)):
        column_list(frame_name, frame, columns)
    return tuple(psi(expected[c], actual[c], bins=bins, feature=c, epsilon=epsilon)
                 for c in columns)


def migration_matrix(start: npt.ArrayLike, end: npt.ArrayLike, *,
                     grades: Sequence[str | int]) -> MigrationResult:
    """Migration counts with the ECB's matrix-weighted bandwidth and per-cell z-tests.

    ECB instructions (2019) section 2.5.5.1-2 (PD-10/PD-11 in regulatory.md): with
    `p_ij = N_ij / N_i` (N_i every customer starting in grade i, exits included),
    `MWB_upper = sum_{i<j} |i-j| N_i p_ij / M_u`, `M_u = sum_i max(|i-K|, |i-1|) N_i
    sum_{j>i} p_ij` (lower likewise), and for j < i
    `z_ij = (p_i,j+1 - p_ij) / sqrt((p_ij(1-p_ij) + p_i,j+1(1-p_i,j+1) + 2 p_ij p_i,j+1)
    / N_i)` (for j > i with p_i,j-1), p-value Phi(z_ij). `grades` run from 1 to K as
    listed; end states outside them are exits (default, other model, terminated).
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    start_values = np.asarray(start).astype(str)
    end_values = np.asarray(end).astype(str)
    if start_values.shape != end_values.shape:
        raise InvalidInputError("end", f"has {end_values.size} ratings but start has "
                                f"{start_values.size}", rule="validation.same_length")
    names = [str(g) for g in grades]
    unknown = sorted({str(v) for v in start_values} - set(names))
    if unknown:
        raise InvalidInputError("start", f"grades {unknown} are not among {names}",
                                rule="validation.known_grade")
    exits = sorted({str(v) for v in end_values} - set(names))
    counts = pd.crosstab(pd.Categorical(start_values, categories=names),
                         pd.Categorical(end_values, categories=[*names, *exits]),
                         dropna=False)
    counts.index.name, counts.columns.name = "start", "end"
    n = counts.to_numpy(dtype=np.float64)
    size = len(names)
    rows = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = n[:, :size] / rows[:, None]
    p = np.nan_to_num(p)  # an empty start grade contributes nothing
    upper, lower = _bandwidths(p, rows)
    z = _monotonicity_z(p, rows)
    return MigrationResult(grades=tuple(names), exits=tuple(exits), counts=counts,
                           mwb_upper=upper, mwb_lower=lower, z=z,
                           p_values=stats.norm.cdf(z))


def _bandwidths(p: FloatArray, rows: FloatArray) -> tuple[float, float]:
    size = p.shape[0]
    index = np.arange(1, size + 1)
    distance = np.abs(index[:, None] - index[None, :])
    reach = np.maximum(np.abs(index - size), np.abs(index - 1))
    weighted = distance * rows[:, None] * p
    above, below = np.triu(np.ones_like(p), 1), np.tril(np.ones_like(p), -1)

    def ratio(mask: FloatArray) -> float:
        norm = float(np.sum(reach * rows * (p * mask).sum(axis=1)))
        return float(np.sum(weighted * mask) / norm) if norm > 0 else 0.0

    return ratio(above), ratio(below)


def _monotonicity_z(p: FloatArray, rows: FloatArray) -> FloatArray:
    size = p.shape[0]
    z = np.full((size, size), np.nan)
    for i in range(size):
        for j in range(size):
            if j == i:
                continue
            k = j + 1 if j < i else j - 1  # the neighbour towards the diagonal
            variance = (p[i, j] * (1 - p[i, j]) + p[i, k] * (1 - p[i, k])
                        + 2 * p[i, j] * p[i, k]) / rows[i] if rows[i] > 0 else 0.0
            if variance > 0:
                z[i, j] = (p[i, k] - p[i, j]) / np.sqrt(variance)
    return z


def herfindahl_index(weights: npt.ArrayLike) -> tuple[float, float]:
    """HI and CV of grade shares: `CV = sqrt(K sum (R_i - 1/K)^2)`,
    `HI = 1 + ln((CV^2 + 1) / K) / ln K` (ECB section 2.5.5.3). Pass counts per grade for
    the number-weighted index, exposures per grade for the exposure-weighted one; include
    empty grades, they count in K.
    """
    values = real_values("weights", weights)
    if values.size < 2 or (values < 0).any() or values.sum() <= 0:
        raise InvalidInputError("weights", "need at least two grades, non-negative weights "
                                "and a positive total", rule="validation.grade_weights")
    size = values.size
    shares = values / values.sum()
    cv = float(np.sqrt(size * np.sum((shares - 1 / size) ** 2)))
    return 1 + float(np.log((cv**2 + 1) / size) / np.log(size)), cv


def herfindahl_test(*, initial: npt.ArrayLike, current: npt.ArrayLike) -> ConcentrationTest:
    """ECB PD-12: H0 HI_curr < HI_init, p = 1 - Phi(sqrt(K-1) (CV_curr - CV_init) /
    sqrt(CV_curr^2 (0.5 + CV_curr^2))), CV_init treated as deterministic.

    Keywords only: the ECB names the initial distribution first, and a swapped positional
    call would be silently wrong.
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    hi_current, cv_current = herfindahl_index(current)
    hi_initial, cv_initial = herfindahl_index(initial)
    size = np.asarray(current).size
    if np.asarray(initial).size != size:
        raise InvalidInputError("initial", f"has {np.asarray(initial).size} grades, current "
                                f"has {size}", rule="validation.same_grades")
    spread = np.sqrt(cv_current**2 * (0.5 + cv_current**2))
    statistic = np.sqrt(size - 1) * (cv_current - cv_initial) / spread if spread > 0 \
        else 0.0
    return ConcentrationTest(hi_current=hi_current, hi_initial=hi_initial,
                             cv_current=cv_current, cv_initial=cv_initial, grades=size,
                             p_value=float(stats.norm.sf(statistic)))
