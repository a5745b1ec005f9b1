"""Validation policies: verdicts by threshold, the opinion roll-up, and bad policy files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml.core.errors import InvalidInputError
from bankml.core.registry import Domain
from bankml.core.validation import (
    Better,
    Opinion,
    OpinionRule,
    Tag,
    Threshold,
    ValidationTestResult,
    Verdict,
)
from bankml.validation.policy import DEFAULTS, default_policy, load_policy, parse_policy

AUC = Threshold(test="discrimination.auc", statistic="value", better=Better.HIGHER, green=0.7,
                amber=0.6, tag=Tag.BANK_POLICY, source="bank", material=True)
PSI = Threshold(test="stability.psi_score", statistic="value", better=Better.LOWER, green=0.1,
                amber=0.25, tag=Tag.INDUSTRY, source="Siddiqi")


def result(threshold: Threshold, verdict: Verdict) -> ValidationTestResult:
    return ValidationTestResult(test=threshold.test, population="out_of_time", value=0.0,
                                p_value=None, threshold=threshold, verdict=verdict)


@pytest.mark.parametrize(("value", "verdict"), [
    (0.75, Verdict.GREEN), (0.70, Verdict.GREEN), (0.65, Verdict.AMBER), (0.60, Verdict.AMBER),
    (0.59, Verdict.RED), (float("nan"), Verdict.AMBER)])
def test_higher_is_better_threshold_bands(value: float, verdict: Verdict) -> None:
    """A higher-is-better statistic is green from the green bound, amber down to amber."""
    assert AUC.verdict(value) == verdict


@pytest.mark.parametrize(("value", "verdict"), [
    (0.05, Verdict.GREEN), (0.10, Verdict.GREEN), (0.2, Verdict.AMBER), (0.25, Verdict.AMBER),
    (0.3, Verdict.RED)])
def test_lower_is_better_threshold_bands(value: float, verdict: Verdict) -> None:
    """A lower-is-better statistic (PSI) is green up to 0.10 and red above 0.25."""
    assert PSI.verdict(value) == verdict


@pytest.mark.parametrize(("verdicts", "opinion"), [
    ([(PSI, Verdict.GREEN), (AUC, Verdict.GREEN)], Opinion.ADEQUATE),
    ([(PSI, Verdict.AMBER), (AUC, Verdict.GREEN)], Opinion.MINOR_DEFICIENCIES),
    ([(PSI, Verdict.RED), (AUC, Verdict.AMBER)], Opinion.MAJOR_DEFICIENCIES),
    ([(PSI, Verdict.GREEN), (AUC, Verdict.RED)], Opinion.SEVERE_DEFICIENCIES),
    ([(PSI, Verdict.RED)] * 3, Opinion.SEVERE_DEFICIENCIES),
])
def test_opinion_rolls_up_verdicts(verdicts: list[tuple[Threshold, Verdict]],
                                   opinion: Opinion) -> None:
    """Ambers make minor, a red major, a material red or three reds severe deficiencies."""
    assert OpinionRule().opinion(result(t, v) for t, v in verdicts) == opinion


def test_opinion_rule_counts_are_policy() -> None:
    """A policy that tolerates two reds before calling a deficiency major says so."""
    rule = OpinionRule(major_reds=2, severe_reds=5)
    assert rule.opinion([result(PSI, Verdict.RED)]) == Opinion.MINOR_DEFICIENCIES


@pytest.mark.parametrize("domain", list(Domain))
def test_every_domain_has_a_default_policy(domain: Domain) -> None:
    """Each domain's shipped policy loads, tags every threshold and names its source."""
    policy = default_policy(domain)
    assert policy.thresholds
    assert all(t.source and t.tag in Tag for t in policy.thresholds.values())


def test_policy_version_carries_the_text_digest() -> None:
    """Changing a policy's text changes its version, even with the same declared version."""
    text = (DEFAULTS / "credit.yaml").read_text()
    before = parse_policy(text, source="a.yaml")
    after = parse_policy(text.replace("green: 0.70", "green: 0.72", 1), source="a.yaml")
    assert before.version.startswith("2026.1+")
    assert before.version != after.version


def test_fairness_threshold_applies_to_each_attribute() -> None:
    """`fairness.impact_ratio[sex]` reads the policy's `fairness.impact_ratio` threshold."""
    policy = default_policy(Domain.CREDIT)
    found = policy.threshold("fairness.impact_ratio[sex & age_years]")
    assert found is not None
    assert found.green == 0.8


@pytest.mark.parametrize(("change", "message"), [
    (("tag: industry", "tag: law", 1), r"thresholds\.discrimination\.ks\.tag"),
    (("    material: true", "    materiality: true", 1),
     r"thresholds\.discrimination\.auc\.materiality: Extra inputs"),
    (("green: 0.70", "green: 0.50", 1), r"thresholds\.discrimination\.auc: .*green 0\.5 is "
                                        r"beyond amber 0\.6"),
    (("domain: credit", "domain: mortgages", 1), r"domain: Input should be"),
    (("  max_intersection:", "  monotone: {duration_months: 2}\n  max_intersection:", 1),
     r"parameters\.monotone"),
    (("default_bands: [25, 35, 50, 65]", "default_bands: [25, 50, 35]", 1),
     r"parameters\.default_bands: \[25\.0, 50\.0, 35\.0\] must increase strictly"),
])
def test_bad_policy_file_names_file_and_field(tmp_path: Path, change: tuple[str, str, int],
                                              message: str) -> None:
    """A wrong field is reported with the file's path and the field's path."""
    text = (DEFAULTS / "credit.yaml").read_text()
    assert change[0] in text
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace(*change))
    with pytest.raises(InvalidInputError, match=rf"{path}.*{message}"):
        load_policy(path)


def test_policy_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    """Broken YAML is named as such, with the file."""
    path = tmp_path / "broken.yaml"
    path.write_text("policy: [unclosed\n")
    with pytest.raises(InvalidInputError, match=r"broken\.yaml: is not valid YAML"):
        load_policy(path)


def test_missing_policy_file_is_refused(tmp_path: Path) -> None:
    """A path that does not exist is named."""
    with pytest.raises(InvalidInputError, match=r"nowhere\.yaml: does not exist"):
        load_policy(tmp_path / "nowhere.yaml")
