"""Calibration: do predicted probabilities of default match the defaults observed?

Per rating grade, the grade PD is the number-weighted mean PD of its obligors (ECB
instructions, section 2.5.1); the portfolio is tested alongside the grades (K + 1 tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.errors import InvalidInputError
from bankml.validation.samples import (
    binary_labels,
    probabilities,
    real_values,
    share,
)

PORTFOLIO = "portfolio"
_PValue = Callable[[float, int, int], float]  # (pd, n, defaults) -> p-value


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeTest:
    """One grade's (or the portfolio's) PD against its observed defaults."""

    grade: str
    pd: float  # number-weighted mean PD of the grade
    n: int  # obligors
    defaults: int
    default_rate: float
    p_value: float
    exposure: float | None = None  # original exposure at the start, when given


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeTests:
    """A per-grade test run on every grade and on the portfolio (last row)."""

    method: str
    grades: tuple[GradeTest, ...]
    portfolio: GradeTest

    def to_frame(self) -> pd.DataFrame:
        """One row per grade, then the portfolio."""
        return pd.DataFrame([{field: getattr(row, field) for field in GradeTest.__slots__}
                             for row in (*self.grades, self.portfolio)])


@dataclass(frozen=True, slots=True, kw_only=True)
class ChiSquareTest:
    """A chi-square goodness-of-fit statistic with its degrees of freedom."""

    statistic: float
    degrees_of_freedom: int
    p_value: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BrierScore:
    """Brier score with Murphy's (1973) decomposition over the distinct forecasts' bins."""

    score: float
    reliability: float
    resolution: float
    uncertainty: float  # score = reliability - resolution + uncertainty when bins are exact


class Zone(StrEnum):
    """Basel backtesting traffic-light zones."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficLight:
    """Zone of an exception count, with the cumulative probability that decides it."""

    exceptions: int
    trials: int
    cumulative_probability: float  # P(X <= exceptions), X ~ Bin(trials, 1 - coverage)
    zone: Zone
    plus_factor: float  # Basel (1996) table 2: added to the multiplier of 3


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CalibrationCurve:
    """Mean predicted probability and observed event rate per bin (empty bins left out)."""

    mean_predicted: FloatArray
    observed_rate: FloatArray
    count: npt.NDArray[np.int64]
    edges: FloatArray


def jeffreys_p_value(pd_: float, n: int, defaults: int) -> float:
    """ECB PD-05: F_Beta(PD; D + 1/2, N - D + 1/2), the Jeffreys posterior CDF at the PD.

    H0: the PD is at least the true default rate. A small p-value means the PD
    underestimates risk. ECB instructions (2019) section 2.5.3.1.
    """
    from scipy import special  # noqa: PLC0415 - SciPy loads only when a test needs it
    return float(special.betainc(defaults + 0.5, n - defaults + 0.5, pd_))


def binomial_p_value(pd_: float, n: int, defaults: int) -> float:
    """PD-20: one-sided P(X >= D) for X ~ Bin(N, PD) (BCBS WP14, section 3.4)."""
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    return float(stats.binom.sf(defaults - 1, n, pd_))


def jeffreys_test(grades: npt.ArrayLike, pds: npt.ArrayLike, defaults: npt.ArrayLike, *,
                  exposures: npt.ArrayLike | None = None) -> GradeTests:
    """Jeffreys test per grade and for the portfolio, from one row per obligor."""
    return _grade_tests("jeffreys", jeffreys_p_value, grades, pds, defaults,
                        exposures=exposures)


def binomial_test(grades: npt.ArrayLike, pds: npt.ArrayLike, defaults: npt.ArrayLike, *,
                  exposures: npt.ArrayLike | None = None) -> GradeTests:
    """Exact one-sided binomial test per grade and for the portfolio.

    Assumes independent defaults: under default correlation it rejects too often
    (BCBS WP14), so read it as an early warning.
    """
    return _grade_tests("binomial", binomial_p_value, grades, pds, defaults,
                        exposures=exposures)


