"""Tier policies from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml.core.errors import InvalidInputError
from bankml.core.identity import Role
from bankml.core.registry import Stage
from bankml.governance.policy_files import DEFAULTS, load_policies, load_policy


def test_defaults_cover_every_tier() -> None:
    """The shipped policies: tier 1 strictest, tier 3 lightest."""
    policies = load_policies()

    assert set(policies) == {1, 2, 3}
    assert policies[1].requirements(Stage.PROD).approvals == (Role.MODEL_RISK,
                                                              Role.BUSINESS_OWNER)
    assert policies[3].requirements(Stage.PROD).validation is False
    assert [p.review_months for p in policies.values()] == [12, 24, 36]


def test_policy_version_changes_with_the_text(tmp_path: Path) -> None:
    """Editing a policy changes its version, even if the declared version is kept."""
    edited = tmp_path / "tier-3.yaml"
    edited.write_text((DEFAULTS / "tier-3.yaml").read_text().replace("36", "30"))

    assert load_policy(edited).version != load_policy(DEFAULTS / "tier-3.yaml").version


@pytest.mark.parametrize(("text", "message"), [
    ("tier: 1\nversion: x\nreview_months: 12\nsteps: {prod: {approvals: [admin]}}",
     "admin cannot approve"),
    ("tier: 1\nversion: x\nreview_months: 12\nsteps: {prod: {aprovals: [validator]}}",
     "steps.prod.aprovals: Extra inputs are not permitted"),
    ("tier: 4\nversion: x\nreview_months: 12\nsteps: {}", "tier: Input should be less"),
    ("tier: 1\nversion: x\nreview_months: 12\nsteps: {live: {}}", "steps.live"),
    ("tier: [", "not valid YAML"),
])
def test_bad_policy_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    """A policy file with a mistake is refused with the file and the field."""
    path = tmp_path / "tier-1.yaml"
    path.write_text(text)

    with pytest.raises(InvalidInputError, match=message):
        load_policy(path)


def test_folder_missing_a_tier_is_refused(tmp_path: Path) -> None:
    """A bank's policy folder must hold all three tiers."""
    (tmp_path / "tier-1.yaml").write_text((DEFAULTS / "tier-1.yaml").read_text())

    with pytest.raises(InvalidInputError, match="has no tier-2.yaml"):
        load_policies(tmp_path)
