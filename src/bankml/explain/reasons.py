"""Adverse-action reason codes: a governed catalogue and the Regulation B selection.

A catalogue (YAML) gives each reason a stable code, customer-readable text and the model
inputs it covers. A reason may cover several inputs (a reason group) and may apply to one
direction of a numeric input only ("high": the applicant's value is above the background
mean; "low": at or below it). The catalogue is versioned by the sha256 of its text and
validated against the model's inputs: every input must be covered exactly once per
direction, codes must be unique, texts non-empty and specific (12 CFR 1002.9(b)(2)).

`adverse_reasons` sums the contributions of each reason's inputs and returns the reasons
that pushed the score furthest towards decline, measured from the explanation's baseline
(the expected model output over the background); see docs/explanations.md.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bankml.core.canonical import sha256_hex
from bankml.core.errors import InvalidInputError
from bankml.documents import load_yaml

Direction = Literal["high", "low"]
DIRECTIONS: tuple[Direction, ...] = ("high", "low")
MAX_REASONS = 4  # Reg B comment 9(b)(2)-1: more than four reasons is "not likely helpful"
# reasons Regulation B names as insufficient (1002.9(b)(2)); a catalogue may not use them
GENERIC_TEXTS = ("internal standards", "internal policy", "qualifying score",
                 "insufficient score", "credit scoring system")


class _ReasonSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_-]{0,15}$")
    text: str
    features: list[str] = Field(min_length=1)
    direction: Direction | None = None


class _CatalogueSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    reasons: list[_ReasonSpec] = Field(min_length=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """One catalogue entry: a code, its notice text and the inputs it stands for."""

    code: str
    text: str
    features: tuple[str, ...]
    direction: Direction | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AdverseReason:
    """A reason disclosed to a declined applicant, with the push that earned it."""

    code: str
    text: str
    contribution: float  # summed contribution of the reason's inputs; > 0, towards decline
    features: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasonCatalogue:
    """A validated catalogue, known by its name and the sha256 of its YAML text."""

    name: str
    sha256: str
    reasons: tuple[Reason, ...]
    inputs: tuple[str, ...]  # the model inputs it was validated against
    # each input's reasons in catalogue order: every decline looks up every input
    _covering: dict[str, tuple[Reason, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        covering: dict[str, list[Reason]] = {}
        for reason in self.reasons:
            for feature in reason.features:
                covering.setdefault(feature, []).append(reason)
        object.__setattr__(self, "_covering", {f: tuple(r) for f, r in covering.items()})

    def reason_for(self, feature: str, direction: Direction | None) -> Reason:
        """The reason that covers `feature` moving in `direction`."""
        for reason in self._covering.get(feature, ()):
            if reason.direction in (None, direction):
                return reason
        if feature not in self.inputs:
            raise InvalidInputError("feature", f"{feature!r} is not an input the "
                                    f"catalogue {self.name} covers",
                                    rule="reasons.known_feature")
        raise InvalidInputError("directions", f"{feature!r} has reasons by direction; give "
                                "its direction (high or low)", rule="reasons.direction_given")


def example_catalogue_text() -> str:
    """The example catalogue shipped for the German credit PD model's inputs."""
    return (importlib.resources.files("bankml.explain") / "catalogues" /
            "german_credit.yaml").read_text(encoding="utf-8")


def load_catalogue(text: str, *, inputs: Sequence[str]) -> ReasonCatalogue:
    """Parse and validate a catalogue's YAML `text` against the model's `inputs`.

    Raises:
        InvalidInputError: naming the entry, when the YAML is malformed, an entry breaks
            the schema, a code repeats, a text is empty or generic, an entry names a
            feature the model does not have, an input is covered twice or not at all.
    """
    try:
        spec = _CatalogueSpec.model_validate(load_yaml(text, source="catalogue"))
    except yaml.YAMLError as exc:
        raise InvalidInputError("catalogue", f"is not valid YAML: {exc}",
                                rule="reasons.schema") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{_entry_name(e['loc'], text)}: {e['msg']}"
                             for e in exc.errors())
        raise InvalidInputError("catalogue", problems, rule="reasons.schema") from exc
    reasons = tuple(Reason(code=r.code, text=r.text.strip(), features=tuple(r.features),
                           direction=r.direction) for r in spec.reasons)
    _check_entries(reasons, tuple(inputs))
    _check_coverage(reasons, tuple(inputs))
    return ReasonCatalogue(name=spec.name, sha256=sha256_hex(text), reasons=reasons,
                           inputs=tuple(inputs))


