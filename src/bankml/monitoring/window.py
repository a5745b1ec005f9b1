"""One endpoint's window of decisions, accumulated per model version and route as columns
while the decision log streams past: no record is kept, only the values monitoring reads.

A weekly run over many endpoints must not hold every decision at once, nor one Python
object per decision: each (version, route) keeps its scores, outcomes, times and ids, each
decision's latest label and override (read with the row), and every model input and
monitoring attribute as the columns of its chunks (`bankml.columns`), turned into one
Series when it is measured. `add` reads one row at a time, the reference the chunked path
(`add_rows`) is tested against.

A shadow record is never answered, so no label joins it; once the window is read, each
shadow decision takes the latest label of the champion decision it shadows (the log names
that decision: same call, same customer) and keeps that decision's score and outcome, so
that both models are compared on the same applicants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from json import loads
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankml.arrays import FloatArray
from bankml.columns import ParsedChunk, parse_objects, series
from bankml.core.ports import MonitoredRow
from bankml.core.rollouts import Route


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
    labels: list[int | None] = field(default_factory=list)  # the latest label's outcome
    overrides: list[str | None] = field(default_factory=list)  # the latest override's
    paired_ids: list[str | None] = field(default_factory=list)  # shadow: its champion's
    # shadow only, once paired: the champion decision's score (NaN: not in the window) and
    # outcome on the same applicant; `labels` then hold the champion decision's labels
    champion_scores: FloatArray | None = None
    champion_outcomes: list[str | None] | None = None
    # rows added one at a time (`add`), after the parsed chunks (`add_rows`)
    inputs: dict[str, list[Any]] = field(default_factory=dict)
    attributes: dict[str, list[Any]] = field(default_factory=dict)
    input_chunks: list[ParsedChunk] = field(default_factory=list)
    attribute_chunks: list[ParsedChunk] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.scores)

    def add(self, row: MonitoredRow) -> None:
        (decision_id, decided_at, _, _, _, score, outcome, inputs_json, request_json, label,
         override, paired_id) = row
        index = len(self.scores) - self._chunked_rows()
        self.decision_ids.append(decision_id)
        self.decided_at.append(decided_at)
        self.scores.append(score)
        self.outcomes.append(outcome)
        self.labels.append(label)
        self.overrides.append(override)
        self.paired_ids.append(paired_id)
        _append(self.inputs, loads(inputs_json), index)
        if self.attribute_names:
            request = loads(request_json)
            _append(self.attributes, {name: request.get(name)
                                      for name in self.attribute_names}, index)

    def add_rows(self, rows: Sequence[MonitoredRow]) -> None:
        """A chunk of rows at once, their JSON parsed column by column."""
        if rows:
            self.add_columns(list(zip(*rows, strict=True)))

    def add_columns(self, columns: list[tuple[Any, ...]]) -> None:
        """A chunk's rows given as its columns (in `MonitoredRow`'s order)."""
        self._seal_rows()
        (ids, times, _, _, _, scores, outcomes, inputs, requests, labels, overrides,
         paired) = columns
        self.decision_ids += ids
        self.decided_at += times
        self.scores += scores
        self.outcomes += outcomes
        self.labels += labels
        self.overrides += overrides
        self.paired_ids += paired
        self.input_chunks.append(parse_objects(inputs))
        self.attribute_chunks.append(parse_objects(requests, names=self.attribute_names)
                                     if self.attribute_names
                                     else ParsedChunk(rows=len(ids), values={}))

    def score_array(self) -> FloatArray:
        return np.asarray(self.scores, dtype=np.float64)

    def outcome_series(self) -> pd.Series:
        return pd.Series(self.outcomes, dtype="string")

    def decided_after(self, moment: str) -> npt.NDArray[np.bool_]:
        """Which decisions were made after `moment` (timestamps compared as text, as the
        log orders them)."""
        return np.asarray(self.decided_at, dtype=str) > moment

    def overridden(self) -> npt.NDArray[np.bool_]:
        """Which decisions a person overrode."""
        overrides = np.asarray(self.overrides, dtype=object)
        return np.asarray(overrides != None, dtype=np.bool_)  # noqa: E711 - elementwise, in C

    def label_array(self) -> FloatArray:
        """Each decision's latest label (NaN: none yet)."""
        return np.asarray(self.labels, dtype=np.float64)

    def column(self, name: str) -> pd.Series:
        """An input as the model saw it (None where a decision lacked it)."""
        if not self.input_chunks and name not in self.inputs:
            return pd.Series([None] * len(self), dtype=object)
        return series(self._pieces(self.input_chunks, self.inputs, name))

    def attribute(self, name: str) -> pd.Series:
        return series(self._pieces(self.attribute_chunks, self.attributes, name), objects=True)

    def _chunked_rows(self) -> int:
        return sum(c.rows for c in self.input_chunks)

    def _pieces(self, chunks: list[ParsedChunk], rows: dict[str, list[Any]], name: str
                ) -> list[Any]:
        pieces: list[Any] = [c.piece(name) for c in chunks]
        added = len(self) - self._chunked_rows()
        if added:
            values = rows.get(name, [])
            pieces.append(values + [None] * (added - len(values)))
        return pieces

    def _seal_rows(self) -> None:
        """Rows added one at a time become a chunk, so that the order of rows holds."""
        added = len(self) - self._chunked_rows()
        if not added:
            return
        self.input_chunks.append(ParsedChunk(rows=added, values=_padded(self.inputs, added)))
        self.attribute_chunks.append(ParsedChunk(rows=added,
                                                 values=_padded(self.attributes, added)))
        self.inputs, self.attributes = {}, {}


