"""examples/credit_pd end to end on the German credit twin: a WoE scorecard champion that
decides with reasons, and a LightGBM challenger validated and put in shadow by the plan."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from bankml import Platform
from bankml.core.decisions import Outcome
from bankml.core.registry import ModelVersion, Stage
from bankml.core.rollouts import Plan, RolloutStatus, StepKind
from bankml.datasets import load_german_credit
from bankml.explain.reasons import load_catalogue
from support.examples import EXAMPLES, requests_of, serve_example
from support.people import staff

FOLDER = EXAMPLES / "credit_pd"
SCORECARD, CHALLENGER = FOLDER / "scorecard.yaml", FOLDER / "challenger_lightgbm.yaml"
ENDPOINT = FOLDER / "endpoint.yaml"
PROTECTED = {"age_years", "sex", "foreign_worker", "personal_status_sex"}
BANDS = [0, 25, 35, 50, 65, 200]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, ModelVersion]]:
    with Platform.open(tmp_path_factory.mktemp("credit_pd") / "home") as platform:
        yield platform, serve_example(platform, SCORECARD, ENDPOINT)


def test_the_scorecard_is_woe_logistic_without_protected_inputs(
        served: tuple[Platform, ModelVersion]) -> None:
    """The champion bins every input into weights of evidence before the logistic
    regression, ranks the later applications better than chance, and none of the
    protected attributes (nor the sex-bearing personal status) is an input."""
    platform, version = served
    model = platform.registry.load(version)

    assert [name for name, _, _ in model.preprocess.transformers_] == ["woe"]
    assert type(model.estimator).__name__ == "LogisticRegression"
    assert version.metrics["test.auc"] > 0.65
    assert PROTECTED.isdisjoint(version.inputs)


def test_the_endpoint_decides_on_pd_cutoffs_with_reasons(
        served: tuple[Platform, ModelVersion]) -> None:
    """Below 15 % approve, from 45 % decline, refer between; declines carry catalogue
    reasons; the age band, sex and foreign worker are recorded, never scored; the served
    PDs rank the defaults (AUC by scikit-learn)."""
    platform, version = served
    frame = load_german_credit(None).frame
    frame["age_band"] = pd.cut(frame["age_years"], BANDS, right=False).astype(str)
    rows, requests = requests_of(frame[frame["application_date"] >= "2024-07-01"], version,
                                 key="customer_id",
                                 extra=("age_band", "sex", "foreign_worker"))

    records = platform.decisions.decide(staff(platform, "ops"), "consumer-loan-pd", requests)

    expected = [Outcome.APPROVE if r.score < 0.15 else Outcome.DECLINE if r.score >= 0.45
                else Outcome.REFER for r in records]
    assert [r.outcome for r in records] == expected
    assert {Outcome.APPROVE, Outcome.REFER, Outcome.DECLINE} <= set(expected)
    assert roc_auc_score(rows["default"], [r.score for r in records]) > 0.65
    catalogue = load_catalogue((FOLDER / "reasons.yaml").read_text(), inputs=version.inputs)
    codes = {reason.code for reason in catalogue.reasons}
    for record in (r for r in records if r.outcome == Outcome.DECLINE):
        given = {reason["code"] for reason in json.loads(record.reasons_json)["codes"]}
        assert given
        assert given <= codes
    logged = json.loads(records[0].request_json)
    assert (logged["age_band"], logged["sex"]) == (requests[0]["age_band"],
                                                   requests[0]["sex"])


def test_the_challenger_is_validated_and_shadows_by_the_plan(
        served: tuple[Platform, ModelVersion]) -> None:
    """The LightGBM challenger (a new version of the same model) holds the declared
    monotone direction on loan term under validation; once staged it is deployed with the
    example's plan, and the rollout starts in shadow with the plan's guardrails."""
    platform, champion = served
    challenger = platform.training.train(staff(platform, "dana"), CHALLENGER)
    run = platform.validation.run(staff(platform, "vera"), challenger.ref)
    verdicts = {t.test: str(t.verdict) for t in platform.validation.result(run).tests}
    platform.oversight.record_validation(staff(platform, "vera"), challenger.ref,
                                         passed=True, run_id=run.run_id,
                                         summary="challenger, for shadow")
    platform.oversight.request_transition(staff(platform, "dana"), challenger.ref,
                                          Stage.STAGING, reason="challenger")
    plan = Plan.from_data(yaml.safe_load((FOLDER / "rollout.yaml").read_text()))

    rollout = platform.rollouts.deploy(staff(platform, "ops"), "consumer-loan-pd",
                                       challenger.ref, plan=plan)

    assert (challenger.name, challenger.number) == (champion.name, champion.number + 1)
    assert challenger.manifest is not None
    assert challenger.manifest.spec["estimator"]["kind"] == "lightgbm"
    assert verdicts["soundness.monotonicity"] != "red"
    assert rollout.status == RolloutStatus.RUNNING
    assert rollout.plan.steps[rollout.step].kind == StepKind.SHADOW
    assert rollout.plan.guardrails == plan.guardrails
    assert len(plan.steps) == 3
