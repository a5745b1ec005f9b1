"""The model inventory: overdue reviews and open findings, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bankml import Platform
from bankml.core.identity import Role, User
from bankml.core.oversight import Severity
from bankml.core.registry import Domain, Model, Stage
from bankml.governance import Oversight
from bankml.governance.inventory import build_inventory

TODAY = date(2026, 6, 1)


@pytest.fixture
def people(platform: Platform) -> dict[str, User]:
    platform.identity.bootstrap_admin("ada")
    admin = platform.identity.user("ada")
    roles = {"dana": Role.DATA_SCIENTIST, "vera": Role.VALIDATOR, "bob": Role.BUSINESS_OWNER}
    return {name: platform.identity.add_user(admin, name, roles=frozenset({role}))
            for name, role in roles.items()}


def in_prod(platform: Platform, people: dict[str, User], name: str, tier: int, *,
            validated_on: datetime) -> None:
    """A tier-`tier` model taken to prod, its validation dated `validated_on`."""
    platform.registry.define_model(Model(name=name, domain=Domain.FRAUD, risk_tier=tier,
                                         owner="payments", developer="dana"), actor="dana")
    rows = np.random.default_rng(0).normal(size=(40, 1))
    fitted = LogisticRegression().fit(rows, (rows[:, 0] > 0).astype(int))
    version = platform.registry.register_sklearn(name, fitted, inputs=["x0"], metrics={},
                                                 actor="dana")
    back_then = Oversight(platform.metadata, platform.identity, platform.registry,
                          platform.oversight.policies, clock=lambda: validated_on)
    back_then.record_validation(people["vera"], version.ref, passed=True, fairness_passed=True,
                                summary="ok")
    platform.registry.transition(version.ref, Stage.STAGING, actor="dana")
    platform.registry.transition(version.ref, Stage.PROD, actor="dana")


def test_inventory_flags_overdue_reviews_and_findings(platform: Platform,
                                                      people: dict[str, User]) -> None:
    """Tier 1 validated 14 months ago is overdue; tier 3 is not; a late finding is flagged."""
    in_prod(platform, people, "fraud-a", 1, validated_on=datetime(2025, 4, 1, tzinfo=UTC))
    in_prod(platform, people, "fraud-b", 3, validated_on=datetime(2025, 4, 1, tzinfo=UTC))
    platform.oversight.raise_finding(people["vera"], "fraud-b", severity=Severity.LOW,
                                     title="monitoring gap", owner="dana", due=date(2026, 5, 1))
    platform.oversight.raise_finding(people["vera"], "fraud-b", severity=Severity.LOW,
                                     title="docs", owner="dana", due=date(2026, 9, 1))

    rows = {r.model: r for r in build_inventory(platform.registry, platform.oversight,
                                                platform.oversight.policies, today=TODAY)}

    a, b = rows["fraud-a"], rows["fraud-b"]
    assert (a.production_version, a.validator, a.last_validation) == (
        "fraud-a@1", "vera", date(2025, 4, 1))
    assert a.next_review_due == date(2026, 4, 1)
    assert a.review_overdue
    assert (a.open_findings, a.overdue_findings) == (0, 0)
    assert b.next_review_due == date(2028, 4, 1)
    assert not b.review_overdue
    assert (b.open_findings, b.overdue_findings) == (2, 1)
    assert a.is_overdue
    assert b.is_overdue


def test_closed_findings_are_not_counted(platform: Platform, people: dict[str, User]) -> None:
    """A closed finding neither counts as open nor as overdue."""
    in_prod(platform, people, "fraud-c", 3, validated_on=datetime(2026, 5, 1, tzinfo=UTC))
    finding = platform.oversight.raise_finding(people["vera"], "fraud-c", severity=Severity.LOW,
                                               title="late", owner="dana", due=date(2026, 5, 2))
    platform.oversight.close_finding(people["vera"], finding.finding_id, note="done")

    [row] = build_inventory(platform.registry, platform.oversight, platform.oversight.policies,
                            today=TODAY)

    assert (row.open_findings, row.overdue_findings, row.is_overdue) == (0, 0, False)


def test_unvalidated_production_model_is_due_since_it_went_live(
        platform: Platform, people: dict[str, User]) -> None:
    """A model in prod without any validation is due from the day it went live."""
    platform.registry.define_model(Model(name="legacy", domain=Domain.CREDIT, risk_tier=2,
                                         owner="retail", developer="dana"), actor="dana")
    rows = np.random.default_rng(0).normal(size=(40, 1))
    fitted = LogisticRegression().fit(rows, (rows[:, 0] > 0).astype(int))
    version = platform.registry.register_sklearn("legacy", fitted, inputs=["x0"], metrics={},
                                                 actor="dana")
    platform.registry.transition(version.ref, Stage.STAGING, actor="dana")
    platform.registry.transition(version.ref, Stage.PROD, actor="dana")

    [row] = build_inventory(platform.registry, platform.oversight, platform.oversight.policies,
                            today=date(2100, 1, 1))

    assert row.next_review_due == datetime.now(UTC).date()
    assert row.review_overdue