def _padded(columns: dict[str, list[Any]], rows: int) -> dict[str, list[Any]]:
    return {name: values + [None] * (rows - len(values)) for name, values in columns.items()}


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


def accumulate(chunks: Iterable[list[MonitoredRow]], *, attributes: Sequence[str] = (),
               by_row: bool = False) -> dict[tuple[str, str], WindowColumns]:
    """The window's columns per (model version, route), read in one pass over the log's
    chunks, each chunk parsed at once (one row at a time with `by_row`, the reference);
    the caller sets each window's `policy_json`."""
    windows: dict[tuple[str, int, str], WindowColumns] = {}
    names = tuple(attributes)

    def window_of(key: tuple[str, int, str]) -> WindowColumns:
        found = windows.get(key)
        if found is None:
            found = windows[key] = WindowColumns(model=f"{key[0]}@{key[1]}", route=key[2],
                                                 attribute_names=names)
        return found

    for chunk in chunks:
        if by_row:
            for row in chunk:
                window_of((row[2], row[3], row[4])).add(row)
            continue
        if not chunk:
            continue
        columns = list(zip(*chunk, strict=True))
        models, versions, routes = (set(columns[i]) for i in (2, 3, 4))
        if len(models) == len(versions) == len(routes) == 1:  # the usual chunk
            window_of((models.pop(), versions.pop(), routes.pop())).add_columns(columns)
            continue
        split: dict[tuple[str, int, str], list[MonitoredRow]] = {}
        for row in chunk:
            split.setdefault((row[2], row[3], row[4]), []).append(row)
        for key, rows in split.items():
            window_of(key).add_rows(rows)
    pair_shadows(list(windows.values()))
    return {(w.model, w.route): w for w in windows.values()}


def pair_shadows(windows: Sequence[WindowColumns]) -> None:
    """Give each shadow window's decisions their paired champion decision's label, score
    and outcome, where that decision is in the window (a pair across the window's edge,
    or a shadow record without a pair, stays unlabelled)."""
    shadows = [w for w in windows if w.route == Route.SHADOW]
    if not shadows:
        return
    found: dict[str, tuple[WindowColumns, int]] = {}
    for window in windows:
        if window.route == Route.CHAMPION:
            found |= {d: (window, i) for i, d in enumerate(window.decision_ids)}
    for shadow in shadows:
        pairs = [found.get(d) if d is not None else None for d in shadow.paired_ids]
        shadow.champion_scores = np.asarray(
            [np.nan if p is None else p[0].scores[p[1]] for p in pairs], dtype=np.float64)
        shadow.champion_outcomes = [None if p is None else p[0].outcomes[p[1]] for p in pairs]
        shadow.labels = [None if p is None else p[0].labels[p[1]] for p in pairs]
