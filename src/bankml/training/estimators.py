"""Fitting the estimator a spec declares: logistic regression, LightGBM, or a scikit-learn
classifier on the allowlist. Every source of randomness takes the spec's seed."""

from __future__ import annotations

import inspect
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from bankml.training.allowlist import AllowedEstimator
from bankml.training.spec import Calibration, Estimator

# LightGBM defaults that make a fit repeatable bit for bit on the same data and threads.
LIGHTGBM_DEFAULTS = {"objective": "binary", "verbosity": -1, "deterministic": True,
                     "force_row_wise": True}


class EstimatorError(ValueError):
    """The declared estimator cannot be built; the caller names the spec line."""


def fit_estimator(allowed: AllowedEstimator, features: np.ndarray, labels: np.ndarray, *,
                  seed: int, threads: int, categorical: list[int]) -> Any:
    """The fitted estimator: a scikit-learn classifier or a lightgbm.Booster.

    Only a checked declaration (`check_estimator`) can be fitted.
    """
    declared = allowed.declared
    if allowed.factory is None:
        params = {**LIGHTGBM_DEFAULTS, **declared.params, "seed": seed, "num_threads": threads}
        rounds = int(params.pop("n_estimators", params.pop("num_boost_round", 100)))
        data = lgb.Dataset(features, label=labels, categorical_feature=categorical or "auto",
                           free_raw_data=True)
        return lgb.train(params, data, num_boost_round=rounds)
    estimator = _sklearn_estimator(declared, allowed.factory, seed=seed, threads=threads)
    return estimator.fit(features, labels)


def fit_calibrator(declared: Calibration, raw_scores: np.ndarray, labels: np.ndarray) -> Any:
    """Platt scaling (a logistic fit on the raw score) or isotonic regression."""
    if declared.method == "sigmoid":
        return LogisticRegression(C=1e6).fit(raw_scores.reshape(-1, 1), labels)
    return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw_scores,
                                                                               labels)


def _sklearn_estimator(declared: Estimator, factory: type[Any], *, seed: int,
                       threads: int) -> Any:
    accepted = inspect.signature(factory).parameters
    params = dict(declared.params)
    if "random_state" in accepted:
        params.setdefault("random_state", seed)
    if "n_jobs" in accepted and declared.kind == "sklearn":  # LogisticRegression ignores it
        params.setdefault("n_jobs", threads)
    try:
        estimator = factory(**params)
    except TypeError as exc:
        raise EstimatorError(f"{factory.__name__} does not take these params: {exc}") from exc
    # The class has predict_proba; some instances do not (SVC without probability=True).
    if not hasattr(estimator, "predict_proba"):
        raise EstimatorError(f"{declared.class_path} has no predict_proba; the pipeline needs "
                             "a probabilistic classifier")
    return estimator
