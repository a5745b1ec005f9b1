"""What a monitoring policy's `retraining` section allows, and the rollout's recommendation
rule over monitoring's champion/challenger comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml.core.errors import InvalidInputError
from bankml.core.monitoring import MetricPoint, Status
from bankml.core.retraining import Trigger
from bankml.monitoring.policy import DEFAULT, parse_policy
from bankml.rollouts.comparison import recommend


def _with(section: str) -> str:
    return DEFAULT.read_text().replace("retraining: {}", f"retraining: {section}")


def test_retraining_reads_per_model_with_data_beside_the_policy() -> None:
    """`when` lists the kinds of red that retrain; a relative `data` is the policy file's
    neighbour; the shipped policy retrains nothing."""
    policy = parse_policy(_with("{pd: {when: [drift, performance], data: fresh.csv, "
                                "shadow_share: 50}}"), source="p.yaml", folder=Path("/bank"))

    rule = policy.retraining["pd"]
    assert (rule.when, rule.data, rule.shadow_share) == (
        frozenset({Trigger.DRIFT, Trigger.PERFORMANCE}), Path("/bank/fresh.csv"), 50.0)
    assert parse_policy(DEFAULT.read_text(), source="default").retraining == {}


@pytest.mark.parametrize(("section", "field"), [
    ("{pd: {when: [fairness]}}", "retraining.pd.when.0"),
    ("{pd: {when: []}}", "retraining.pd.when"),
    ("{pd: {when: [drift], shadow_share: 0}}", "retraining.pd.shadow_share"),
    ("{pd: {on: [drift]}}", "retraining.pd"),
])
def test_a_bad_retraining_section_is_refused_naming_the_field(section: str,
                                                               field: str) -> None:
    with pytest.raises(InvalidInputError, match=field.replace(".", r"\.")) as refused:
        parse_policy(_with(section), source="p.yaml")

    assert refused.value.rule == "monitoring_policy.file_valid"


def _auc(value: float | None, p_value: float | None) -> MetricPoint:
    return MetricPoint(metric="challenger.auc_difference", model="pd@2", route="canary",
                       value=value, n=400, status=Status.INFO, p_value=p_value,
                       baseline=0.7, detail="needs matured labels" if value is None else "")


@pytest.mark.parametrize(("value", "p_value", "expected"), [
    (0.05, 0.01, "promote"),
    (-0.05, 0.01, "keep_champion"),
    (0.05, 0.2, "inconclusive"),
    (0.05, 0.05, "inconclusive"),  # p below 0.05, not at it
    (None, None, "inconclusive"),
])
def test_the_recommendation_follows_its_stated_rule(value: float | None,
                                                    p_value: float | None,
                                                    expected: str) -> None:
    assert recommend(_auc(value, p_value))[0] == expected
    assert recommend(None)[0] == "inconclusive"
