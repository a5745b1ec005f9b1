"""Model versions' lifecycle and references."""

from __future__ import annotations

import itertools

import pytest

from bankml.core.errors import AliasTargetError, IllegalTransitionError, InvalidInputError
from bankml.core.registry import (
    NEXT_STAGES,
    Domain,
    InputField,
    Model,
    ModelVersion,
    Signature,
    Stage,
    StageChange,
    check_alias,
    check_alias_target,
    parse_model_ref,
    production_version_at,
)

VERSION = ModelVersion(name="pd", number=3, artifact_sha256="a" * 64, flavour="sklearn-skops",
                       created_at="2026-03-03T09:00:00.000000Z", created_by="alice")


@pytest.mark.parametrize(("source", "target"), list(itertools.product(Stage, Stage)))
def test_every_transition_follows_the_state_machine(source: Stage, target: Stage) -> None:
    """Allowed moves succeed; every other move names the rule and the allowed stages."""
    version = ModelVersion(**{**{f: getattr(VERSION, f) for f in VERSION.__slots__},  # type: ignore[attr-defined]
                              "stage": source})
    if target in NEXT_STAGES[source]:
        assert version.moved_to(target).stage == target
    else:
        with pytest.raises(IllegalTransitionError, match=f"cannot move from {source} to "
                                                         f"{target}. Allowed next"):
            version.moved_to(target)


@pytest.mark.parametrize(("ref", "parsed"), [("pd@3", ("pd", 3)), ("pd", ("pd", None))])
def test_model_refs_parse(ref: str, parsed: tuple[str, int | None]) -> None:
    """NAME@VERSION pins a version; NAME alone means the latest."""
    assert parse_model_ref(ref) == parsed


@pytest.mark.parametrize("ref", ["@3", "pd@0", "pd@X", "pd@-1"])
def test_bad_model_refs_are_refused(ref: str) -> None:
    """A reference without a name, or with neither a positive version nor an alias, is an error."""
    with pytest.raises(InvalidInputError, match="model"):
        parse_model_ref(ref)


def change(number: int, source: Stage | None, target: Stage, at: str) -> StageChange:
    return StageChange(name="pd", number=number, source=source, target=target,
                       changed_at=f"2026-03-{at}T00:00:00.000000Z", actor="alice")


HISTORY = [
    change(1, None, Stage.DEV, "01"), change(1, Stage.DEV, Stage.STAGING, "02"),
    change(1, Stage.STAGING, Stage.PROD, "03"), change(2, None, Stage.DEV, "04"),
    change(2, Stage.DEV, Stage.STAGING, "05"), change(1, Stage.PROD, Stage.ARCHIVED, "06"),
    change(2, Stage.STAGING, Stage.PROD, "06"), change(2, Stage.PROD, Stage.ARCHIVED, "08"),
]


@pytest.mark.parametrize(("day", "expected"), [
    ("02", None), ("03", 1), ("05", 1), ("06", 2), ("07", 2), ("08", None), ("09", None)])
def test_production_version_is_replayed_from_history(day: str, expected: int | None) -> None:
    """The version in prod at a time follows promotions, replacements and archiving."""
    moment = f"2026-03-{day}T00:00:00.000000Z"

    assert production_version_at(HISTORY, moment) == expected


@pytest.mark.parametrize("alias", ["Champion", "1", "", "a b", "x" * 51])
def test_bad_alias_names_are_refused(alias: str) -> None:
    """Aliases start with a letter and never look like a version number."""
    with pytest.raises(InvalidInputError, match="is not an alias"):
        check_alias(alias)


def test_archived_version_cannot_hold_an_alias() -> None:
    """An alias may not point at an archived version."""
    archived = ModelVersion(**{**{f: getattr(VERSION, f) for f in VERSION.__slots__},  # type: ignore[attr-defined]
                               "stage": Stage.ARCHIVED})

    with pytest.raises(AliasTargetError, match="pd@3 is archived"):
        check_alias_target(archived, "champion")


def test_model_refs_may_name_an_alias() -> None:
    """NAME@ALIAS resolves through the alias."""
    assert parse_model_ref("pd@champion") == ("pd", "champion")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("risk_tier", 4, "is not a risk tier"), ("name", "Credit PD", "is not a model name"),
    ("owner", " ", "must name a person or team")])
def test_model_definitions_are_checked(field: str, value: object, message: str) -> None:
    """A model needs a valid name, a tier from 1 to 3 and named owner and developer."""
    values: dict[str, object] = {"name": "pd", "domain": Domain.CREDIT, "risk_tier": 1,
                                 "owner": "risk", "developer": "dev", field: value}
    with pytest.raises(InvalidInputError, match=message):
        Model(**values)  # type: ignore[arg-type]


def test_signature_round_trips_through_its_description() -> None:
    """A signature written as JSON-ready data reads back equal."""
    signature = Signature(inputs=(
        InputField(name="age", dtype="int64", minimum=18.0, maximum=75.0),
        InputField(name="housing", dtype="category", categories=("own", "rent"))),
        output="probability_of_default")

    assert Signature.from_description(signature.describe()) == signature
