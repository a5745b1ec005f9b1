"""The model inventory: overdue reviews and open findings, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bankml import Platform
from bankml.core.identity import Principal
from bankml.core.oversight import Severity
from bankml.core.registry import Domain, Stage
from bankml.governance import Oversight
from bankml.governance.inventory import build_inventory
from support.evidence import stored_run
from support.lifecycle import move_to
from support.models import register_tiny
from support.people import staff

TODAY = date(2026, 6, 1)


@pytest.fixture
def people(platform: Platform) -> dict[str, Principal]:
    return {name: staff(platform, name) for name in ("dana", "vera", "bob")}


def in_prod(platform: Platform, people: dict[str, Principal], name: str, tier: int, *,
            validated_on: datetime) -> None:
    """A tier-`tier` model taken to prod, its validation dated `validated_on`."""
    version = register_tiny(platform, people["dana"], name, tier=tier, domain=Domain.FRAUD,
                            owner="payments")
    back_then = Oversight(platform.metadata, platform.oversight.policies,
                          clock=lambda: validated_on)
    run = stored_run(platform, people["vera"], version.ref)
    back_then.record_validation(people["vera"], version.ref, passed=True, summary="ok",
                                run_id=run.run_id)
    move_to(platform, version.ref, Stage.STAGING, Stage.PROD)


def test_inventory_flags_overdue_reviews_and_findings(platform: Platform,
                                                      people: dict[str, Principal]) -> None:
    """Tier 1 validated 14 months ago is overdue; tier 3 is not; a late finding is flagged."""
    in_prod(platform, people, "fraud-a", 1, validated_on=datetime(2025, 4, 1, tzinfo=UTC))
    in_prod(platform, people, "fraud-b", 3, validated_on=datetime(2025, 4, 1, tzinfo=UTC))
    platform.oversight.raise_finding(people["vera"], "fraud-b", severity=Severity.LOW,
                                     title="monitoring gap", owner="dana", due=date(2026, 5, 1))
    platform.oversight.raise_finding(people["vera"], "fraud-b", severity=Severity.LOW,
                                     title="docs", owner="dana", due=date(2026, 9, 1))

    rows = {r.model: r for r in build_inventory(people["vera"], platform.registry,
                                                platform.oversight,
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


def test_closed_findings_are_not_counted(platform: Platform, people: dict[str, Principal]) -> None:
    """A closed finding neither counts as open nor as overdue."""
    in_prod(platform, people, "fraud-c", 3, validated_on=datetime(2026, 5, 1, tzinfo=UTC))
    finding = platform.oversight.raise_finding(people["vera"], "fraud-c", severity=Severity.LOW,
                                               title="late", owner="dana", due=date(2026, 5, 2))
    platform.oversight.close_finding(people["vera"], finding.finding_id, note="done")

    [row] = build_inventory(people["vera"], platform.registry, platform.oversight,
                            platform.oversight.policies, today=TODAY)

    assert (row.open_findings, row.overdue_findings, row.is_overdue) == (0, 0, False)


def test_unvalidated_production_model_is_due_since_it_went_live(
        platform: Platform, people: dict[str, Principal]) -> None:
    """A model in prod without any validation is due from the day it went live."""
    version = register_tiny(platform, people["dana"], "legacy", tier=2)
    move_to(platform, version.ref, Stage.STAGING, Stage.PROD)

    [row] = build_inventory(people["vera"], platform.registry, platform.oversight,
                            platform.oversight.policies, today=date(2100, 1, 1))

    assert row.next_review_due == datetime.now(UTC).date()
    assert row.review_overdue


def test_a_retired_model_is_listed_only_when_asked(platform: Platform,
                                                   people: dict[str, Principal]) -> None:
    """A model whose every version is archived (a test model, retired) leaves the
    inventory; `include_retired` (the CLI's --all) shows it; one live version keeps it."""
    retired = register_tiny(platform, people["dana"], "try-out", tier=3)
    move_to(platform, retired.ref, Stage.ARCHIVED)
    kept = register_tiny(platform, people["dana"], "half-retired", tier=3)
    move_to(platform, kept.ref, Stage.ARCHIVED)
    register_tiny(platform, people["dana"], "half-retired", tier=3)

    def listed(**options: bool) -> list[str]:
        return [row.model for row in build_inventory(
            people["vera"], platform.registry, platform.oversight,
            platform.oversight.policies, **options)]

    assert listed() == ["half-retired"]
    assert listed(include_retired=True) == ["half-retired", "try-out"]
