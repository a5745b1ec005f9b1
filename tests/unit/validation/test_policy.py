"""Validation policies: verdicts by threshold, the opinion roll-up, and bad policy files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bankml.core.errors import InvalidInputError
from bankml.core.registry import Domain
from bankml.core.validation import (
    Better,
    Opinion,
    OpinionRule,
    SignificanceRule,
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

# the alert-rate ratio with FL-12's rule: beyond amber is red only when significant
RATIO = Threshold(test="fairness.alert_rate_ratio", statistic="value", better=Better.LOWER,
                  green=1.25, amber=1.5, tag=Tag.INDUSTRY, source="FL-20",
                  significance=SignificanceRule(level=0.05, tag=Tag.INDUSTRY, source="FL-12"))


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


@pytest.mark.parametrize(("value", "p_value", "verdict"), [
    (3.0, 0.001, Verdict.RED), (3.0, 0.0499, Verdict.RED),
    (3.0, 0.05, Verdict.AMBER), (3.0, 0.21, Verdict.AMBER),  # beyond amber, not significant
    (3.0, None, Verdict.AMBER), (3.0, float("nan"), Verdict.AMBER),  # no p-value: no red
    (1.4, 0.001, Verdict.AMBER), (1.1, 0.001, Verdict.GREEN), (1.1, None, Verdict.GREEN),
    (float("nan"), 0.001, Verdict.AMBER)])
def test_significance_rule_turns_only_an_insignificant_red_amber(
        value: float, p_value: float | None, verdict: Verdict) -> None:
    """With a significance rule a value beyond amber is red only when its p-value is below
    the level; green and amber come from the bounds alone, as without the rule."""
    assert RATIO.verdict(value, p_value=p_value) == verdict
    assert RATIO.bounds_verdict(value) == replace(RATIO, significance=None).verdict(value)


def test_without_a_significance_rule_the_p_value_changes_nothing() -> None:
    assert PSI.verdict(0.3, p_value=0.9) == Verdict.RED
    assert PSI.is_significant(None)


def test_significance_rule_is_described_with_the_bounds() -> None:
    assert RATIO.describe() == "<= 1.25 green, <= 1.5 amber, red only if p < 0.05"


@pytest.mark.parametrize(("domain", "test"), [
    (Domain.CREDIT, "fairness.impact_ratio"), (Domain.PROPENSITY, "fairness.impact_ratio"),
    (Domain.AML, "fairness.alert_rate_ratio"), (Domain.FRAUD, "fairness.alert_rate_ratio")])
def test_shipped_fairness_ratios_need_significance_at_5_percent(domain: Domain,
                                                                test: str) -> None:
    """Every shipped fairness ratio carries FL-12's rule, with its provenance."""
    rule = default_policy(domain).thresholds[test].significance
    assert rule is not None
    assert (rule.level, rule.tag) == (0.05, Tag.INDUSTRY)
    assert "FL-12" in rule.source


def test_significance_level_defaults_to_5_percent() -> None:
    text = (DEFAULTS / "aml.yaml").read_text()
    assert "      level: 0.05\n" in text
    policy = parse_policy(text.replace("      level: 0.05\n", "", 1), source="a.yaml")
    rule = policy.thresholds["fairness.alert_rate_ratio"].significance
    assert rule is not None
    assert rule.level == 0.05


@pytest.mark.parametrize(("change", "message"), [
    (("      level: 0.05", "      level: 1.5"), r"significance\.level: Input should be less"),
    (("    significance:", "    statistic: p_value\n    significance:"),
     r"fairness\.alert_rate_ratio: .*the bounds already read the p-value"),
])
def test_bad_significance_rule_is_refused(change: tuple[str, str], message: str) -> None:
    text = (DEFAULTS / "aml.yaml").read_text()
    assert change[0] in text
    with pytest.raises(InvalidInputError, match=message):
        parse_policy(text.replace(*change, 1), source="a.yaml")


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
    assert before.version.startswith("2026.2+")
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
