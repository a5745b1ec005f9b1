"""SHAP values against independent references: the model itself, hand-checked linear
cases, LightGBM's own contributions and shap's path-dependent TreeExplainer."""

from __future__ import annotations

import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bankml.core.errors import InvalidInputError
from bankml.datasets import german_credit
from bankml.explain import Method, explainer_for, sample_background
from bankml.training.preprocessing import build_preprocessing
from bankml.training.spec import NumericPreprocessing, Preprocessing, WoeBinning

from .conftest import Credit


def test_pipeline_contributions_add_up_to_the_log_odds(credit: Credit) -> None:
    """Baseline plus the inputs' contributions equals the pipeline's decision function."""
    explanation = explainer_for(credit.trained.pipeline, credit.background).explain(credit.rows)

    margin = credit.trained.pipeline.decision_function(credit.rows)

    assert explanation.method == Method.LINEAR
    assert explanation.space == "log-odds"
    np.testing.assert_allclose(explanation.predictions, margin, rtol=0, atol=1e-6)


def test_pipeline_baseline_is_the_background_mean_log_odds(credit: Credit) -> None:
    """The expected value is the mean decision function over the background rows."""
    explainer = explainer_for(credit.trained.pipeline, credit.background)

    mean = credit.trained.pipeline.decision_function(credit.background.frame).mean()

    assert explainer.expected_value == pytest.approx(mean, abs=1e-9)


def test_one_hot_columns_sum_back_to_their_source_feature(credit: Credit) -> None:
    """A category's contribution is the sum of w_c (z_c - mean z_c) over its one-hot columns."""
    pipeline = credit.trained.pipeline
    prepare, model = pipeline.named_steps["prepare"], pipeline.named_steps["model"]
    encoded = prepare.transform(credit.rows.head(5))
    centred = encoded - prepare.transform(credit.background.frame).mean(axis=0)
    names = prepare.get_feature_names_out()
    columns = [i for i, n in enumerate(names) if n.startswith("categorical__checking_status_")]
    expected = (model.coef_[0, columns] * centred[:, columns]).sum(axis=1)

    explanation = explainer_for(pipeline, credit.background).explain(credit.rows.head(5))

    assert len(columns) == 4
    np.testing.assert_allclose(explanation.values[:, explanation.features.index(
        "checking_status")], expected, rtol=0, atol=1e-9)


def test_linear_contribution_is_weight_times_distance_from_the_mean() -> None:
    """Hand-checked: y = 1 + 2 a - 3 b, background means a = 2, b = 2; at (5, 0) phi = (6, 6)."""
    background = pd.DataFrame({"a": [0.0, 2.0, 4.0], "b": [1.0, 1.0, 4.0]})
    model = LinearRegression().fit(background, 1 + 2 * background.a - 3 * background.b)

    explainer = explainer_for(model, sample_background(background))
    explanation = explainer.explain(pd.DataFrame({"a": [5.0], "b": [0.0]}))

    np.testing.assert_allclose(explanation.values, [[6.0, 6.0]], rtol=0, atol=1e-9)
    assert explanation.expected_value == pytest.approx(1 + 2 * 2 - 3 * 2, abs=1e-9)


def test_lightgbm_contributions_add_up_to_the_raw_score(
        lightgbm_credit: tuple[lgb.LGBMClassifier, pd.DataFrame]) -> None:
    """Interventional TreeSHAP on LightGBM adds up to its log-odds, from the background mean."""
    model, inputs = lightgbm_credit
    background = sample_background(inputs, rows=100, seed=1)
    rows = inputs.tail(40)

    explanation = explainer_for(model, background).explain(rows)

    assert explanation.method == Method.TREE
    np.testing.assert_allclose(explanation.predictions, model.predict(rows, raw_score=True),
                               rtol=0, atol=1e-6)
    assert explanation.expected_value == pytest.approx(
        model.predict(background.frame, raw_score=True).mean(), abs=1e-6)


