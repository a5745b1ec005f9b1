"""A probability-of-default model: one-hot categories, scaled numbers, logistic regression.

A quick baseline without a spec, for tests and notebooks; `bankml train` runs declared,
reproducible pipeline specs (see `bankml.training.pipeline`).
Protected attributes are never inputs: they are kept for fairness testing only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bankml.core.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class TrainedModel:
    pipeline: Pipeline
    inputs: list[str]
    metrics: dict[str, float]
    holdout: pd.DataFrame  # rows never seen in fitting, with the target, for scoring demos


def train_pd_model(frame: pd.DataFrame, *, target: str, exclude: tuple[str, ...] = (),
                   holdout_share: float = 0.3, seed: int = 7) -> TrainedModel:
    """Fit on a stratified share of `frame` and report AUC, Gini and Brier on the rest."""
    if target not in frame.columns:
        raise InvalidInputError("target", f"column {target!r} is not in the data")
    labels = frame[target]
    if set(labels.unique()) != {0, 1}:
        raise InvalidInputError(target, "the target must hold both 0 and 1 and nothing else")
    inputs = [c for c in frame.columns if c != target and c not in exclude
              and not pd.api.types.is_datetime64_any_dtype(frame[c])]  # dates are not inputs
    train, holdout = train_test_split(frame, test_size=holdout_share, random_state=seed,
                                      stratify=labels)
    pipeline = _pipeline(train[inputs], seed).fit(train[inputs], train[target])
    scores = pipeline.predict_proba(holdout[inputs])[:, 1]
    auc = float(roc_auc_score(holdout[target], scores))
    metrics = {"auc": auc, "gini": 2 * auc - 1,
               "brier": float(brier_score_loss(holdout[target], scores)),
               "default_rate": float(np.mean(holdout[target])),
               "train_rows": float(len(train)), "holdout_rows": float(len(holdout))}
    return TrainedModel(pipeline, inputs, metrics, holdout.reset_index(drop=True))


def _pipeline(inputs: pd.DataFrame, seed: int) -> Pipeline:
    numeric = [c for c in inputs.columns if pd.api.types.is_numeric_dtype(inputs[c])]
    categorical = [c for c in inputs.columns if c not in numeric]
    prepare = ColumnTransformer([
        ("numeric", StandardScaler(), numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
    ])
    return Pipeline([("prepare", prepare),
                     ("model", LogisticRegression(max_iter=1_000, random_state=seed))])
