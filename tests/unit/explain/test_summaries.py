"""Global importance and dependence data from contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bankml.core.errors import InvalidInputError
from bankml.explain import Explanation, Method, dependence, global_importance


def explanation(values: list[list[float]]) -> Explanation:
    array = np.asarray(values, dtype=np.float64)
    inputs = pd.DataFrame({"a": np.arange(len(values), dtype=float),
                           "b": ["x"] * len(values), "c": np.ones(len(values))})
    return Explanation(method=Method.LINEAR, space="log-odds", features=("a", "b", "c"),
                       values=array, expected_value=0.0, inputs=inputs,
                       reference={"a": 1.0, "c": 1.0}, background_sha256="0" * 64, seed=0,
                       explainer_version="test")


def test_importance_is_the_mean_absolute_contribution() -> None:
    """Mean |phi| per input, largest first, equal means ordered by name."""
    ranked = global_importance(explanation([[1.0, -2.0, 0.5], [-3.0, 0.0, -0.5],
                                            [2.0, 4.0, 0.0]]))

    assert [(r.feature, r.rank) for r in ranked] == [("a", 1), ("b", 2), ("c", 3)]
    assert ranked[0].mean_abs_contribution == pytest.approx(2.0, abs=1e-12)


def test_equal_importance_is_ordered_by_name() -> None:
    """Ties in mean |phi| are broken by the feature name, deterministically."""
    ranked = global_importance(explanation([[0.0, 1.0, -1.0]]))

    assert [r.feature for r in ranked] == ["b", "c", "a"]


def test_dependence_pairs_values_with_contributions() -> None:
    """Dependence data is the input's value against its contribution, row by row."""
    data = dependence(explanation([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]), "a")

    assert data.values.tolist() == [0.0, 1.0]
    assert data.contributions.tolist() == [1.0, 2.0]


def test_dependence_of_an_unknown_feature_is_refused() -> None:
    """Only model inputs have dependence data."""
    with pytest.raises(InvalidInputError, match=r"'z' is not a model input"):
        dependence(explanation([[0.0, 0.0, 0.0]]), "z")


def test_directions_compare_with_the_background_mean() -> None:
    """Numeric inputs above the background mean are "high", others "low"."""
    assert explanation([[0.0] * 3] * 3).directions(2) == {"a": "high", "c": "low"}
