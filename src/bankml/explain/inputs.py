"""From a model's original inputs to its estimator's columns, and contributions back.

A scikit-learn Pipeline is split into its preprocessing steps and the final estimator.
The estimator is explained on the columns it sees (scaled numbers, one column per
category after one-hot encoding, ...); each of those columns comes from exactly one
original input, found by asking every fitted step for `get_feature_names_out` with
placeholder names. The contributions of the columns derived from an input are summed to
give that input's contribution, so explanations and reason codes speak of the features a
customer and a validator know (`checking_status`, not `checking_status_< 0 DM`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.errors import InvalidInputError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

_PLACEHOLDER = re.compile(r"^in(\d+)(?:_|$)")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Preparation:
    """How original inputs become the estimator's columns, and how to sum them back."""

    features: tuple[str, ...]
    transform: Callable[[pd.DataFrame], FloatArray]
    sources: tuple[int, ...]  # for each estimator column, the index of its original input

    def to_inputs(self, values: FloatArray) -> FloatArray:
        """Sum per-column values (rows x columns) into per-input values (rows x inputs).

        Columns are added in a fixed order per input, so the result is bit-reproducible.
        """
        sources = np.asarray(self.sources)
        if sources.size == len(self.features) and (sources == np.arange(sources.size)).all():
            return np.asarray(values, dtype=np.float64)
        summed = np.zeros((values.shape[0], len(self.features)), dtype=np.float64)
        for column, source in enumerate(self.sources):
            summed[:, source] += values[:, column]
        return summed


def split_model(model: Any, features: Sequence[str]) -> tuple[Preparation, Any]:
    """Split `model` into the preparation of `features` and the estimator to explain."""
    from sklearn.pipeline import Pipeline  # noqa: PLC0415 - loads on first use
    names = tuple(features)
    if hasattr(model, "preprocess") and hasattr(model, "estimator"):
        # A registry model: its preprocessing and estimator form a pipeline. A calibration
        # after them is monotone, so the raw score it maps explains the ranking alike.
        model = Pipeline([("prepare", model.preprocess), ("model", model.estimator)])
    if isinstance(model, Pipeline):
        steps = [step for _, step in model.steps[:-1] if step not in (None, "passthrough")]
        estimator = model.steps[-1][1]
        sources = np.arange(len(names))
        for step in steps:
            sources = sources[_step_sources(step, len(sources))]
        prepare = Pipeline([(f"step{i}", s) for i, s in enumerate(steps)]) if steps else None
        return Preparation(features=names, transform=_transformer(prepare, names),
                           sources=tuple(int(s) for s in sources)), estimator
    return Preparation(features=names, transform=_transformer(None, names),
                       sources=tuple(range(len(names)))), model


def _transformer(prepare: Pipeline | None,
                 names: tuple[str, ...]) -> Callable[[pd.DataFrame], FloatArray]:
    ordered = list(names)

    def transform(frame: pd.DataFrame) -> FloatArray:
        if frame.columns.tolist() != ordered:  # the common case skips a column selection
            missing = [n for n in names if n not in frame.columns]
            if missing:
                raise InvalidInputError("frame", f"lacks the model inputs {missing}",
                                        rule="explain.inputs_present")
            frame = frame[ordered]
        if prepare is None:
            return _dense(frame)
        return _dense(prepare.transform(frame))
    return transform


def _dense(values: Any) -> FloatArray:
    if hasattr(values, "toarray"):  # one-hot encoders may return a sparse matrix
        values = values.toarray()
    try:
        if isinstance(values, pd.DataFrame):
            return values.to_numpy(dtype=np.float64)
        return np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("frame", "the model's inputs are not all numeric and it has "
                                "no preprocessing step that encodes them",
                                rule="explain.numeric_inputs") from exc


def _step_sources(step: Any, width: int) -> list[int]:
    """For each output column of a fitted step, the index of the input column it came from."""
    from sklearn.compose import ColumnTransformer  # noqa: PLC0415 - loads on first use
    if isinstance(step, ColumnTransformer):
        positions = {name: i for i, name in enumerate(step.feature_names_in_)} \
            if hasattr(step, "feature_names_in_") else {}
        out: list[int] = []
        for _, transformer, columns in step.transformers_:
            if transformer == "drop":
                continue
            indices = [positions[c] if isinstance(c, str) else int(c)
                       for c in np.atleast_1d(columns)]
            if not indices:  # e.g. the categorical step of an all-numeric model: no output
                continue
            if transformer == "passthrough":
                out.extend(indices)
            else:
                out.extend(indices[i] for i in _step_sources(transformer, len(indices)))
        return out
    placeholders = [f"in{i}" for i in range(width)]
    try:
        outputs = _with_inputs_named(step, placeholders).get_feature_names_out(placeholders)
    except (AttributeError, TypeError, ValueError) as exc:
        raise InvalidInputError("model", f"step {type(step).__name__} cannot name its output "
                                "columns, so they cannot be attributed to inputs",
                                rule="explain.attributable") from exc
    sources = []
    for name in outputs:
        match = _PLACEHOLDER.match(str(name))
        if match is None:
            raise InvalidInputError("model", f"step {type(step).__name__} makes column "
                                    f"{name!r} from more than one input; contributions "
                                    "cannot be summed back to one feature",
                                    rule="explain.attributable")
        sources.append(int(match.group(1)))
    return sources


def _with_inputs_named(step: Any, names: list[str]) -> Any:
    """A shallow copy of a fitted step that believes its inputs were called `names`.

    Steps fitted on a frame only name outputs for their own input names, which may share
    prefixes; placeholder names make every output's source unambiguous.
    """
    from sklearn.pipeline import Pipeline  # noqa: PLC0415 - loads on first use
    renamed = copy.copy(step)
    if isinstance(step, Pipeline):
        (first_name, first), *rest = step.steps
        renamed.steps = [(first_name, _with_inputs_named(first, names)), *rest]
    elif hasattr(step, "feature_names_in_"):
        renamed.feature_names_in_ = np.asarray(names, dtype=object)
    return renamed
