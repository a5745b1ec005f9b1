"""Models, their versions, lifecycle, aliases and production history: the registry's rules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Self

from bankml.core.errors import AliasTargetError, IllegalTransitionError, InvalidInputError
from bankml.core.limits import check_integer
from bankml.core.manifest import Manifest


class Stage(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"
    ARCHIVED = "archived"


# The lifecycle state machine: the one place that says which move is allowed.
NEXT_STAGES: dict[Stage, frozenset[Stage]] = {
    Stage.DEV: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PROD, Stage.DEV, Stage.ARCHIVED}),
    Stage.PROD: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset(),
}


class Domain(StrEnum):
    CREDIT = "credit"
    FRAUD = "fraud"
    AML = "aml"
    PROPENSITY = "propensity"
    OTHER = "other"


RISK_TIERS = (1, 2, 3)  # 1 = highest materiality, validated most strictly
WELL_KNOWN_ALIASES = ("champion", "challenger")
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,199}")
ALIAS_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,49}")


def check_model_name(name: str) -> str:
    """A model name: lowercase letters, digits, `.`, `_`, `-`; starts with a letter or digit."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInputError("name", f"{name!r} is not a model name: use lowercase "
                                "letters, digits, '.', '_' and '-' (at most 200), e.g. "
                                "'credit-pd'", rule="registry.model_name")
    return name


@dataclass(frozen=True, slots=True, kw_only=True)
class Model:
    """What a model is for and who answers for it; its versions share this."""

    name: str
    domain: Domain
    risk_tier: int
    owner: str
    developer: str
    intended_use: str = ""
    limitations: str = ""
    # Kept for fairness testing only; a version that uses one as an input is refused.
    protected_attributes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_model_name(self.name)
        if self.risk_tier not in RISK_TIERS:
            raise InvalidInputError("risk_tier", f"{self.risk_tier!r} is not a risk tier; use "
                                    "1 (highest), 2 or 3", rule="registry.risk_tier")
        for role in ("owner", "developer"):
            if not getattr(self, role).strip():
                raise InvalidInputError(role, "must name a person or team",
                                        rule="registry.accountable")

    def describe(self) -> dict[str, Any]:
        return {"domain": str(self.domain), "risk_tier": self.risk_tier, "owner": self.owner,
                "developer": self.developer, "intended_use": self.intended_use,
                "limitations": self.limitations,
                "protected_attributes": list(self.protected_attributes)}


