"""Models on the German credit twin, fitted once per test session."""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import pandas as pd
import pytest

from bankml.datasets import german_credit
from bankml.explain import Background, sample_background
from bankml.training import TrainedModel, train_pd_model


@dataclass(frozen=True)
class Credit:
    trained: TrainedModel
    background: Background
    rows: pd.DataFrame  # holdout applicants to explain


@pytest.fixture(scope="session")
def credit() -> Credit:
    """The demo's logistic-regression pipeline, its training background and holdout rows."""
    frame = german_credit.synthesize_german_credit()
    trained = train_pd_model(frame, target=german_credit.TARGET,
                             exclude=("row_id", *german_credit.PROTECTED))
    training = frame[~frame["row_id"].isin(trained.holdout["row_id"])]
    return Credit(trained, sample_background(training[trained.inputs], rows=150, seed=3),
                  trained.holdout[trained.inputs].head(60))


def numeric_credit(frame: pd.DataFrame) -> pd.DataFrame:
    """German credit inputs with categories as integer codes, for models without encoders."""
    return frame.apply(lambda c: c if pd.api.types.is_numeric_dtype(c)
                       else pd.Series(pd.factorize(c, sort=True)[0], index=c.index))


@pytest.fixture(scope="session")
def lightgbm_credit() -> tuple[lgb.LGBMClassifier, pd.DataFrame]:
    """A LightGBM PD model on the German credit twin (numeric codes), and its inputs."""
    frame = german_credit.synthesize_german_credit(rows=2_000, seed=11)
    inputs = numeric_credit(frame.drop(columns=["row_id", german_credit.TARGET,
                                                *german_credit.PROTECTED]))
    model = lgb.LGBMClassifier(n_estimators=60, num_leaves=15, learning_rate=0.1,
                               deterministic=True, num_threads=1, verbose=-1, random_state=0)
    return model.fit(inputs, frame[german_credit.TARGET]), inputs
