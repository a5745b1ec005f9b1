"""The registry on SQLite and PostgreSQL: versions, lifecycle, aliases, history, lineage."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from sklearn.preprocessing import FunctionTransformer

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.errors import (
    AliasTargetError,
    ArtifactIntegrityError,
    ConflictError,
    DuplicateError,
    IllegalTransitionError,
    InvalidInputError,
    NotFoundError,
    UntrustedArtifactError,
)
from bankml.core.registry import NEXT_STAGES, Domain, Model, Signature, Stage
from bankml.registry import NewVersion, Registry
from bankml.registry.flavours import dump_sklearn
from bankml.registry.lifecycle import move
from support.lifecycle import move_to
from support.people import staff
from support.trail import audit_events

PD = Model(name="pd", domain=Domain.CREDIT, risk_tier=1, owner="risk", developer="dev",
           protected_attributes=("age",))
PATH_TO = {Stage.DEV: [], Stage.STAGING: [Stage.STAGING],
           Stage.PROD: [Stage.STAGING, Stage.PROD], Stage.ARCHIVED: [Stage.ARCHIVED]}


def register(platform: Platform, *, model: Model = PD, views: tuple[str, ...] = (),
             dataset: str = "d" * 64, inputs: tuple[str, ...] = ("income",)) -> str:
    count = len(platform.registry.versions())
    version = platform.registry.register(staff(platform, "dev"), model, NewVersion(
        artifact=dump_sklearn({"artifact": count}), flavour="sklearn-skops",
        signature=Signature.of_names(inputs), metrics={"test.auc": 0.7},
        feature_views=views, dataset_sha256=dataset))
    return version.ref


def actions(platform: Platform) -> list[str]:
    """What happened to models (people and tokens made for the test left out)."""
    return [event.action for event in audit_events(platform)
            if event.subject.startswith("model:")]


def test_versions_are_numbered_per_model(platform: Platform) -> None:
    """Each model counts its versions from 1."""
    refs = [register(platform), register(platform),
            register(platform, model=Model(name="fraud", domain=Domain.FRAUD, risk_tier=2,
                                           owner="o", developer="d"))]

    assert refs == ["pd@1", "pd@2", "fraud@1"]
    assert platform.registry.get("pd").ref == "pd@2"


def test_registering_records_model_version_and_history(platform: Platform) -> None:
    """A first version defines the model, registers the version and starts its history."""
    register(platform)

    assert actions(platform) == ["model.defined", "model.registered"]
    assert platform.registry.model("pd") == PD
    [change] = platform.registry.history("pd")
    assert (change.source, change.target, change.reason) == (None, Stage.DEV, "registered")


def test_changed_model_definition_is_an_audited_update(platform: Platform) -> None:
    """Redefining a model with other facts records the before and after."""
    register(platform)
    register(platform, model=Model(**{**PD.describe(), "name": "pd",  # type: ignore[arg-type]
                                      "domain": Domain.CREDIT, "risk_tier": 2,
                                      "protected_attributes": ("age",)}))

    [updated] = [e for e in audit_events(platform) if e.action == "model.updated"]
    assert (updated.payload["before"]["risk_tier"], updated.payload["after"]["risk_tier"]) == (
        1, 2)


def test_protected_attribute_as_input_is_refused(platform: Platform) -> None:
    """A version taking a protected attribute as input is not registered."""
    with pytest.raises(InvalidInputError, match="age of model 'pd' is a protected attribute"):
        register(platform, inputs=("income", "age"))

    assert platform.registry.versions() == []


@pytest.mark.parametrize(("source", "target"), list(itertools.product(Stage, Stage)))
def test_every_transition_through_the_lifecycle(platform: Platform, source: Stage,
                                                target: Stage) -> None:
    """Allowed moves change the stage and are audited; others change and record nothing."""
    ref = register(platform)
    for step in PATH_TO[source]:
        move_to(platform, ref, step)
    events_before = len(actions(platform))

    if target in NEXT_STAGES[source]:
        move_to(platform, ref, target, reason="test")
        assert platform.registry.get(ref).stage == target
        assert actions(platform)[-1] == "model.transitioned"
        assert platform.registry.history("pd")[-1].target == target
    else:
        with pytest.raises(IllegalTransitionError, match=f"cannot move from {source} to "
                                                         f"{target}") as caught:
            move_to(platform, ref, target)
        assert caught.value.rule == "lifecycle.transition"
        assert platform.registry.get(ref).stage == source
        assert len(actions(platform)) == events_before


def test_unknown_stage_is_named(platform: Platform) -> None:
    """A stage that does not exist is refused with the list of stages."""
    ref = register(platform)

    with pytest.raises(InvalidInputError, match="'production' is not a stage; use one of dev"):
        move_to(platform, ref, "production")


def test_promotion_to_prod_archives_the_previous_prod(platform: Platform) -> None:
    """One version is in prod per model: the old one is archived in the same transaction."""
    first, second = register(platform), register(platform)
    for ref in (first, second):
        move_to(platform, ref, Stage.STAGING)
        move_to(platform, ref, Stage.PROD)

    assert platform.registry.get(first).stage == Stage.ARCHIVED
    assert platform.registry.get(second).stage == Stage.PROD
    assert platform.registry.history("pd")[-2].reason == "replaced in prod by pd@2"


def test_production_version_at_a_time(platform: Platform) -> None:
    """The registry says which version was in prod at any past moment."""
    clock = iter(datetime(2026, 3, day, tzinfo=UTC) for day in range(1, 28))
    registry = Registry(platform.metadata, platform.artifacts, clock=lambda: next(clock))
    dev = staff(platform, "dev")
    for _ in range(2):  # registered on the 1st and 2nd
        registry.register(dev, PD, NewVersion(artifact=dump_sklearn({}), flavour="sklearn-skops",
                                              signature=Signature.of_names(["income"])))
    for ref in ("pd@1", "pd@2"):  # pd@1 in prod on the 4th, pd@2 replaces it on the 6th
        for stage in (Stage.STAGING, Stage.PROD):
            with platform.metadata.transaction() as tx:
                move(tx, ref, stage, actor="ops", moment=utc_timestamp(next(clock)))

    def in_prod(day: int, hour: int = 0) -> str | None:
        found = registry.in_production_at("pd", datetime(2026, 3, day, hour, tzinfo=UTC))
        return None if found is None else found.ref

    assert [in_prod(3), in_prod(4), in_prod(5, 12), in_prod(6), in_prod(20)] == [
        None, "pd@1", "pd@1", "pd@2", "pd@2"]


def test_alias_resolves_moves_and_is_removed(platform: Platform) -> None:
    """An alias points at one version, can move, and can be removed; each change audited."""
    register(platform)
    register(platform)

    assert platform.registry.set_alias(staff(platform, "ops"), "pd", "champion", 1) is None
    assert platform.registry.get("pd@champion").number == 1
    assert platform.registry.set_alias(staff(platform, "ops"), "pd", "champion", 2) == 1
    assert platform.registry.get("pd@champion").number == 2
    platform.registry.set_alias(staff(platform, "ops"), "pd", "champion", None)

    with pytest.raises(NotFoundError, match="No alias 'pd@champion'"):
        platform.registry.get("pd@champion")
    assert actions(platform)[-3:] == ["model.alias_set", "model.alias_set",
                                      "model.alias_removed"]


def test_two_aliases_may_share_a_version(platform: Platform) -> None:
    """champion and challenger are independent names."""
    register(platform)
    platform.registry.set_alias(staff(platform, "ops"), "pd", "champion", 1)
    platform.registry.set_alias(staff(platform, "ops"), "pd", "challenger", 1)

    assert platform.registry.aliases("pd") == {"champion": 1, "challenger": 1}


def test_alias_on_an_archived_version_is_refused(platform: Platform) -> None:
    """An alias may point only at a live version."""
    ref = register(platform)
    move_to(platform, ref, Stage.ARCHIVED)

    with pytest.raises(AliasTargetError, match="pd@1 is archived"):
        platform.registry.set_alias(staff(platform, "ops"), "pd", "champion", 1)


def test_archiving_removes_the_versions_aliases(platform: Platform) -> None:
    """Archiving a version takes its aliases with it, on the record."""
    ref = register(platform)
    platform.registry.set_alias(staff(platform, "ops"), "pd", "champion", 1)

    move_to(platform, ref, Stage.ARCHIVED)

    assert platform.registry.aliases("pd") == {}
    assert audit_events(platform)[-1].payload["aliases_removed"] == ["champion"]


def test_transition_by_alias(platform: Platform) -> None:
    """A version can be moved by its alias."""
    register(platform)
    platform.registry.set_alias(staff(platform, "ops"), "pd", "challenger", 1)

    assert move_to(platform, "pd@challenger", "staging").ref == "pd@1"


def test_alias_to_a_missing_version_is_refused(platform: Platform) -> None:
    """An alias cannot point at a version that does not exist."""
    register(platform)

    with pytest.raises(NotFoundError, match="No model version 'pd@9'"):
        platform.registry.set_alias(staff(platform, "ops"), "pd", "champion", 9)


def test_lineage_by_feature_view(platform: Platform) -> None:
    """Versions trained on a feature view are found by view@version or by view alone."""
    register(platform, views=("customer@1", "account@2"))
    register(platform, views=("customer@2",))
    register(platform)

    assert [v.ref for v in platform.registry.using_feature_view("customer@1")] == ["pd@1"]
    assert [v.ref for v in platform.registry.using_feature_view("customer")] == ["pd@1",
                                                                                 "pd@2"]
    assert platform.registry.using_feature_view("account@1") == []


def test_lineage_of_a_version(platform: Platform) -> None:
    """A version names its dataset and the other versions trained on it."""
    register(platform, dataset="a" * 64, views=("customer@1",))
    register(platform, dataset="a" * 64)
    register(platform, dataset="b" * 64)

    lineage = platform.registry.lineage("pd@1")

    assert lineage.dataset_sha256 == "a" * 64
    assert lineage.feature_views == ("customer@1",)
    assert lineage.siblings_on_dataset == ["pd@2"]


def test_tampered_artifact_is_not_loaded(platform: Platform) -> None:
    """Loading re-hashes the artifact and refuses bytes that changed."""
    version = platform.registry.register_sklearn(staff(platform, "dev"), "odd", np.zeros(3),
                                                 inputs=["x"], metrics={})
    location = platform.artifacts.location(version.artifact_sha256)
    with open(location, "r+b") as artifact:
        artifact.write(b"X")

    with pytest.raises(ArtifactIntegrityError):
        platform.registry.load(version)


def test_untrusted_artifact_is_refused_on_load(platform: Platform) -> None:
    """A registered artifact naming an untrusted type is refused, not run."""
    version = platform.registry.register_sklearn(
        staff(platform, "dev"), "odd", FunctionTransformer(func=print), inputs=["x"], metrics={})

    with pytest.raises(UntrustedArtifactError, match=r"builtins\.print"):
        platform.registry.load(version)


def test_duplicate_model_is_refused_by_the_store(platform: Platform) -> None:
    """The store never overwrites a model definition by insertion."""
    register(platform)

    with pytest.raises(DuplicateError, match="exists already"), \
            platform.metadata.transaction() as tx:
        tx.models.add_model(PD)


def test_concurrent_registrations_get_distinct_numbers(platform: Platform) -> None:
    """Writers registering one model at once each get their own number; none fails."""
    staff(platform, "dev")
    with ThreadPoolExecutor(4) as pool:
        refs = list(pool.map(lambda _: register(platform), range(12)))

    assert sorted(refs, key=lambda ref: int(ref.split("@")[1])) == [
        f"pd@{n}" for n in range(1, 13)]


def test_the_registry_offers_no_ungated_stage_change() -> None:
    """Stages move only through governance: nothing public on the registry changes one."""
    public = {name for name in dir(Registry) if not name.startswith("_")}

    assert not public & {"transition", "promote", "move", "save_stage"}


def test_a_stage_changes_only_from_the_stage_it_was_read_in(platform: Platform) -> None:
    """Compare-and-set: a writer that read a stale stage changes nothing."""
    ref = register(platform)
    stale = platform.registry.get(ref)
    move_to(platform, ref, Stage.STAGING)

    with pytest.raises(ConflictError, match="no longer dev") as caught, \
            platform.metadata.transaction() as tx:
        tx.models.save_stage(replace(stale, stage=Stage.ARCHIVED), expected=Stage.DEV)

    assert caught.value.rule == "lifecycle.stage_unchanged"
    assert platform.registry.get(ref).stage == Stage.STAGING


def test_the_database_refuses_a_second_prod_version(platform: Platform) -> None:
    """Even a writer that skips the archiving step cannot leave two versions in prod."""
    first, second = register(platform), register(platform)
    move_to(platform, first, Stage.STAGING, Stage.PROD)
    move_to(platform, second, Stage.STAGING)
    staged = platform.registry.get(second)

    with pytest.raises(ConflictError) as caught, platform.metadata.transaction() as tx:
        tx.models.save_stage(replace(staged, stage=Stage.PROD), expected=Stage.STAGING)

    assert caught.value.rule == "registry.one_prod_version"
    assert [v.ref for v in platform.registry.versions("pd") if v.stage == Stage.PROD] == [first]