@dataclass(frozen=True, slots=True, kw_only=True)
class InputField:
    """One input of a model version: its dtype and the values it was trained on."""

    name: str
    dtype: str
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] | None = None

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"name": self.name, "dtype": self.dtype}
        if self.minimum is not None or self.maximum is not None:
            described["range"] = [self.minimum, self.maximum]
        if self.categories is not None:
            described["categories"] = list(self.categories)
        return described

    @classmethod
    def from_description(cls, described: dict[str, Any]) -> InputField:
        low, high = described.get("range", [None, None])
        categories = described.get("categories")
        return cls(name=described["name"], dtype=described["dtype"], minimum=low, maximum=high,
                   categories=tuple(categories) if categories is not None else None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    """What a version takes and gives: each input with dtype and allowed values, and the output."""

    inputs: tuple[InputField, ...] = ()
    output: str = "score"
    output_dtype: str = "float64"

    @property
    def input_names(self) -> list[str]:
        return [item.name for item in self.inputs]

    def describe(self) -> dict[str, Any]:
        return {"inputs": [item.describe() for item in self.inputs],
                "output": {"name": self.output, "dtype": self.output_dtype}}

    @classmethod
    def from_description(cls, described: dict[str, Any]) -> Signature:
        output = described.get("output", {})
        return cls(inputs=tuple(InputField.from_description(item)
                                for item in described.get("inputs", [])),
                   output=output.get("name", "score"),
                   output_dtype=output.get("dtype", "float64"))

    @classmethod
    def of_names(cls, names: Iterable[str]) -> Signature:
        """A signature that knows only the input names (versions registered by hand)."""
        return cls(inputs=tuple(InputField(name=name, dtype="unknown") for name in names))


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelVersion:
    """One immutable build of a model, known by name and number; only its stage moves."""

    name: str
    number: int
    artifact_sha256: str
    flavour: str
    created_at: str
    created_by: str
    stage: Stage = Stage.DEV
    metrics: dict[str, float] = field(default_factory=dict)
    signature: Signature = field(default_factory=Signature)
    feature_views: tuple[str, ...] = ()  # exact `view@version` the version was trained on
    dataset_sha256: str = ""
    manifest: Manifest | None = None  # None: registered by hand, not built by `bankml train`
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.number}"

    @property
    def inputs(self) -> list[str]:
        """The input column names, in the order the model takes them."""
        return self.signature.input_names

    def moved_to(self, target: Stage) -> Self:
        allowed = NEXT_STAGES[self.stage]
        if target not in allowed:
            names = ", ".join(sorted(allowed)) or "none (archived is final)"
            raise IllegalTransitionError(
                f"{self.ref} cannot move from {self.stage} to {target}. Allowed next: {names}."
            )
        return replace(self, stage=target)

    def describe(self) -> dict[str, Any]:
        """The fields an audit event records about this version."""
        return {"artifact_sha256": self.artifact_sha256, "flavour": self.flavour,
                "stage": str(self.stage), "metrics": self.metrics, "inputs": self.inputs,
                "feature_views": list(self.feature_views),
                "dataset_sha256": self.dataset_sha256, "tags": self.tags,
                "spec_sha256": None if self.manifest is None else self.manifest.spec_sha256}


@dataclass(frozen=True, slots=True, kw_only=True)
class StageChange:
    """One move of a version through the lifecycle; `source` is None at registration."""

    name: str
    number: int
    source: Stage | None
    target: Stage
    changed_at: str  # canonical UTC text, sortable
    actor: str
    reason: str = ""


def production_version_at(changes: Iterable[StageChange], moment: str) -> int | None:
    """The version number in prod at `moment` (canonical UTC text), from the stage history.

    Changes are replayed in order; a change at exactly `moment` counts as done.
    """
    in_prod: int | None = None
    for change in sorted(changes, key=lambda c: c.changed_at):
        if change.changed_at > moment:
            break
        if change.target == Stage.PROD:
            in_prod = change.number
        elif change.source == Stage.PROD and change.number == in_prod:
            in_prod = None
    return in_prod


def check_alias(alias: str) -> str:
    """An alias names a role (`champion`, `challenger`, ...), never a number."""
    if not ALIAS_PATTERN.fullmatch(alias):
        raise InvalidInputError("alias", f"{alias!r} is not an alias: start with a letter, "
                                "then lowercase letters, digits, '_' or '-' (e.g. "
                                f"{', '.join(WELL_KNOWN_ALIASES)})", rule="registry.alias_name")
    return alias


def check_alias_target(version: ModelVersion, alias: str) -> None:
    """An archived version is retired: no alias may point at it."""
    if version.stage == Stage.ARCHIVED:
        raise AliasTargetError(
            f"{version.ref} is archived; alias {alias!r} may point only at a dev, staging or "
            "prod version. Choose a live version.")


def parse_model_ref(ref: str) -> tuple[str, int | str | None]:
    """`pd@3` -> ("pd", 3); `pd@champion` -> ("pd", "champion"); `pd` -> ("pd", None) (latest)."""
    name, _, selector = ref.partition("@")
    if not name:
        raise InvalidInputError("model", f"{ref!r} names no model; write NAME, NAME@VERSION "
                                "or NAME@ALIAS")
    if not selector:
        return name, None
    if selector.isdigit() and int(selector) >= 1:
        return name, check_integer("model", int(selector))
    if ALIAS_PATTERN.fullmatch(selector):
        return name, selector
    raise InvalidInputError("model", f"{ref!r}: after @ comes a positive whole number (the "
                            "version) or an alias such as champion")
