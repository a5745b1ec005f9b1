"""Requests built from example rows as a bank's application would send them, and the check
that a request holds only values the model saw in training (the endpoint refuses others)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from bankml.core.registry import ModelVersion
from bankml.serving.inputs import fits_signature


def request(row: Mapping[Hashable, Any], version: ModelVersion, *,
            entity: Mapping[str, Any], attributes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The endpoint's request for `row`: its entity keys, the model's inputs and the
    monitoring attributes the endpoint records (never scored)."""
    return {**entity, **{name: plain(row[name]) for name in version.inputs},
            **{name: plain(row[name]) for name in attributes if name in row}}


def plain(value: Any) -> Any:
    """A NumPy scalar as the plain Python value JSON carries."""
    return value.item() if hasattr(value, "item") else value


def within(request: Mapping[str, Any], version: ModelVersion) -> bool:
    """Whether every value is one the model saw in training (the endpoint refuses others)."""
    return fits_signature(request, version)
