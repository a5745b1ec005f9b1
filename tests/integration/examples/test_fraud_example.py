"""examples/fraud end to end on the ULB twin: weighted metrics, allow / challenge / block,
fraud value caught by monitoring, and the windowed card features on the card stream."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.decisions import Outcome
from bankml.core.registry import ModelVersion
from bankml.datasets import load_card_fraud_ulb, synthesize_card_transactions
from bankml.monitoring.policy import DEFAULT, parse_policy
from support.examples import EXAMPLES, requests_of, serve_example
from support.people import staff

FOLDER = EXAMPLES / "fraud"
SPEC, ENDPOINT = FOLDER / "payment_model.yaml", FOLDER / "endpoint.yaml"
TEST_FROM = "2013-09-02"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, ModelVersion]]:
    with Platform.open(tmp_path_factory.mktemp("fraud") / "home") as platform:
        yield platform, serve_example(platform, SPEC, ENDPOINT)


def test_the_metrics_are_the_populations(served: tuple[Platform, ModelVersion]) -> None:
    """The sample is 9 % fraud, the population 0.17 %: the recorded fraud rate and block
    share are the weighted ones, as computed by hand from the rows and the served model."""
    platform, version = served
    frame = load_card_fraud_ulb(None).frame
    test = frame[frame["transaction_time"] >= TEST_FROM]
    weights, frauds = test["sample_weight"].to_numpy(), test["Class"].to_numpy()
    scores = platform.registry.load(version).predict_proba(test[version.inputs])[:, 1]

    assert frauds.mean() > 0.05
    assert version.metrics["test.default_rate"] == pytest.approx(
        (weights * frauds).sum() / weights.sum())
    assert version.metrics["test.default_rate"] < 0.003
    assert version.metrics["test.share.block"] == pytest.approx(
        weights[scores >= 0.80].sum() / weights.sum())
    assert version.metrics["test.share.block"] <= 0.01  # the alert budget (README)
    assert version.metrics["test.auc"] > 0.9
    assert "sample_weight" not in version.inputs


def test_the_endpoint_allows_challenges_blocks_and_monitoring_counts_the_value(
        served: tuple[Platform, ModelVersion]) -> None:
    """Each payment's outcome follows the two cut-offs; with the outcomes in, the fraud
    value caught is the sum of the amounts of the frauds challenged or blocked."""
    platform, version = served
    frame = load_card_fraud_ulb(None).frame
    later = frame[frame["transaction_time"] >= TEST_FROM]
    rows = pd.concat([later[later["Class"] == 1].head(40), later[later["Class"] == 0].head(160)])
    rows, requests = requests_of(rows, version, key="card_id")

    records = platform.decisions.decide(staff(platform, "ops"), "card-payment-fraud",
                                        requests)
    platform.labels.ingest(staff(platform, "ops"), [
        {"decision_id": r.decision_id, "outcome": int(label),
         "observed_at": utc_timestamp(datetime.now(UTC))}
        for r, label in zip(records, rows["Class"], strict=True)],
        endpoint="card-payment-fraud", source="chargebacks")
    policy = parse_policy(DEFAULT.read_text().replace(
        "maturity_days: {}", "maturity_days: {card-payment-fraud: 0}").replace(
        "kpis: {}", "kpis: {card-payment-fraud: {value_field: Amount}}"), source="test")
    [run] = platform.monitor.run(staff(platform, "mira"), endpoint="card-payment-fraud",
                                 as_of=datetime.now(UTC) + timedelta(hours=1), policy=policy)
    points = {p.metric: p for p in platform.monitor.points(staff(platform, "mira"),
                                                           run.run_id)}

    outcomes = [r.outcome for r in records]
    assert outcomes == [Outcome.ALLOW if r.score < 0.30 else Outcome.BLOCK
                        if r.score >= 0.80 else Outcome.CHALLENGE for r in records]
    assert {Outcome.ALLOW, Outcome.BLOCK} <= set(outcomes)
    stopped = np.array([o != Outcome.ALLOW for o in outcomes])
    caught = stopped & (rows["Class"].to_numpy() == 1)
    assert caught.any()
    assert points["kpi.fraud_value_caught"].value == pytest.approx(
        rows["Amount"].to_numpy()[caught].sum())


def _features_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fraud_features", FOLDER / "features.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_card_features_agree_offline_and_online(tmp_path: Path) -> None:
    """The example's windowed card view, on the synthetic card stream: applied,
    materialised, and the same offline and online for every sampled card."""
    stream = synthesize_card_transactions(1_000, cards=100)
    path = tmp_path / "card_transactions.parquet"
    stream.to_parquet(path)
    view = _features_module().card_activity_view(str(path))
    end = (stream["event_timestamp"].max() + timedelta(seconds=1)).to_pydatetime()
    card = str(stream["card_id"].iloc[-1])
    in_day = stream[(stream["card_id"] == card)
                    & (stream["event_timestamp"] >= end - timedelta(hours=24))]

    with Platform.open(tmp_path / "home") as platform:
        eli = staff(platform, "ops")
        [applied] = platform.features.apply(eli, [view])
        platform.features.materialize(eli, end=end)
        online = platform.features.get_online_features(
            eli, [{"card_id": card}], [f"{applied.ref}:amount_sum_24h"], at=end)
        report = platform.features.skew_check(eli, "card_activity", sample=50, at=end)

    assert online.rows[0]["amount_sum_24h"] == pytest.approx(in_day["amount"].sum())
    assert report.entities > 0
    assert report.mismatches == []


def test_validation_reads_the_alert_budget_on_the_population(
        served: tuple[Platform, ModelVersion]) -> None:
    """At the fraud policy's 1 % budget, validation alerts the top scores up to 1 % of the
    weight, not 1 % of the sample's rows: its recall is the frauds among them (computed
    here by hand) over all frauds, far above what 1 % of rows could hold."""
    platform, version = served
    frame = load_card_fraud_ulb(None).frame
    test = frame[frame["transaction_time"] >= TEST_FROM]
    scores = platform.registry.load(version).predict_proba(test[version.inputs])[:, 1]
    order = np.argsort(-scores, kind="stable")
    weights, frauds = test["sample_weight"].to_numpy()[order], test["Class"].to_numpy()[order]
    within = np.cumsum(weights) <= 0.01 * weights.sum()

    run = platform.validation.run(staff(platform, "vera"), version.ref)
    tests = {t.test: t for t in platform.validation.result(run).tests}

    by_hand = frauds[within].sum() / frauds.sum()
    assert tests["alerting.recall_at_budget"].value == pytest.approx(by_hand)
    assert by_hand > 0.5
    assert within.sum() > 0.01 * len(test)
