"""The versioned background data an explanation is measured against.

The background is a seeded sample of rows (e.g. the training applicants). Its sha256
covers column names, dtypes and every value's bytes, so an explanation can name exactly
the data its baseline came from, and a replay can prove it used the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bankml.core.canonical import canonical_json, sha256_hex
from bankml.core.errors import InvalidInputError


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Background:
    """Rows chosen by a fixed seed from a source frame, and their digest."""

    frame: pd.DataFrame
    seed: int
    source_rows: int
    sha256: str

    @property
    def rows(self) -> int:
        """How many rows the background holds."""
        return len(self.frame)


def sample_background(frame: pd.DataFrame, *, rows: int = 200, seed: int = 0) -> Background:
    """Draw `rows` rows without replacement with `numpy.random.default_rng(seed)`.

    The drawn rows keep their original order, so the same frame and seed always give the
    same background and digest. A frame with no more than `rows` rows is used whole.
    """
    if rows < 1:
        raise InvalidInputError("rows", f"{rows}: a background needs at least one row",
                                rule="explain.background_size")
    if frame.empty:
        raise InvalidInputError("frame", "is empty; sample the background from real rows",
                                rule="explain.background_size")
    if len(frame) <= rows:
        chosen = frame.reset_index(drop=True)
    else:
        picks = np.sort(np.random.default_rng(seed).choice(len(frame), size=rows,
                                                           replace=False))
        chosen = frame.iloc[picks].reset_index(drop=True)
    return Background(frame=chosen, seed=seed, source_rows=len(frame),
                      sha256=frame_sha256(chosen))


def frame_sha256(frame: pd.DataFrame) -> str:
    """sha256 of a frame's column names, dtypes and values, independent of its index.

    Numbers are hashed as their little-endian bytes (bit-exact); other columns as the
    canonical JSON of their values' text.
    """
    parts: list[bytes] = [canonical_json({
        "columns": [str(c) for c in frame.columns],
        "dtypes": [str(t) for t in frame.dtypes], "rows": len(frame)}).encode()]
    for column in frame.columns:
        values = frame[column].to_numpy()
        if values.dtype.kind in "biuf":
            parts.append(np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
                         .tobytes())
        else:
            parts.append(canonical_json([None if pd.isna(v) else str(v) for v in values])
                         .encode())
    return sha256_hex(b"\x00".join(parts))
