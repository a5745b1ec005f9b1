"""Model versions and their lifecycle."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Self

from bankml.core.errors import IllegalTransitionError, InvalidInputError


class Stage(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"
    ARCHIVED = "archived"


NEXT_STAGES: dict[Stage, frozenset[Stage]] = {
    Stage.DEV: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PROD, Stage.DEV, Stage.ARCHIVED}),
    Stage.PROD: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset(),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelVersion:
    """One immutable build of a model, known by name and number."""

    name: str
    number: int
    artifact_sha256: str
    flavour: str
    created_at: str
    created_by: str
    stage: Stage = Stage.DEV
    metrics: dict[str, float] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.number}"

    def moved_to(self, target: Stage) -> Self:
        allowed = NEXT_STAGES[self.stage]
        if target not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            raise IllegalTransitionError(
                f"{self.ref} cannot move from {self.stage} to {target}. Allowed next: {names}."
            )
        return replace(self, stage=target)

    def describe(self) -> dict[str, Any]:
        """The fields an audit event records about this version."""
        return {"artifact_sha256": self.artifact_sha256, "flavour": self.flavour,
                "stage": str(self.stage), "metrics": self.metrics, "inputs": self.inputs}


def parse_model_ref(ref: str) -> tuple[str, int | None]:
    """`credit-pd@3` -> ("credit-pd", 3); `credit-pd` -> ("credit-pd", None) for the latest."""
    name, _, number = ref.partition("@")
    if not name:
        raise InvalidInputError("model", f"{ref!r} names no model; write NAME or NAME@VERSION")
    if not number:
        return name, None
    if not number.isdigit() or int(number) < 1:
        raise InvalidInputError("model", f"{ref!r}: the version after @ must be a positive "
                                "whole number")
    return name, int(number)
