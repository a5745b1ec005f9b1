"""Scoring rows of a decision, and the columns their reasons are explained on.

A decision scores one row or a few. Going through pandas and scikit-learn's checks costs
milliseconds for one row, far more than the model itself, so the common pipeline that
`bankml train` builds for numeric inputs (median/mean/zero imputation, optional scaling,
then LightGBM) is compiled into the same arithmetic on a numpy matrix. The
compiled path is exact: it performs the operations scikit-learn performs, in the same
order, on the same float64 values, so a score and its reasons are bit-identical to the
general path that replay uses (tested). Anything else (categories, WoE, models
registered by hand) takes the general path, through a DataFrame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from bankml.arrays import FloatArray
from bankml.explain import Explainer


class Scorer(Protocol):
    """Scores rows (dicts of the model's inputs) and explains some of them."""

    def score(self, rows: Sequence[Mapping[str, Any]]) -> Scored: ...


@dataclass(frozen=True, slots=True, eq=False)
class Scored:
    """The event probability of each row, and how to explain any of the rows."""

    scores: FloatArray
    _explain: Any  # Callable[[list[int]], FloatArray]: contributions, rows x inputs

    def contributions(self, rows: list[int]) -> FloatArray:
        """Each input's contribution for the chosen rows (rows x inputs)."""
        values: FloatArray = self._explain(rows)
        return values


def scorer_for(model: Any, inputs: Sequence[str], explainer: Explainer | None) -> Scorer:
    """The compiled scorer when the model's preparation compiles; the general one else."""
    compiled = _compile(model, list(inputs))
    if compiled is None:
        return FrameScorer(model, list(inputs), explainer)
    return CompiledScorer(model, list(inputs), compiled, explainer)


class FrameScorer:
    """Any model with `predict_proba(frame)`: rows become a DataFrame of the inputs."""

    def __init__(self, model: Any, inputs: list[str], explainer: Explainer | None) -> None:
        self._model, self._inputs, self._explainer = model, inputs, explainer

    def score(self, rows: Sequence[Mapping[str, Any]]) -> Scored:
        frame = pd.DataFrame(list(rows), columns=self._inputs)
        scores = np.asarray(self._model.predict_proba(frame)[:, 1], dtype=np.float64)
        explainer = self._explainer

        def explain(chosen: list[int]) -> FloatArray:
            if explainer is None:
                raise AssertionError("this endpoint gives no reasons")  # pragma: no cover
            return explainer.explain(frame.iloc[chosen]).values
        return Scored(scores, explain)


@dataclass(frozen=True, slots=True)
class _Steps:
    """A numeric preparation as arithmetic: fill gaps per column, then centre and scale."""

    fill: FloatArray | None  # per column; None: gaps stay NaN
    mean: FloatArray | None
    scale: FloatArray | None


class CompiledScorer:
    """A `bankml train` LightGBM model whose preparation is numeric: scored on a matrix."""

    def __init__(self, model: Any, inputs: list[str], steps: _Steps,
                 explainer: Explainer | None) -> None:
        self._model, self._inputs, self._steps = model, inputs, steps
        self._explainer = explainer

    def prepare(self, rows: Sequence[Mapping[str, Any]]) -> FloatArray:
        """The estimator's columns for `rows`, as the model's preprocessing makes them."""
        matrix = np.array([[math.nan if row[name] is None else row[name]
                            for name in self._inputs] for row in rows], dtype=np.float64)
        steps = self._steps
        if steps.fill is not None:
            gaps = np.isnan(matrix)
            if gaps.any():
                matrix[gaps] = np.broadcast_to(steps.fill, matrix.shape)[gaps]
        if steps.mean is not None:
            matrix -= steps.mean
        if steps.scale is not None:
            matrix /= steps.scale
        return matrix

    def score(self, rows: Sequence[Mapping[str, Any]]) -> Scored:
        columns = self.prepare(rows)
        model = self._model
        estimator = model.estimator
        # One thread: starting OpenMP workers for a few rows costs more than it saves
        # (each row is scored by one thread either way, so the score is the same bits).
        raw = np.asarray(estimator.predict(columns, num_threads=1), dtype=np.float64)
        scores = np.asarray(model.calibrate(raw), dtype=np.float64)
        explainer = self._explainer

        def explain(chosen: list[int]) -> FloatArray:
            if explainer is None:
                raise AssertionError("this endpoint gives no reasons")  # pragma: no cover
            return explainer.contributions(columns[chosen])
        return Scored(scores, explain)


def _compile(model: Any, inputs: list[str]) -> _Steps | None:
    """The arithmetic of a numeric ColumnTransformer as `bankml train` builds it, or None."""
    import lightgbm as lgb  # noqa: PLC0415 - loaded with the model anyway
    from sklearn.compose import ColumnTransformer  # noqa: PLC0415

    preprocess = getattr(model, "preprocess", None)
    # LightGBM alone: it copies any matrix into the same row-major block, whereas a
    # BLAS-backed estimator (a linear model) may round differently in the last bit on a
    # matrix laid out otherwise than scikit-learn's preprocessing leaves it.
    if not isinstance(preprocess, ColumnTransformer) or not isinstance(
            getattr(model, "estimator", None), lgb.Booster):
        return None
    used = [(t, list(np.atleast_1d(c))) for _, t, c in preprocess.transformers_
            if len(np.atleast_1d(c)) and t != "drop"]
    if len(used) != 1 or used[0][1] != inputs:  # one step, every input in order
        return None
    steps = _steps_of(used[0][0])
    return None if steps is None else _arithmetic(steps)


def _steps_of(transformer: Any) -> list[Any] | None:
    from sklearn.pipeline import Pipeline  # noqa: PLC0415
    from sklearn.preprocessing import FunctionTransformer  # noqa: PLC0415

    if transformer == "passthrough" or (  # once fitted, passthrough is this
            isinstance(transformer, FunctionTransformer) and transformer.func is None):
        return []
    return [step for _, step in transformer.steps] if isinstance(transformer, Pipeline) \
        else None


def _arithmetic(steps: list[Any]) -> _Steps | None:
    """An imputer first, a scaler last, nothing else; or None."""
    from sklearn.impute import SimpleImputer  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    fill = mean = scale = None
    for position, step in enumerate(steps):
        if isinstance(step, SimpleImputer) and position == 0 and _plain_imputer(step):
            fill = np.asarray(step.statistics_, dtype=np.float64)
            if np.isnan(fill).any():  # it would drop that column
                return None
        elif isinstance(step, StandardScaler) and position == len(steps) - 1:
            mean = np.asarray(step.mean_, dtype=np.float64) if step.with_mean else None
            scale = np.asarray(step.scale_, dtype=np.float64) if step.with_std else None
        else:
            return None
    return _Steps(fill=fill, mean=mean, scale=scale)


def _plain_imputer(imputer: Any) -> bool:
    missing = imputer.missing_values
    return (imputer.strategy in {"median", "mean", "constant"} and not imputer.add_indicator
            and isinstance(missing, float) and math.isnan(missing))


__all__ = ["CompiledScorer", "FrameScorer", "Scored", "Scorer", "scorer_for"]
