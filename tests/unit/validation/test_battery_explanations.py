"""The battery on scored rows: explanations are a test with a verdict, not a silent gap."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from bankml.core.registry import Domain
from bankml.core.validation import Opinion, Verdict
from bankml.datasets import german_credit
from bankml.training.preprocessing import build_preprocessing
from bankml.training.spec import Preprocessing, WoeBinning
from bankml.validation.battery import BatteryResult, Population, Reference, run_battery
from bankml.validation.policy import default_policy

NUMERIC = ["duration_months", "credit_amount", "installment_rate_pct", "residence_since",
           "existing_credits", "num_dependents"]
CATEGORICAL = ["checking_status", "credit_history", "savings_status"]


def battery(model: Any, inputs: list[str]) -> BatteryResult:
    """The credit battery on the German credit twin, half fitted on and half validated."""
    frame = german_credit.synthesize_german_credit(rows=1_200, seed=5)
    train, test = frame.iloc[:600], frame.iloc[600:].reset_index(drop=True)
    model.fit(train[inputs], train[german_credit.TARGET])

    def score(rows: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict_proba(rows[inputs])[:, 1], dtype=np.float64)

    population = Population(name="out_of_time", inputs=test[inputs],
                            labels=test[german_credit.TARGET].to_numpy(),
                            scores=score(test), protected=pd.DataFrame(index=test.index))
    reference = Reference(inputs=train[inputs].reset_index(drop=True), scores=score(train))
    return run_battery(default_policy(Domain.CREDIT), Domain.CREDIT, population, reference,
                       model=score, explain_model=model,
                       decision_cutoffs={"approve_below": 0.15, "decline_from": 0.45})


def test_a_model_that_cannot_be_explained_is_a_red_finding() -> None:
    """A step that mixes inputs (PCA) leaves decline reasons unattributable: the test is
    red, names the rule, and the opinion is at least "major deficiencies"."""
    mixing = Pipeline([("scale", ColumnTransformer([("scale", StandardScaler(), NUMERIC)])),
                       ("mix", PCA(n_components=3)), ("model", LogisticRegression())])

    result = battery(mixing, NUMERIC)

    [test] = [t for t in result.tests if t.test == "soundness.explainable"]
    assert test.verdict == Verdict.RED
    assert "explain.attributable" in test.detail
    assert default_policy(Domain.CREDIT).opinion.opinion(result.tests) >= \
        Opinion.MAJOR_DEFICIENCIES
    assert result.details.charts["explanations"]["rule"] == "explain.attributable"


def test_a_woe_scorecard_is_explained_by_its_inputs() -> None:
    """Training's WoE preprocessing explains to one contribution per input: green."""
    inputs = [*NUMERIC, *CATEGORICAL]
    frame = german_credit.synthesize_german_credit(rows=10, seed=5)[inputs]
    scorecard = Pipeline([
        ("prepare", build_preprocessing(Preprocessing(woe_binning=WoeBinning(bins=4)), frame)),
        ("model", LogisticRegression(max_iter=1000))])

    result = battery(scorecard, inputs)

    [test] = [t for t in result.tests if t.test == "soundness.explainable"]
    assert test.verdict == Verdict.GREEN
    explained = result.details.charts["explanations"]
    assert explained["method"] == "linear"
    assert sorted(i["feature"] for i in explained["importance"]) == sorted(inputs)


@pytest.mark.parametrize("domain", list(Domain))
def test_every_shipped_policy_grades_explainability(domain: Domain) -> None:
    """Each domain's policy has the threshold the battery needs for `soundness.explainable`."""
    assert default_policy(domain).threshold("soundness.explainable") is not None
