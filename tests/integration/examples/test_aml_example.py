"""examples/aml end to end on the synthetic AML world: train, serve, alert."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from bankml import Platform
from bankml.core.decisions import Outcome
from bankml.core.registry import ModelVersion
from bankml.datasets import load_aml
from bankml.explain.reasons import load_catalogue
from support.examples import EXAMPLES, requests_of, serve_example
from support.people import staff

SPEC, ENDPOINT = EXAMPLES / "aml" / "alert_model.yaml", EXAMPLES / "aml" / "endpoint.yaml"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, ModelVersion]]:
    with Platform.open(tmp_path_factory.mktemp("aml") / "home") as platform:
        yield platform, serve_example(platform, SPEC, ENDPOINT)


def test_the_alert_model_trains_with_skill(served: tuple[Platform, ModelVersion]) -> None:
    """The out-of-time reviews are ranked well (the schemes are visible in the windowed
    features), and the protected attributes are not among the inputs."""
    _, version = served

    assert version.metrics["test.auc"] > 0.8
    reviews = load_aml().frame
    base_rate = reviews.loc[reviews["review_date"] >= "2024-06-01", "is_suspicious"].mean()
    assert version.metrics["test.average_precision"] > 2 * base_rate
    assert {"age_band", "residency"}.isdisjoint(version.inputs)


def test_the_endpoint_alerts_from_its_threshold(served: tuple[Platform, ModelVersion]) -> None:
    """Reviews at or above alert_from are alerted with the analyst's reasons, the rest not;
    suspicious accounts are alerted more often than normal ones."""
    platform, version = served
    reviews = load_aml().frame
    later = reviews[reviews["review_date"] >= "2024-06-01"]
    rows = pd.concat([later[later["is_suspicious"] == 1].head(40),
                      later[later["is_suspicious"] == 0].head(160)])
    rows, requests = requests_of(rows, version, key="account_id",
                                 extra=("age_band", "residency"))

    records = platform.decisions.decide(staff(platform, "ops"), "aml-alerts", requests)

    outcomes = [r.outcome for r in records]
    assert outcomes == [Outcome.ALERT if r.score >= 0.03 else Outcome.NO_ALERT
                        for r in records]
    assert Outcome.ALERT in outcomes
    assert Outcome.NO_ALERT in outcomes
    labels = rows["is_suspicious"].to_numpy()
    assert roc_auc_score(labels, [r.score for r in records]) > 0.55
    catalogue = load_catalogue((ENDPOINT.parent / "reasons.yaml").read_text(),
                               inputs=version.inputs)
    codes = {reason.code for reason in catalogue.reasons}
    alerted = [r for r in records if r.outcome == Outcome.ALERT]
    for record in alerted:
        given = json.loads(record.reasons_json)["codes"]
        assert given
        assert {reason["code"] for reason in given} <= codes
    assert json.loads(records[0].request_json)["age_band"] == requests[0]["age_band"]

