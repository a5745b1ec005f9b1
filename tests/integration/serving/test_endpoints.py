"""Endpoints as data: versioned by content, audited, checked against the model they serve."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.decisions import PolicyKind
from bankml.core.endpoints import Endpoint, Reasons
from bankml.core.errors import ConflictError, InvalidInputError, PermissionDeniedError, SpecError
from bankml.core.registry import Stage
from bankml.serving.endpoint_files import load_endpoint
from support.lifecycle import move_to
from support.models import register_tiny
from support.people import staff
from support.served import ENDPOINT, credit_in_prod, tiny_endpoint
from support.trail import audit_events


@pytest.fixture
def in_prod(platform: Platform) -> Platform:
    credit_in_prod(platform)
    return platform


def test_an_unchanged_definition_makes_no_new_version(in_prod: Platform) -> None:
    """Applying the same file twice records one version and two audit events."""
    ops = staff(in_prod, "ops")
    first = in_prod.endpoints.apply(ops, ENDPOINT)
    again = in_prod.endpoints.apply(ops, ENDPOINT)
    changed = in_prod.endpoints.apply(ops, replace(load_endpoint(ENDPOINT),
                                                   cutoffs={"approve_below": 0.1,
                                                            "decline_from": 0.5}))

    assert (first.created, again.created, changed.created) == (True, False, True)
    assert [v.ref for v in in_prod.endpoints.versions("credit-pd")] == ["credit-pd@1",
                                                                        "credit-pd@2"]
    applied = [e for e in audit_events(in_prod) if e.action == "endpoint.applied"]
    assert [e.payload["new_version"] for e in applied] == [True, False, True]


def test_only_an_ml_engineer_applies_endpoints(in_prod: Platform) -> None:
    with pytest.raises(PermissionDeniedError, match="may not endpoint.apply"):
        in_prod.endpoints.apply(staff(in_prod, "dana"), ENDPOINT)


def test_a_champion_outside_prod_is_not_served(platform: Platform) -> None:
    """The champion must be a version in prod; a staging one is refused by rule."""
    version = platform.training.train(staff(platform, "dana"), ENDPOINT.parent /
                                      "german_credit_pd.yaml")
    move_to(platform, version.ref, Stage.STAGING)
    platform.registry.set_alias(staff(platform, "ops"), version.name, "champion", 1)

    with pytest.raises(ConflictError, match="is staging; only a version in prod") as refused:
        platform.endpoints.apply(staff(platform, "ops"), ENDPOINT)
    assert refused.value.rule == "endpoint.champion_in_prod"


@pytest.mark.parametrize(("change", "rule"), [
    ({"policy_kind": PolicyKind.ALERT, "cutoffs": {"alert_from": 0.5}},
     "policy.kind_fits_domain"),
    ({"entity": ("duration_months",)}, "endpoint.entity_not_input"),
    ({"reasons": Reasons(catalogue="name: empty\nreasons: []\n")}, "reasons.schema"),
])
def test_an_endpoint_that_does_not_fit_its_model_is_refused(
        in_prod: Platform, change: dict[str, object], rule: str) -> None:
    """A policy of another domain, an input used as entity key, or a catalogue that misses
    inputs: refused with the rule, nothing recorded."""
    endpoint = replace(load_endpoint(ENDPOINT), **change)  # type: ignore[arg-type]

    with pytest.raises(InvalidInputError) as refused:
        in_prod.endpoints.apply(staff(in_prod, "ops"), endpoint)

    assert refused.value.rule == rule
    assert in_prod.endpoints.versions() == []


def test_a_bad_file_names_the_field(tmp_path: Path) -> None:
    broken = tmp_path / "endpoint.yaml"
    broken.write_text(ENDPOINT.read_text().replace("mode: automatic", "mode: sometimes"))

    with pytest.raises(SpecError, match="mode") as refused:
        load_endpoint(broken)
    assert refused.value.rule == "endpoint.file"


def test_crossed_cutoffs_are_refused_at_once(tmp_path: Path) -> None:
    crossed = tmp_path / "endpoint.yaml"
    crossed.write_text(ENDPOINT.read_text().replace("approve_below: 0.15", "approve_below: 0.9"))

    with pytest.raises(SpecError, match=r"approve_below \(0.9\) <= decline_from"):
        load_endpoint(crossed)


def test_load_all_loads_every_endpoint_and_names_those_that_cannot(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `bankml serve` does before it is ready: afterwards a decision loads no model;
    an endpoint whose champion left prod is named with why, and the rest still load."""
    tiny_endpoint(platform, "pd-decisions")
    retired = register_tiny(platform, staff(platform, "dev"), "retired")
    move_to(platform, retired.ref, Stage.STAGING, Stage.PROD)
    platform.registry.set_alias(staff(platform, "ops"), "retired", "champion", 1)
    platform.endpoints.apply(staff(platform, "ops"), Endpoint(
        name="pd-retired", model="retired", entity=("customer_id",),
        policy_kind=PolicyKind.APPROVE_REFER_DECLINE,
        cutoffs={"approve_below": 0.2, "decline_from": 0.8}))
    move_to(platform, retired.ref, Stage.ARCHIVED)
    runtime = platform.decisions.runtime

    failed = runtime.load_all()

    assert list(failed) == ["pd-retired"]

    def no_load(*_args: object) -> None:
        raise AssertionError("a model was loaded after start-up")

    monkeypatch.setattr(platform.registry, "load", no_load)
    [record] = platform.decisions.decide(staff(platform, "ops"), "pd-decisions",
                                         [{"customer_id": "c1", "x0": 0.1}])
    assert record.model_ref == "pd@1"
