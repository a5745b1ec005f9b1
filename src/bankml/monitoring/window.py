"""One endpoint's window of decisions, accumulated per model version and route as columns
while the decision log streams past: no record is kept, only the values monitoring reads.

A weekly run over many endpoints must not hold every decision at once, nor one Python
object per decision: each (version, route) keeps a list per column (scores, outcomes,
times, ids, every model input, every monitoring attribute) and turns it into arrays when
it is measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from json import loads
from typing import Any

import numpy as np
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.ports import MonitoredRow


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

    def add(self, row: MonitoredRow) -> None:
        decision_id, decided_at, _, _, _, score, outcome, inputs_json, request_json = row
        index = len(self.scores)
        self.decision_ids.append(decision_id)
        self.decided_at.append(decided_at)
        self.scores.append(score)
        self.outcomes.append(outcome)
        _append(self.inputs, loads(inputs_json), index)
        if self.attribute_names:
            request = loads(request_json)
            _append(self.attributes, {name: request.get(name)
                                      for name in self.attribute_names}, index)

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


def accumulate(chunks: Iterable[list[MonitoredRow]], *, attributes: Sequence[str] = ()
               ) -> dict[tuple[str, str], WindowColumns]:
    """The window's columns per (model version, route), read in one pass over the log's
    chunks; the caller sets each window's `policy_json`."""
    windows: dict[tuple[str, str, int, str], WindowColumns] = {}
    names = tuple(attributes)
    for chunk in chunks:
        for row in chunk:
            key = ("", row[2], row[3], row[4])
            window = windows.get(key)
            if window is None:
                window = windows[key] = WindowColumns(model=f"{row[2]}@{row[3]}", route=row[4],
                                                      attribute_names=names)
            window.add(row)
    return {(w.model, w.route): w for w in windows.values()}
