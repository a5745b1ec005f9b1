"""Conceptual soundness: does the model respond to its inputs as it should?

Each check takes a model (anything with `predict_proba`, whose column 1 is the event
probability) or a callable from a frame to scores, and a frame of representative rows
(e.g. the out-of-time sample). Nothing is refitted; the model is only asked to score
perturbed copies of the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.errors import InvalidInputError
from bankml.validation.samples import column_list


class ProbabilisticModel(Protocol):
    """What the checks need from a fitted classifier."""

    def predict_proba(self, frame: pd.DataFrame, /) -> npt.NDArray[np.float64]: ...


Scorer = ProbabilisticModel | Callable[[pd.DataFrame], npt.ArrayLike]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sensitivity:
    """Mean and largest change of the score when features move by -/+ delta."""

    feature: str  # a feature name, or "joint" for all listed features together
    mean_change_down: float
    mean_change_up: float
    max_abs_change: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtremeValue:
    """Scores when one feature is set to an extreme value for every row."""

    feature: str
    value: float
    min_score: float
    max_score: float
    is_valid: bool  # all scores finite and within [0, 1]


@dataclass(frozen=True, slots=True, kw_only=True)
class Monotonicity:
    """Does the score move only in the declared direction along a feature's grid?"""

    feature: str
    direction: int  # +1: score must not fall as the feature rises; -1: must not rise
    rows_checked: int
    violating_rows: int
    worst_violation: float  # largest score step against the declared direction

    @property
    def holds(self) -> bool:
        """True when no row moves against the declared direction."""
        return self.violating_rows == 0


def score_with(model: Scorer, frame: pd.DataFrame) -> FloatArray:
    """Scores of `frame`: predict_proba's event column, or the callable's output."""
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(frame), dtype=np.float64)[:, 1]
    if callable(model):
        return np.asarray(model(frame), dtype=np.float64).reshape(-1)
    raise InvalidInputError("model", f"{type(model).__name__} has no predict_proba and is "
                            "not callable", rule="validation.scorer")


def _numeric(frame: pd.DataFrame, features: Sequence[str]) -> list[str]:
    names = column_list("features", frame, features)
    text = [f for f in names if not pd.api.types.is_numeric_dtype(frame[f])]
    if text:
        raise InvalidInputError("features", f"{text} are not numeric; perturb numeric "
                                "inputs only", rule="validation.numeric_feature")
    return names


def sensitivity(model: Scorer, frame: pd.DataFrame, features: Sequence[str], *,
                delta: float = 0.1, relative: bool = True) -> tuple[Sensitivity, ...]:
    """Score change when each feature (then all together, "joint") moves by -/+ delta.

    With `relative`, x becomes x (1 -/+ delta); otherwise x -/+ delta. Changes are
    score(perturbed) - score(original), averaged over rows; the largest absolute change of
    any row is reported too.
    """
    names = _numeric(frame, features)
    base = score_with(model, frame)
    results = []
    for label, columns in [*((f, [f]) for f in names), ("joint", names)]:
        changes = []
        for sign in (-1.0, 1.0):
            moved = frame.copy()
            for column in columns:
                values = moved[column].astype(np.float64)
                moved[column] = values * (1 + sign * delta) if relative \
                    else values + sign * delta
            changes.append(score_with(model, moved) - base)
        results.append(Sensitivity(
            feature=label, mean_change_down=float(changes[0].mean()),
            mean_change_up=float(changes[1].mean()),
            max_abs_change=float(max(np.abs(changes[0]).max(), np.abs(changes[1]).max()))))
    return tuple(results)


def extreme_values(model: Scorer, frame: pd.DataFrame, features: Sequence[str], *,
                   stretch: float = 10.0) -> tuple[ExtremeValue, ...]:
    """Score every row with one feature set to each extreme of a grid.

    The grid per feature: observed minimum and maximum, 0, and the minimum and maximum
    pushed outwards by `stretch` times the observed range. A valid model returns finite
    probabilities in [0, 1] at every point.
    """
    results = []
    for feature in _numeric(frame, features):
        low, high = float(frame[feature].min()), float(frame[feature].max())
        spread = (high - low) or 1.0
        for value in sorted({low - stretch * spread, low, 0.0, high, high + stretch * spread}):
            moved = frame.copy()
            moved[feature] = value
            scores = score_with(model, moved)
            finite = bool(np.isfinite(scores).all())
            results.append(ExtremeValue(
                feature=feature, value=value,
                min_score=float(np.nanmin(scores)) if finite else float("nan"),
                max_score=float(np.nanmax(scores)) if finite else float("nan"),
                is_valid=finite and bool(((scores >= 0) & (scores <= 1)).all())))
    return tuple(results)


def monotonicity(model: Scorer, frame: pd.DataFrame, directions: Mapping[str, int], *,
                 points: int = 11, tolerance: float = 1e-12) -> tuple[Monotonicity, ...]:
    """Check each declared direction along a grid of the feature's quantiles.

    For every row, the feature is set in turn to its 0%, 10%, ..., 100% quantiles
    (`points` of them) with the other inputs kept; the score must not step against the
    declared direction by more than `tolerance` (an individual conditional expectation
    check, as in EBA/REP/2023/28 and regulatory.md PD-40).
    """
    bad = {f: d for f, d in directions.items() if d not in (-1, 1)}
    if bad:
        raise InvalidInputError("directions", f"{bad}: a direction is +1 or -1",
                                rule="validation.direction")
    results = []
    for feature in _numeric(frame, list(directions)):
        grid = np.unique(np.quantile(frame[feature].astype(np.float64),
                                     np.linspace(0, 1, points)))
        stacked = frame.loc[frame.index.repeat(grid.size)].reset_index(drop=True)
        stacked[feature] = np.tile(grid, len(frame))
        scores = score_with(model, stacked).reshape(len(frame), grid.size)
        against = -directions[feature] * np.diff(scores, axis=1)  # > 0 means a wrong step
        worst = against.max(axis=1) if grid.size > 1 else np.zeros(len(frame))
        results.append(Monotonicity(
            feature=feature, direction=directions[feature], rows_checked=len(frame),
            violating_rows=int(np.count_nonzero(worst > tolerance)),
            worst_violation=float(max(worst.max(initial=0.0), 0.0))))
    return tuple(results)