def _grade_tests(method: str, p_value_of: _PValue, grades: npt.ArrayLike,
                 pds: npt.ArrayLike, defaults: npt.ArrayLike, *,
                 exposures: npt.ArrayLike | None) -> GradeTests:
    events = binary_labels("defaults", defaults, both_classes=False)
    pd_values = probabilities("pds", pds, size=events.size)
    grade_values = np.asarray(grades)
    if grade_values.shape != events.shape:
        raise InvalidInputError("grades", f"has {grade_values.size} values but the defaults "
                                f"have {events.size}", rule="validation.same_length")
    exposure = None if exposures is None else real_values("exposures", exposures,
                                                          size=events.size)
    codes, names = pd.factorize(grade_values, sort=True)
    rows = []
    for code, name in enumerate(names):
        member = codes == code
        rows.append(_grade_row(str(name), p_value_of, pd_values[member], events[member],
                               None if exposure is None else exposure[member]))
    portfolio = _grade_row(PORTFOLIO, p_value_of, pd_values, events, exposure)
    return GradeTests(method=method, grades=tuple(rows), portfolio=portfolio)


def _grade_row(name: str, p_value_of: _PValue, pds: FloatArray,
               events: npt.NDArray[np.bool_], exposure: FloatArray | None) -> GradeTest:
    n, count = int(events.size), int(events.sum())
    grade_pd = float(pds.mean())
    return GradeTest(grade=name, pd=grade_pd, n=n, defaults=count, default_rate=count / n,
                     p_value=p_value_of(grade_pd, n, count),
                     exposure=None if exposure is None else float(exposure.sum()))


def hosmer_lemeshow(defaults: npt.ArrayLike, pds: npt.ArrayLike, *,
                    groups: npt.ArrayLike | None = None, bins: int = 10,
                    in_sample: bool = False) -> ChiSquareTest:
    """Hosmer-Lemeshow chi-square over rating grades or PD deciles.

    `T = sum_g (D_g - N_g PD_g)^2 / (N_g PD_g (1 - PD_g))` with PD_g the group's mean PD.
    Degrees of freedom: the number of groups when the PDs were not fitted on this sample
    (BCBS WP14, section 3.4.2), G - 2 in-sample (Hosmer & Lemeshow, Applied Logistic
    Regression, 2nd ed., section 5.2.2). Without `groups`, rows are cut into `bins` groups
    of equal size by PD rank (ties kept together).
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    events = binary_labels("defaults", defaults, both_classes=False)
    pd_values = probabilities("pds", pds, size=events.size)
    if groups is None:
        ranks = stats.rankdata(pd_values, method="max")
        codes = np.ceil(ranks * bins / events.size).astype(np.int64) - 1
    else:
        codes = pd.factorize(np.asarray(groups), sort=True)[0]
    n = np.bincount(codes).astype(np.float64)
    keep = n > 0
    observed = np.bincount(codes, weights=events.astype(np.float64))[keep]
    expected = np.bincount(codes, weights=pd_values)[keep]
    n = n[keep]
    mean_pd = expected / n
    statistic = float(np.sum((observed - expected) ** 2 / (n * mean_pd * (1 - mean_pd))))
    dof = int(n.size - 2 if in_sample else n.size)
    if dof < 1:
        raise InvalidInputError("groups", f"{n.size} groups leave {dof} degrees of freedom",
                                rule="validation.enough_groups")
    return ChiSquareTest(statistic=statistic, degrees_of_freedom=dof,
                         p_value=float(stats.chi2.sf(statistic, dof)))


def spiegelhalter(defaults: npt.ArrayLike, pds: npt.ArrayLike) -> tuple[float, float]:
    """PD-23 Spiegelhalter (1986) z and two-sided p-value.

    `Z = sum (y - p)(1 - 2p) / sqrt(sum (1 - 2p)^2 p (1 - p))` ~ N(0, 1) under calibration.
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    events = binary_labels("defaults", defaults, both_classes=False).astype(np.float64)
    p = probabilities("pds", pds, size=events.size)
    z = float(np.sum((events - p) * (1 - 2 * p)) / np.sqrt(np.sum((1 - 2 * p) ** 2 * p * (1 - p))))
    return z, float(2 * stats.norm.sf(abs(z)))


