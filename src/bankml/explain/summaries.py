"""Global views of many rows' contributions: importance ranking and dependence data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bankml.arrays import FloatArray
from bankml.core.errors import InvalidInputError
from bankml.explain.explainers import Explanation


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureImportance:
    """Mean absolute contribution of one input over the explained rows."""

    feature: str
    mean_abs_contribution: float
    rank: int  # 1 = most important


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Dependence:
    """An input's value against its contribution, row by row (a SHAP dependence plot)."""

    feature: str
    values: npt.NDArray[np.object_] | FloatArray  # the input's original values
    contributions: FloatArray


def global_importance(explanation: Explanation) -> tuple[FeatureImportance, ...]:
    """Inputs ranked by mean |contribution| (global SHAP importance); ties by name."""
    means = np.abs(explanation.values).mean(axis=0)
    order = sorted(range(len(explanation.features)),
                   key=lambda j: (-means[j], explanation.features[j]))
    return tuple(FeatureImportance(feature=explanation.features[j],
                                   mean_abs_contribution=float(means[j]), rank=rank)
                 for rank, j in enumerate(order, start=1))


def dependence(explanation: Explanation, feature: str) -> Dependence:
    """Each explained row's value of `feature` with the contribution it received."""
    if feature not in explanation.features:
        raise InvalidInputError("feature", f"{feature!r} is not a model input; inputs are "
                                f"{list(explanation.features)}", rule="explain.known_feature")
    j = explanation.features.index(feature)
    return Dependence(feature=feature, values=explanation.inputs[feature].to_numpy(),
                      contributions=explanation.values[:, j].copy())
