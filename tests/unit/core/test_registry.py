"""Model versions' lifecycle and references."""

from __future__ import annotations

import itertools

import pytest

from bankml.core.errors import IllegalTransitionError, InvalidInputError
from bankml.core.registry import NEXT_STAGES, ModelVersion, Stage, parse_model_ref

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