def adverse_reasons(contributions: Mapping[str, float], catalogue: ReasonCatalogue, *,
                    n: int = MAX_REASONS,
                    directions: Mapping[str, Direction] | None = None,
                    ) -> tuple[AdverseReason, ...]:
    """The top `n` reasons that pushed the score towards decline, most adverse first.

    Each input's contribution (positive = towards default/decline, measured from the
    baseline) is added to the reason that covers it (for a directed reason, the one
    matching `directions[input]`). Reasons whose sum is not positive are never listed;
    equal sums are ordered by code. Every catalogue input must have a contribution.

    Args:
        contributions: input name -> contribution, e.g. `Explanation.contributions(row)`.
        catalogue: a validated catalogue for the same model inputs.
        n: how many reasons at most (Regulation B: four is the useful maximum).
        directions: input name -> "high"/"low", e.g. `Explanation.directions(row)`;
            needed only for inputs whose reasons are split by direction.
    """
    if n < 1:
        raise InvalidInputError("n", f"{n}: disclose at least one reason",
                                rule="reasons.count")
    missing = [f for f in catalogue.inputs if f not in contributions]
    if missing:
        raise InvalidInputError("contributions", f"lack the model inputs {missing}; every "
                                "scored input must be weighed", rule="reasons.all_inputs")
    extra = sorted(set(contributions) - set(catalogue.inputs))
    if extra:
        raise InvalidInputError("contributions", f"{extra[0]!r} is not an input the "
                                f"catalogue {catalogue.name} covers",
                                rule="reasons.known_feature")
    sums: dict[str, float] = {}
    members: dict[str, list[str]] = {}
    for feature in catalogue.inputs:
        direction = (directions or {}).get(feature)
        reason = catalogue.reason_for(feature, direction)
        sums[reason.code] = sums.get(reason.code, 0.0) + float(contributions[feature])
        members.setdefault(reason.code, []).append(feature)
    texts = {r.code: r.text for r in catalogue.reasons}
    adverse = sorted((code for code, total in sums.items() if total > 0),
                     key=lambda code: (-sums[code], code))
    return tuple(AdverseReason(code=code, text=texts[code], contribution=sums[code],
                               features=tuple(members[code])) for code in adverse[:n])


def _entry_name(loc: tuple[int | str, ...], text: str) -> str:
    """`reasons[2] (R03).text` from a pydantic error location."""
    if len(loc) >= 2 and loc[0] == "reasons" and isinstance(loc[1], int):
        raw = load_yaml(text, source="catalogue")["reasons"][loc[1]]
        code = raw.get("code") if isinstance(raw, dict) else None
        label = f"reasons[{loc[1]}]" + (f" ({code})" if code else "")
        return ".".join([label, *(str(part) for part in loc[2:])])
    return ".".join(str(part) for part in loc) or "catalogue"


def _check_entries(reasons: tuple[Reason, ...], inputs: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for i, reason in enumerate(reasons):
        where = f"reasons[{i}] ({reason.code})"
        if reason.code in seen:
            raise InvalidInputError(where, f"code {reason.code} is used twice; codes are "
                                    "stable identifiers and must be unique",
                                    rule="reasons.unique_code")
        seen.add(reason.code)
        if not reason.text:
            raise InvalidInputError(f"{where}.text", "is empty; give the customer-readable "
                                    "reason", rule="reasons.text_present")
        generic = [g for g in GENERIC_TEXTS if g in reason.text.lower()]
        if generic:
            raise InvalidInputError(f"{where}.text", f"{reason.text!r} is generic "
                                    f"({generic[0]!r}); Regulation B needs the specific "
                                    "factor (12 CFR 1002.9(b)(2))", rule="reasons.specific")
        unknown = [f for f in reason.features if f not in inputs]
        if unknown:
            raise InvalidInputError(f"{where}.features", f"{unknown} are not model inputs; "
                                    "reasons may only describe factors the model scores",
                                    rule="reasons.model_inputs")


def _check_coverage(reasons: tuple[Reason, ...], inputs: tuple[str, ...]) -> None:
    covered = {f for r in reasons for f in r.features}
    missing = [f for f in inputs if f not in covered]
    if missing:
        raise InvalidInputError("catalogue", f"model input {missing[0]!r} has no reason; "
                                "add an entry that covers it", rule="reasons.covers_inputs")
    for feature in inputs:
        covering = [r for r in reasons if feature in r.features]
        for direction in DIRECTIONS:
            matching = [r.code for r in covering if r.direction in (None, direction)]
            if len(matching) != 1:
                problem = "more than one reason" if matching else "no reason"
                raise InvalidInputError("catalogue", f"model input {feature!r} has {problem} "
                                        f"for direction {direction}"
                                        + (f" ({', '.join(matching)})" if matching else "")
                                        + "; each input needs exactly one reason per "
                                        "direction", rule="reasons.covers_inputs")
