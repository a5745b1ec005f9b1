"""Sensitivity, extreme values and monotonicity on a model with known behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from bankml.core.errors import InvalidInputError
from bankml.validation.soundness import extreme_values, monotonicity, sensitivity


def fitted() -> tuple[LogisticRegression, pd.DataFrame]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"debt": rng.uniform(0, 10, 400), "income": rng.uniform(1, 5, 400)})
    risk = 0.8 * frame.debt - 1.2 * frame.income
    labels = (rng.random(400) < 1 / (1 + np.exp(-risk))).astype(int)
    return LogisticRegression().fit(frame, labels), frame


def test_sensitivity_is_the_mean_score_change() -> None:
    """+10% on a feature changes the score by the mean of the re-scored differences."""
    model, frame = fitted()
    base = model.predict_proba(frame)[:, 1]
    up = model.predict_proba(frame.assign(debt=frame.debt * 1.1))[:, 1]

    debt, _, joint = sensitivity(model, frame, ["debt", "income"], delta=0.1)

    assert debt.mean_change_up == pytest.approx(np.mean(up - base), abs=1e-12)
    assert debt.mean_change_up > 0 > debt.mean_change_down
    assert joint.feature == "joint"


def test_callable_models_are_accepted() -> None:
    """A plain function of the frame is a model too."""
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})

    [x, _] = sensitivity(lambda f: f.x / 10, frame, ["x"], delta=1.0, relative=False)

    assert x.mean_change_up == pytest.approx(0.1)


def test_extreme_values_of_a_logistic_model_stay_valid() -> None:
    """A logistic model returns probabilities in [0, 1] even far outside the data."""
    model, frame = fitted()

    results = extreme_values(model, frame, ["debt"])

    assert len(results) == 5
    assert all(r.is_valid for r in results)


def test_extreme_values_catch_scores_outside_zero_one() -> None:
    """A linear score that leaves [0, 1] at the extremes is reported invalid."""
    frame = pd.DataFrame({"x": [0.0, 0.5, 1.0]})

    results = extreme_values(lambda f: f.x, frame, ["x"])

    assert [r.is_valid for r in results] == [False, True, True, False]


def test_declared_directions_hold_for_a_monotone_model() -> None:
    """Debt raises and income lowers the PD of the fitted logistic model."""
    model, frame = fitted()

    results = monotonicity(model, frame, {"debt": 1, "income": -1})

    assert all(r.holds for r in results)


def test_a_wrong_direction_is_found() -> None:
    """Declaring that debt lowers the PD fails on every row."""
    model, frame = fitted()

    [result] = monotonicity(model, frame, {"debt": -1})

    assert result.violating_rows == len(frame)
    assert result.worst_violation > 0


def test_direction_must_be_plus_or_minus_one() -> None:
    """A direction other than +1/-1 is refused."""
    model, frame = fitted()

    with pytest.raises(InvalidInputError, match="a direction is"):
        monotonicity(model, frame, {"debt": 2})