def brier_score(defaults: npt.ArrayLike, pds: npt.ArrayLike) -> BrierScore:
    """PD-22: BS = mean((PD - y)^2), with reliability, resolution and uncertainty.

    Murphy (1973), J. Appl. Meteor. 12: bins are the distinct forecast values, so the
    identity BS = REL - RES + UNC holds exactly (for a rating scale with one PD per grade).
    """
    events = binary_labels("defaults", defaults, both_classes=False).astype(np.float64)
    p = probabilities("pds", pds, size=events.size)
    values, codes = np.unique(p, return_inverse=True)
    n_k = np.bincount(codes).astype(np.float64)
    observed = np.bincount(codes, weights=events) / n_k
    base = events.mean()
    return BrierScore(score=float(np.mean((p - events) ** 2)),
                      reliability=float(np.sum(n_k * (values - observed) ** 2) / events.size),
                      resolution=float(np.sum(n_k * (observed - base) ** 2) / events.size),
                      uncertainty=float(base * (1 - base)))


def traffic_light(exceptions: int, *, trials: int = 250,
                  coverage: float = 0.99) -> TrafficLight:
    """Basel backtesting zones (BCBS, Supervisory framework for backtesting, 1996).

    F = P(X <= x), X ~ Bin(trials, 1 - coverage): green F <= 0.95, yellow F <= 0.9999,
    red above. For 250 trials at 99%: green 0-4, yellow 5-9, red 10 or more.
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    share("coverage", coverage)
    if not 0 <= exceptions <= trials:
        raise InvalidInputError("exceptions", f"{exceptions} is not in 0..{trials}",
                                rule="validation.count")
    cumulative = float(stats.binom.cdf(exceptions, trials, 1 - coverage))
    zone = Zone.GREEN if cumulative <= 0.95 else Zone.YELLOW if cumulative <= 0.9999 \
        else Zone.RED
    plus = {Zone.GREEN: 0.0, Zone.RED: 1.0}.get(zone)
    if plus is None:  # the yellow increments are tabulated for 250 days at 99%
        plus = _YELLOW_PLUS.get(exceptions, float("nan")) \
            if (trials, coverage) == (250, 0.99) else float("nan")
    return TrafficLight(exceptions=exceptions, trials=trials,
                        cumulative_probability=cumulative, zone=zone, plus_factor=plus)


_YELLOW_PLUS = {5: 0.40, 6: 0.50, 7: 0.65, 8: 0.75, 9: 0.85}


def calibration_curve(labels: npt.ArrayLike, scores: npt.ArrayLike, *, bins: int = 10,
                      strategy: str = "uniform") -> CalibrationCurve:
    """Reliability diagram points over `bins` equal-width ("uniform") or equal-count
    ("quantile") bins of the predicted probability, as scikit-learn's calibration_curve.
    """
    events = binary_labels("labels", labels, both_classes=False).astype(np.float64)
    p = probabilities("scores", scores, size=events.size)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, bins + 1))
    else:
        raise InvalidInputError("strategy", f"{strategy!r} is not 'uniform' or 'quantile'",
                                rule="validation.choice")
    codes = np.searchsorted(edges[1:-1], p, side="right")
    count = np.bincount(codes, minlength=edges.size - 1)
    keep = count > 0
    return CalibrationCurve(
        mean_predicted=np.bincount(codes, weights=p, minlength=edges.size - 1)[keep]
        / count[keep],
        observed_rate=np.bincount(codes, weights=events, minlength=edges.size - 1)[keep]
        / count[keep],
        count=count[keep].astype(np.int64), edges=edges)
