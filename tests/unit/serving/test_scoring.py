"""The compiled scorer gives the general path's scores and contributions to the last bit."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from bankml.explain import Method, explainer_for, sample_background
from bankml.registry.flavours import ScoringModel
from bankml.serving.scoring import CompiledScorer, FrameScorer, scorer_for
from bankml.training.preprocessing import build_preprocessing
from bankml.training.spec import NumericPreprocessing, Preprocessing

INPUTS = [f"x{i}" for i in range(6)]


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, len(INPUTS)))
    values[rng.random(values.shape) < 0.1] = np.nan  # gaps the imputer fills
    return pd.DataFrame(values, columns=INPUTS)


def fitted(impute: str, scale: bool, estimator: str) -> ScoringModel:
    train = frame(2_000, seed=1)
    labels = (np.nan_to_num(train.to_numpy()).sum(axis=1) > 0).astype(int)
    prepare = build_preprocessing(
        Preprocessing(numeric=NumericPreprocessing(impute=impute, scale=scale)), train)
    columns = prepare.fit_transform(train)
    model = (lgb.train({"objective": "binary", "verbosity": -1, "num_leaves": 7},
                       lgb.Dataset(columns, label=labels), num_boost_round=30)
             if estimator == "lightgbm" else LogisticRegression().fit(columns, labels))
    return ScoringModel(inputs=INPUTS, preprocess=prepare, estimator=model)


def rows_of(data: pd.DataFrame) -> list[dict[str, float | None]]:
    return [{k: (None if np.isnan(v) else float(v)) for k, v in row.items()}
            for row in data.to_dict(orient="records")]


@pytest.mark.parametrize(("impute", "scale", "estimator"), [
    ("median", False, "lightgbm"), ("mean", True, "lightgbm"), ("zero", False, "lightgbm"),
    ("none", False, "lightgbm")])
def test_compiled_scores_equal_predict_proba_bit_for_bit(impute: str, scale: bool,
                                                         estimator: str) -> None:
    model = fitted(impute, scale, estimator)
    scorer = scorer_for(model, INPUTS, None)
    data = frame(300, seed=2)

    scored = scorer.score(rows_of(data))

    assert isinstance(scorer, CompiledScorer)
    assert np.array_equal(scored.scores, model.predict_proba(data)[:, 1])


def test_compiled_contributions_equal_the_explainers() -> None:
    """Reasons of a decision are the explanation `bankml explain` gives for its inputs."""
    model = fitted("median", False, "lightgbm")
    explainer = explainer_for(model, sample_background(frame(200, seed=3)), features=INPUTS,
                              method=Method.LIGHTGBM)
    data = frame(50, seed=4)

    scored = scorer_for(model, INPUTS, explainer).score(rows_of(data))

    chosen = [0, 7, 49]
    assert np.array_equal(scored.contributions(chosen),
                          explainer.explain(data.iloc[chosen]).values)


def test_a_linear_model_takes_the_general_path() -> None:
    """Its BLAS may round differently on another matrix layout: no compiled path."""
    model = fitted("median", True, "logistic")

    assert isinstance(scorer_for(model, INPUTS, None), FrameScorer)


def test_categories_take_the_general_path() -> None:
    train = pd.DataFrame({"x0": [0.0, 1.0, 2.0, 3.0], "kind": ["a", "b", "a", "b"]})
    prepare = build_preprocessing(Preprocessing(), train)
    model = ScoringModel(inputs=["x0", "kind"], preprocess=prepare,
                         estimator=LogisticRegression().fit(prepare.fit_transform(train),
                                                            [0, 1, 0, 1]))

    scorer = scorer_for(model, ["x0", "kind"], None)

    assert isinstance(scorer, FrameScorer)
    assert np.array_equal(scorer.score([{"x0": 1.5, "kind": "a"}]).scores,
                          model.predict_proba(pd.DataFrame({"x0": [1.5], "kind": ["a"]}))[:, 1])
