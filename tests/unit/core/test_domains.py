"""One profile per domain: every domain has one, and what it names exists."""

from __future__ import annotations

import pytest

from bankml.core.decisions import POLICY_CLASSES
from bankml.core.domains import PROFILES, Battery, Favourable, profile
from bankml.core.registry import Domain
from bankml.validation.policy import default_policy


def test_every_domain_has_a_profile() -> None:
    assert set(PROFILES) == set(Domain)
    assert profile("fraud") is PROFILES[Domain.FRAUD]


@pytest.mark.parametrize("domain", list(Domain))
def test_a_profile_names_a_shipped_policy_and_policy_kinds_that_exist(domain: Domain) -> None:
    chosen = profile(domain)

    assert default_policy(domain).version
    assert set(chosen.policy_kinds) <= set(POLICY_CLASSES)


def test_alerting_domains_compare_alert_rates() -> None:
    """Fairness in fraud and AML is alert parity; in credit, approval below the cut-off."""
    assert {d for d, p in PROFILES.items() if p.battery == Battery.ALERTING} == {
        Domain.FRAUD, Domain.AML}
    assert {d for d, p in PROFILES.items() if p.favourable == Favourable.NOT_ALERTED} == {
        Domain.FRAUD, Domain.AML}
    assert profile(Domain.CREDIT).favourable == Favourable.BELOW_CUTOFF
