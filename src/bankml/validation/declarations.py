"""How a run reads a model's protected attributes and inputs: bands, value labels,
reference groups and monotone directions.

They belong to the model: its spec declares them (`model.protected_attributes` entries,
`model.monotone`), and the validation policy supplies defaults. A numeric protected
attribute that neither bands is cut at the policy's `default_bands`, with a warning on
the record; a policy that names a column the model does not have is refused, so a
misspelt column is never skipped in silence.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bankml.core.errors import InvalidInputError
from bankml.training.spec import PipelineSpec
from bankml.validation.policy import ValidationPolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class Declarations:
    """What fairness and soundness tests read, each with where it came from."""

    bands: dict[str, tuple[float, ...]] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)  # column -> reference value
    monotone: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # "bands[age]" -> "spec", ...
    warnings: tuple[str, ...] = ()

    def groups(self, protected: pd.DataFrame) -> pd.DataFrame:
        """Protected values as group names: codes named by their labels, numbers banded
        (`<25`, `25-35`, ...), everything else as text."""
        grouped = protected.copy()
        for column in protected.columns:
            values = protected[column]
            if column in self.labels:
                named = self.labels[column]
                grouped[column] = [named.get(_text(v), _text(v)) for v in values]
            elif column in self.bands and pd.api.types.is_numeric_dtype(values):
                grouped[column] = cut(values, self.bands[column])
            else:
                grouped[column] = values.astype(str)
        return grouped

    def reference(self, columns: Sequence[str]) -> str | None:
        """The declared reference group of `columns` (an intersection's when every column
        declares one), as the fairness functions name groups: `sex=male & ...`."""
        if not all(c in self.references for c in columns):
            return None
        return " & ".join(f"{c}={self.references[c]}" for c in columns)


def cut(values: pd.Series, edges: Sequence[float]) -> np.ndarray:
    """Numbers in bands `<e0`, `e0-e1`, ..., `>=eK`; a value on an edge goes up."""
    bounds = list(edges)
    names = [f"<{bounds[0]:g}", *(f"{a:g}-{b:g}" for a, b in itertools.pairwise(bounds)),
             f">={bounds[-1]:g}"]
    return np.array(names)[np.searchsorted(bounds, values, side="right")]


def _text(value: object) -> str:
    """A stored value as label keys are written: 1.0 read from a file matches `1`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def declarations_for(spec: PipelineSpec, policy: ValidationPolicy, *,
                     inputs: Sequence[str], protected: pd.DataFrame,
                     model: str) -> Declarations:
    """The spec's declarations over the policy's defaults, for the rows in `protected`."""
    params = policy.parameters
    declared = {item.name: item for item in spec.model.protected}
    _known(policy, "bands", list(params.bands), list(declared), model=model,
           kind="protected attributes")
    _known(policy, "monotone", list(params.monotone), list(inputs), model=model,
           kind="inputs")
    bands: dict[str, tuple[float, ...]] = {}
    labels: dict[str, dict[str, str]] = {}
    references: dict[str, str] = {}
    sources: dict[str, str] = {}
    warnings: list[str] = []
    for index, (name, item) in enumerate(declared.items()):
        values = protected[name] if name in protected.columns else pd.Series(dtype=object)
        numeric = (pd.api.types.is_numeric_dtype(values)
                   and not pd.api.types.is_bool_dtype(values))
        if item.labels is not None:
            labels[name] = dict(item.labels)
            sources[f"labels[{name}]"] = "spec"
        elif item.bands is not None:
            if not numeric:
                raise InvalidInputError(f"model.protected_attributes.{index}.bands",
                                        f"{name!r} holds text, not numbers, so it cannot be "
                                        "cut into bands; declare `labels` instead",
                                        rule="fairness.bands_numeric")
            bands[name], sources[f"bands[{name}]"] = tuple(item.bands), "spec"
        elif name in params.bands:
            bands[name], sources[f"bands[{name}]"] = params.bands[name], "policy"
        elif numeric and params.default_bands:
            bands[name] = params.default_bands
            sources[f"bands[{name}]"] = "policy default"
            warnings.append(
                f"{name} is numeric and its spec declares no bands: cut at the policy's "
                f"default bands {list(params.default_bands)}; declare `bands` (or `labels`) "
                f"for it under model.protected_attributes")
        elif numeric:
            warnings.append(f"{name} is numeric and neither the spec nor the policy bands "
                            "it: every distinct value is a group of its own")
        if item.reference is not None:
            references[name] = item.reference
            sources[f"reference[{name}]"] = "spec"
    monotone = {**params.monotone, **(spec.model.monotone or {})}
    sources |= {f"monotone[{name}]": "spec" if name in (spec.model.monotone or {})
                else "policy" for name in monotone}
    return Declarations(bands=bands, labels=labels, references=references,
                        monotone=monotone, sources=sources, warnings=tuple(warnings))


def _known(policy: ValidationPolicy, key: str, declared: list[str], columns: list[str], *,
           model: str, kind: str) -> None:
    for name in declared:
        if name not in columns:
            raise InvalidInputError(
                f"validation policy {policy.policy_id}", f"parameters.{key}.{name}: {name!r}"
                f" is none of the {kind} of {model} ({', '.join(columns) or 'none'}); "
                "declare per-model bands and directions in the model's spec",
                rule="validation_policy.column_known")
