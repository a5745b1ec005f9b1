"""One profile per domain: every domain has one, and what it names exists."""

from __future__ import annotations

import pytest

from bankml.core.decisions import POLICY_CLASSES
from bankml.core.domains import PROFILES, Battery, profile
from bankml.core.registry import Domain
from bankml.validation.policy import default_policy


def test_every_domain_has_a_profile() -> None:
    assert set(PROFILES) == set(Domain)
    assert profile("fraud") is PROFILES[Domain.FRAUD]


@pytest.mark.parametrize("domain", list(Domain))
def test_a_profile_names_a_shipped_policy_and_policy_kinds_that_exist(domain: Domain) -> None:
    """The policy file it names declares the domain it is for (other models borrow
    propensity's), and every decision policy kind it admits has a class."""
    chosen = profile(domain)

    assert default_policy(domain).domain == Domain(chosen.validation_policy)
    assert set(chosen.policy_kinds) <= set(POLICY_CLASSES)


def test_fraud_and_aml_are_validated_as_alerting() -> None:
    """Their battery, fairness included, is about alerts: alert rates by group."""
    assert {d for d, p in PROFILES.items() if p.battery == Battery.ALERTING} == {
        Domain.FRAUD, Domain.AML}
    assert profile(Domain.CREDIT).battery == Battery.CREDIT
