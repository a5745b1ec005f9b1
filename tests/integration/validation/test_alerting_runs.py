"""Validation runs of a fraud and a propensity model, checked against independent references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from bankml import Platform
from bankml.core.registry import ModelVersion
from bankml.core.validation import AlertFairness, Opinion
from bankml.datasets import load_german_credit, synthesize_card_fraud
from bankml.validation.policy import default_policy
from support.people import staff

EXAMPLES = Path(__file__).parents[3] / "src" / "bankml" / "examples"


def out_of_time(frame: pd.DataFrame, date: str, test_from: str) -> pd.DataFrame:
    """The out-of-time rows, read straight from the data."""
    return frame[pd.to_datetime(frame[date], utc=True) >= pd.Timestamp(test_from, tz="UTC")]


def scored(platform: Platform, version: ModelVersion, rows: pd.DataFrame
           ) -> tuple[np.ndarray, np.ndarray]:
    """Labels of `rows` and their scores by the registered model."""
    scores = platform.registry.load(version).predict_proba(rows[version.inputs])[:, 1]
    assert version.manifest is not None
    label = version.manifest.spec["source"]["label"]
    return rows[label].to_numpy(), scores


def top_flags(scores: np.ndarray, count: int) -> np.ndarray:
    """1 for the `count` highest scores; ties go to the earlier row."""
    rank = pd.Series(scores).rank(method="first", ascending=False).to_numpy()
    return (rank <= count).astype(int)


@pytest.fixture
def fraud(platform: Platform) -> ModelVersion:
    return platform.training.train(staff(platform, "dana"), EXAMPLES / "card_fraud.yaml")


@pytest.fixture
def propensity(platform: Platform, tmp_path: Path) -> ModelVersion:
    spec = yaml.safe_load((EXAMPLES / "german_credit_pd.yaml").read_text())
    spec["model"] |= {"name": "german-credit-propensity", "domain": "propensity",
                      "protected_attributes": ["age_years", "sex"]}
    spec["decision_policy"] = {"kind": "offer", "top_share": 0.1}
    path = tmp_path / "propensity.yaml"
    path.write_text(yaml.safe_dump(spec))
    return platform.training.train(staff(platform, "dana"), path)


def test_fraud_run_matches_scikit_learn(platform: Platform, fraud: ModelVersion) -> None:
    """AUC, precision and recall at the alert budget and precision@k equal the references."""
    vera = staff(platform, "vera")
    result = platform.validation.result(platform.validation.run(vera, fraud.ref))
    tests = {t.test: t for t in result.tests}
    rows = out_of_time(synthesize_card_fraud(), "transaction_time", "2024-10-01")
    labels, scores = scored(platform, fraud, rows)
    parameters = default_policy(platform.registry.model(fraud.name).domain).parameters
    flagged = top_flags(scores, int(np.floor(parameters.alert_budget * len(labels))))
    k = parameters.top_k
    by_score = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]

    assert tests["discrimination.auc"].value == pytest.approx(
        roc_auc_score(labels, scores), abs=1e-12)
    assert tests["alerting.precision_at_budget"].value == pytest.approx(
        precision_score(labels, flagged), abs=1e-12)
    assert tests["alerting.recall_at_budget"].value == pytest.approx(
        recall_score(labels, flagged), abs=1e-12)
    assert tests["alerting.precision_at_k"].value == pytest.approx(
        sum(labels[i] for i in by_score) / k, abs=1e-12)
    assert result.scope.out_of_time.rows == len(labels)


def test_fraud_value_detection_rate_by_hand(platform: Platform, fraud: ModelVersion) -> None:
    """With `source.value: amount`, the caught fraud amount share equals a hand sum."""
    vera = staff(platform, "vera")
    result = platform.validation.result(platform.validation.run(vera, fraud.ref))
    tests = {t.test: t for t in result.tests}
    rows = out_of_time(synthesize_card_fraud(), "transaction_time", "2024-10-01")
    labels, scores = scored(platform, fraud, rows)
    budget = default_policy(platform.registry.model(fraud.name).domain).parameters.alert_budget
    flagged = top_flags(scores, int(np.floor(budget * len(labels)))).astype(bool)
    amount = rows["amount"].to_numpy()
    fraud_rows = labels == 1

    assert tests["alerting.value_detection_rate"].value == pytest.approx(
        amount[flagged & fraud_rows].sum() / amount[fraud_rows].sum(), abs=1e-12)


def test_fraud_run_stores_an_opinion_and_verdicts(platform: Platform,
                                                  fraud: ModelVersion) -> None:
    """The fraud battery's verdicts and the opinion they roll up to are stored and agree."""
    run = platform.validation.run(staff(platform, "vera"), fraud.ref)
    result = platform.validation.result(run)
    verdicts = [str(t.verdict) for t in result.tests]

    assert platform.validation.get(run.run_id) == run
    assert result.opinion == run.opinion
    assert run.opinion in Opinion
    assert {t.test for t in result.tests} >= {
        "alerting.precision_at_budget", "alerting.recall_at_budget",
        "alerting.precision_at_k", "fairness.alert_rate_ratio[age_years]"}
    assert result.out_of_time.fairness
    assert all(isinstance(table, AlertFairness) for table in result.out_of_time.fairness)
    assert (verdicts.count("green"), verdicts.count("amber"), verdicts.count("red")) == (
        run.greens, run.ambers, run.reds)


def test_propensity_lift_matches_pandas_deciles(platform: Platform,
                                                propensity: ModelVersion) -> None:
    """Lift and gains by decile equal a pandas binning of the score ranks; AUC sklearn's."""
    run = platform.validation.run(staff(platform, "vera"), propensity.ref)
    result = platform.validation.result(run)
    tests = {t.test: t for t in result.tests}
    labels, scores = scored(platform, propensity, out_of_time(
        load_german_credit(None).frame, "application_date", "2024-07-01"))
    rank = pd.Series(scores).rank(method="first", ascending=False).astype(int)
    # documented cut: rank r (from 1) is in decile floor(10 (r - 1) / n); qcut would place
    # the one-short deciles elsewhere (it interpolates quantiles), so bin on exact integers
    n = len(labels)
    deciles = pd.cut((rank - 1) * 10, bins=np.arange(0, 10 * n + 1, n), right=False,
                     labels=False)
    by_decile = pd.Series(labels).groupby(deciles).agg(["sum", "size"])
    lift = (by_decile["sum"] / by_decile["size"]) / labels.mean()
    gain = by_decile["sum"].cumsum() / labels.sum()
    stored = pd.DataFrame(result.out_of_time.charts["lift"])

    assert stored["cases"].tolist() == by_decile["size"].tolist()
    np.testing.assert_allclose(stored["lift"], lift, atol=1e-12)
    np.testing.assert_allclose(stored["cumulative_gain"], gain, atol=1e-12)
    assert tests["propensity.top_decile_lift"].value == pytest.approx(lift.iloc[0],
                                                                         abs=1e-12)
    assert tests["discrimination.auc"].value == pytest.approx(
        roc_auc_score(labels, scores), abs=1e-12)
    assert result.opinion == run.opinion
