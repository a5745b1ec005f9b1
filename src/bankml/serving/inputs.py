"""What a served version takes: features from the online store, fields from the request.

A version trained on feature refs reads those exact view versions online (recorded in its
manifest as `view@N:feature`); every other input comes with the request. Request values
are checked against the version's signature: numbers within the range seen in training,
categories among those seen, nothing missing, nothing extra.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bankml.core.errors import InvalidInputError
from bankml.core.registry import InputField, ModelVersion

NUMERIC = frozenset({"int64", "int32", "float64", "float32", "int8", "int16", "uint8",
                     "Int64", "Float64", "bool"})


def feature_inputs(version: ModelVersion) -> dict[str, str]:
    """Input name -> pinned feature ref (`view@N:feature`) it is read from online."""
    recorded = {} if version.manifest is None else version.manifest.feature_refs
    pinned = {ref.split(":", 1)[1]: ref for ref in recorded.values()}
    return {name: pinned[name] for name in version.inputs if name in pinned}


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSchema:
    """The fields a request must carry (entity keys, then the version's request inputs)
    and those it may carry for monitoring alone."""

    entity: tuple[str, ...]
    fields: tuple[InputField, ...]
    attributes: tuple[str, ...] = ()  # recorded with the decision, never scored

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.entity, *(f.name for f in self.fields))

    def check(self, request: Mapping[str, Any], *, where: str = "") -> dict[str, Any]:
        """The request's model inputs, checked; InvalidInputError names field and rule."""
        prefix = f"{where}." if where else ""
        missing = [name for name in self.names if name not in request]
        if missing:
            raise InvalidInputError(f"{prefix}{missing[0]}", "is required by this endpoint "
                                    f"(it takes {', '.join(self.names)})",
                                    rule="decision.field_required")
        extra = sorted(set(request) - set(self.names) - set(self.attributes))
        if extra:
            raise InvalidInputError(f"{prefix}{extra[0]}", "is not a field of this endpoint "
                                    f"(it takes {', '.join(self.names)})",
                                    rule="decision.field_known")
        for name in self.attributes:
            value = request.get(name)
            if value is not None and (not isinstance(value, str | int | float)
                                      or isinstance(value, bool)):
                raise InvalidInputError(f"{prefix}{name}", "is a monitoring attribute: give "
                                        "text or a number", rule="decision.attribute_value")
        for key in self.entity:
            if not isinstance(request[key], str | int) or isinstance(request[key], bool):
                raise InvalidInputError(f"{prefix}{key}", "identifies the customer: give a "
                                        "string or a whole number", rule="decision.entity_key")
        return {spec.name: _checked(spec, request[spec.name], f"{prefix}{spec.name}")
                for spec in self.fields}


def request_schema(version: ModelVersion, entity: Sequence[str],
                   attributes: Sequence[str] = ()) -> RequestSchema:
    from_store = feature_inputs(version)
    return RequestSchema(entity=tuple(entity), fields=tuple(
        spec for spec in version.signature.inputs if spec.name not in from_store),
        attributes=tuple(attributes))


def fits_signature(request: Mapping[str, Any], version: ModelVersion) -> bool:
    """Whether `request` gives every input of the version's signature a value serving
    takes (None too: a gap the model's imputation was trained for). Only the values are
    judged, not the endpoint's other demands (entity keys, no extra fields)."""
    return all(spec.name in request and _violation(spec, request[spec.name]) is None
               for spec in version.signature.inputs)


def _checked(spec: InputField, value: Any, field: str) -> Any:
    violation = _violation(spec, value)
    if violation is not None:
        message, rule = violation
        raise InvalidInputError(field, message, rule=rule)
    return value


def _violation(spec: InputField, value: Any) -> tuple[str, str] | None:
    """What is wrong with `value` for `spec` and the rule it breaks, or None."""
    if value is None:
        return None  # a gap the model's imputation was trained for
    if spec.categories is not None:
        return _category_violation(spec.categories, value)
    if spec.dtype not in NUMERIC:
        return None  # a version registered by hand knows only its input names
    return _number_violation(spec, value)


def _category_violation(categories: tuple[str, ...], value: Any) -> tuple[str, str] | None:
    if isinstance(value, str) and value in categories:
        return None
    seen = ", ".join(categories[:8]) + (" ..." if len(categories) > 8 else "")
    return (f"{value!r} is not a category the model was trained on ({seen})",
            "decision.category_known")


def _number_violation(spec: InputField, value: Any) -> tuple[str, str] | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{value!r} is not a number ({spec.dtype})", "decision.field_type"
    if not math.isfinite(value):
        return f"{value!r} is not a finite number", "decision.field_type"
    low, high = spec.minimum, spec.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        return (f"{value} is outside the range the model was trained on [{low}, {high}]",
                "decision.value_in_range")
    return None