def test_lightgbm_native_contributions_equal_tree_explainer(
        lightgbm_credit: tuple[lgb.LGBMClassifier, pd.DataFrame]) -> None:
    """pred_contrib equals shap's path-dependent TreeExplainer in log-odds, to 1e-6."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's plotting module warns on import
        import shap  # noqa: PLC0415

    model, inputs = lightgbm_credit
    rows = inputs.tail(40)
    reference = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # shap notes its list-output change
        expected = np.asarray(reference.shap_values(rows.to_numpy()))

    explainer = explainer_for(model, sample_background(inputs), method="lightgbm")
    explanation = explainer.explain(rows)

    np.testing.assert_allclose(explanation.values, expected, rtol=0, atol=1e-6)
    assert explanation.expected_value == pytest.approx(float(np.ravel(
        reference.expected_value)[-1]), abs=1e-6)
    np.testing.assert_allclose(explanation.predictions, model.predict(rows, raw_score=True),
                               rtol=0, atol=1e-6)


def test_forest_contributions_add_up_to_the_event_probability(
        lightgbm_credit: tuple[lgb.LGBMClassifier, pd.DataFrame]) -> None:
    """A scikit-learn forest is explained in probability space, event class."""
    _, inputs = lightgbm_credit
    labels = (inputs["duration_months"] > 24).astype(int)
    forest = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    forest.fit(inputs, labels)
    rows = inputs.tail(20)

    explanation = explainer_for(forest, sample_background(inputs, rows=50)).explain(rows)

    assert explanation.space == "probability"
    np.testing.assert_allclose(explanation.predictions, forest.predict_proba(rows)[:, 1],
                               rtol=0, atol=1e-6)


def test_lime_explains_models_without_a_shap_explainer(credit: Credit) -> None:
    """A nearest-neighbour pipeline gets LIME contributions per original input."""
    pipeline = Pipeline([("prepare", credit.trained.pipeline.named_steps["prepare"]),
                         ("model", KNeighborsClassifier(n_neighbors=15))])
    pipeline.fit(credit.background.frame, np.arange(credit.background.rows) % 2)

    explainer = explainer_for(pipeline, credit.background, seed=5, lime_samples=500)
    explanation = explainer.explain(credit.rows.head(2))

    assert explanation.method == Method.LIME
    assert explanation.values.shape == (2, len(credit.trained.inputs))
    assert explanation.explainer_version.startswith("lime ")


def test_lime_gives_the_same_explanation_twice(credit: Credit) -> None:
    """LIME is re-seeded for every row, so explaining a row again gives equal bits."""
    pipeline = Pipeline([("prepare", credit.trained.pipeline.named_steps["prepare"]),
                         ("model", KNeighborsClassifier(n_neighbors=15))])
    pipeline.fit(credit.background.frame, np.arange(credit.background.rows) % 2)
    explainer = explainer_for(pipeline, credit.background, seed=5, lime_samples=500)

    first = explainer.explain(credit.rows.head(1)).values
    again = explainer.explain(credit.rows.head(1)).values

    assert first.tobytes() == again.tobytes()


def test_a_method_that_does_not_fit_the_model_is_refused(credit: Credit) -> None:
    """Asking for LightGBM contributions of a logistic regression names the rule."""
    with pytest.raises(InvalidInputError, match=r"lightgbm cannot explain LogisticRegression"):
        explainer_for(credit.trained.pipeline, credit.background, method="lightgbm")


def test_steps_that_mix_inputs_cannot_be_attributed(credit: Credit) -> None:
    """A PCA step blends inputs, so its columns cannot be summed back to one feature."""
    numeric = [c for c in credit.trained.inputs
               if pd.api.types.is_numeric_dtype(credit.background.frame[c])]
    pipeline = Pipeline([
        ("prepare", ColumnTransformer([("scale", StandardScaler(), numeric)])),
        ("mix", PCA(n_components=2)), ("model", LinearRegression())])
    pipeline.fit(credit.background.frame, np.arange(credit.background.rows, dtype=float))

    with pytest.raises(InvalidInputError, match=r"PCA makes column 'pca0' from more than one"):
        explainer_for(pipeline, credit.background)


def test_dropped_columns_and_passthrough_map_to_their_inputs() -> None:
    """Passthrough columns keep their input; one-hot columns of `b` sum to `b`."""
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "z"],
                          "c": [0.0, 1.0, 0.0, 1.0]})
    prepare = ColumnTransformer([("hot", OneHotEncoder(), ["b"])], remainder="passthrough")
    model = Pipeline([("prepare", prepare), ("model", LinearRegression())])
    model.fit(frame, [1.0, 3.0, 2.0, 5.0])

    explanation = explainer_for(model, sample_background(frame)).explain(frame)

    assert explanation.features == ("a", "b", "c")
    np.testing.assert_allclose(explanation.predictions, model.predict(frame), atol=1e-9)


def test_an_all_numeric_model_as_training_builds_it_is_attributed() -> None:
    """Training's preprocessing of numbers only keeps an empty categorical step; it makes
    no column, so every contribution still maps to its input."""
    frame = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0, 5.0], "b": [0.0, 1.0, 0.0, 1.0, 0.5]})
    prepare = build_preprocessing(Preprocessing(numeric=NumericPreprocessing(scale=False)),
                                  frame)
    model = Pipeline([("prepare", prepare), ("model", LinearRegression())])
    model.fit(frame, [1.0, 3.0, 2.0, 5.0, 4.0])

    explanation = explainer_for(model, sample_background(frame)).explain(frame)

    assert explanation.features == ("a", "b")
    np.testing.assert_allclose(explanation.predictions, model.predict(frame), atol=1e-9)


def test_woe_scorecard_contributions_are_weight_times_woe_distance(credit: Credit) -> None:
    """On a logistic model over WoE columns, each input's log-odds contribution is
    coef_j (woe_j(x) - mean over the background of woe_j), checked by hand."""
    inputs = credit.trained.inputs
    frame = german_credit.synthesize_german_credit()
    prepare = build_preprocessing(Preprocessing(woe_binning=WoeBinning(bins=4)),
                                  frame[inputs])
    model = Pipeline([("prepare", prepare), ("model", LogisticRegression(max_iter=1000))])
    model.fit(frame[inputs], frame[german_credit.TARGET])
    woe, coef = prepare.transform(credit.rows), model.named_steps["model"].coef_[0]
    expected = coef * (woe - prepare.transform(credit.background.frame).mean(axis=0))

    explanation = explainer_for(model, credit.background).explain(credit.rows)

    assert explanation.features == tuple(inputs)
    np.testing.assert_allclose(explanation.values, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(explanation.predictions, model.decision_function(credit.rows),
                               rtol=0, atol=1e-6)
