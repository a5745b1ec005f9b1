"""One endpoint's window of decisions, accumulated per model version and route as columns
while the decision log streams past: no record is kept, only the values monitoring reads.

A weekly run over many endpoints must not hold every decision at once, nor one Python
object per decision: each (version, route) keeps a list per column (scores, outcomes,
times, ids, every model input, every monitoring attribute) and turns it into arrays when
it is measured.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.decisions import DecisionRecord


@dataclass(slots=True, eq=False)
class WindowColumns:
    """The decisions of one model version and route in a window, column by column."""

    model: str
    route: str
    attribute_names: tuple[str, ...] = ()
    policy_json: str = ""
    decision_ids: list[str] = field(default_factory=list)
    decided_at: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    inputs: dict[str, list[Any]] = field(default_factory=dict)
    attributes: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.scores)

    def add(self, record: DecisionRecord) -> None:
        row = len(self.scores)
        if not self.policy_json:
            self.policy_json = record.policy_json
        self.decision_ids.append(record.decision_id)
        self.decided_at.append(record.decided_at)
        self.scores.append(record.score)
        self.outcomes.append(str(record.outcome))
        _append(self.inputs, json.loads(record.inputs_json), row)
        if self.attribute_names:
            request = json.loads(record.request_json)
            _append(self.attributes, {name: request.get(name)
                                      for name in self.attribute_names}, row)

    def score_array(self) -> FloatArray:
        return np.asarray(self.scores, dtype=np.float64)

    def outcome_series(self) -> pd.Series:
        return pd.Series(self.outcomes, dtype="string")

    def column(self, name: str) -> pd.Series:
        """An input as the model saw it (None where a decision lacked it)."""
        values = self.inputs.get(name)
        if values is None:
            return pd.Series([None] * len(self), dtype=object)
        return pd.Series(values + [None] * (len(self) - len(values)))

    def attribute(self, name: str) -> pd.Series:
        values = self.attributes.get(name, [])
        return pd.Series(values + [None] * (len(self) - len(values)), dtype=object)


def _append(columns: dict[str, list[Any]], values: dict[str, Any], row: int) -> None:
    """Append one row; a column first seen now is filled with None for earlier rows, one
    absent now gets None, so every column stays as long as the rows."""
    for name, value in values.items():
        found = columns.get(name)
        if found is None:
            found = columns[name] = [None] * row
        found.append(value)
    if len(values) != len(columns):
        for column in columns.values():
            if len(column) == row:
                column.append(None)


def accumulate(records: Iterable[DecisionRecord], *, attributes: Sequence[str] = ()
               ) -> dict[tuple[str, str], WindowColumns]:
    """The window's columns per (model version, route), read in one pass."""
    windows: dict[tuple[str, str], WindowColumns] = {}
    names = tuple(attributes)
    for record in records:
        key = (record.model_ref, record.route)
        window = windows.get(key)
        if window is None:
            window = windows[key] = WindowColumns(model=key[0], route=key[1],
                                                  attribute_names=names)
        window.add(record)
    return windows
