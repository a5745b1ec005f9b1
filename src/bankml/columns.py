"""A chunk of the decision log's JSON objects (inputs, requests) parsed column by column.

Parsing each record's JSON in Python and appending its values one by one was most of a
weekly run's time (monitoring) and a third of re-scoring's (`decisions verify`). Arrow's
JSON reader parses a whole chunk at once into typed columns; `series` turns them into the
very pandas Series the row-by-row path builds (`pd.Series(list_of_values)`), so every
figure stays the same. Whatever Arrow would read differently is read row by row instead,
for that chunk alone: a column whose type changes from row to row (a number here, text
there), nested values, integers beyond 64 bits, NaN literals, or anything the reader
rejects. Text that looks like a date stays text.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import pandas as pd
import pyarrow as pa

_PLAIN = (pa.types.is_null, pa.types.is_boolean, pa.types.is_int64, pa.types.is_float64,
          pa.types.is_string)


@dataclass(frozen=True, slots=True, eq=False)
class ParsedChunk:
    """One chunk's objects as columns: Arrow arrays, or plain lists when read row by row.
    A name an object lacks is a missing value (null / None) in its row."""

    rows: int
    arrays: dict[str, pa.Array] | None = None
    values: dict[str, list[Any]] | None = None

    def piece(self, name: str) -> pa.Array | list[Any]:
        if self.arrays is not None:
            found = self.arrays.get(name)
            return pa.nulls(self.rows) if found is None else found
        return (self.values or {}).get(name) or [None] * self.rows


def parse_objects(texts: Sequence[str], *, names: Collection[str] | None = None
                  ) -> ParsedChunk:
    """The JSON objects `texts` as columns; only `names` if given (each then present)."""
    arrays = _arrow_columns(texts, names)
    if arrays is not None:
        return ParsedChunk(rows=len(texts), arrays=arrays)
    return ParsedChunk(rows=len(texts), values=_row_columns(texts, names))


def series(pieces: Sequence[pa.Array | list[Any]], *, objects: bool = False) -> pd.Series:
    """A column over chunks, as `pd.Series` of the values row by row would give it
    (`dtype=object` with `objects`)."""
    if not objects and all(isinstance(p, pa.Array) for p in pieces):
        arrays: list[pa.Array] = list(pieces)
        kind = _common_type({a.type for a in arrays if not pa.types.is_null(a.type)})
        if kind is not None:
            # safe=False: an int64 beyond 2**53 rounds to the nearest double, as numpy does
            cast = [a if a.type == kind else a.cast(kind, safe=False) for a in arrays]
            found: pd.Series = pa.chunked_array(cast, type=kind).to_pandas()
            return found
    values: list[Any] = []
    for piece in pieces:
        values += piece.to_pylist() if isinstance(piece, pa.Array) else piece
    return pd.Series(values, dtype=object) if objects else pd.Series(values)


def _common_type(types: set[pa.DataType]) -> pa.DataType | None:
    """The type pandas infers for the union of these columns' values, if Arrow's matches
    it: one type, or integers with doubles (floats). None: build the Series from values."""
    if not types:
        return pa.null()
    if len(types) == 1:
        return next(iter(types))
    if types == {pa.int64(), pa.float64()}:
        return pa.float64()
    return None


def _arrow_columns(texts: Sequence[str], names: Collection[str] | None
                   ) -> dict[str, pa.Array] | None:
    import pyarrow.json as pj  # noqa: PLC0415 - the reader loads with the first weekly run

    data = "\n".join(texts).encode()
    try:
        table = pj.read_json(BytesIO(data))
        dated = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
        if dated:  # the reader infers timestamps from text; the row path keeps the text
            schema = pa.schema([(name, pa.string()) for name in dated])
            table = pj.read_json(BytesIO(data), parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != len(texts):  # a blank or multi-line text: rows would not align
        return None
    kept = table.column_names if names is None else [n for n in names
                                                      if n in table.column_names]
    if not all(any(test(table.schema.field(n).type) for test in _PLAIN) for n in kept):
        return None
    return {n: table.column(n).combine_chunks() for n in kept}


def _row_columns(texts: Sequence[str], names: Collection[str] | None) -> dict[str, list[Any]]:
    objects = [json.loads(text) for text in texts]
    wanted = (list(dict.fromkeys(k for o in objects for k in o)) if names is None
              else list(names))
    return {name: [o.get(name) for o in objects] for name in wanted}


__all__ = ["ParsedChunk", "parse_objects", "series"]
