"""Feature profiles: the distribution of each feature in a training set, kept as a baseline.

Monitoring compares production against these. Numeric features get quantile bin edges
(deciles by default, merged where equal) and the count in each bin; other features get
category frequencies. Every feature gets its missing rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

QUANTILE_BINS = 10


def profile_frame(frame: pd.DataFrame, features: list[str], *,
                  bins: int = QUANTILE_BINS) -> dict[str, Any]:
    """The profile of each of `features` in `frame`, as JSON-ready data."""
    return {"rows": len(frame),
            "features": {name: profile_column(frame[name], bins=bins) for name in features}}


def profile_column(column: pd.Series, *, bins: int = QUANTILE_BINS) -> dict[str, Any]:
    """Missing rate plus quantile bins (numbers) or category frequencies (everything else).

    Bins are closed on the right except the first, which also holds the minimum, as in
    `numpy.histogram` read from the right; a value equal to an inner edge falls in the
    bin that edge closes.
    """
    missing = column.isna()
    rows = len(column)
    summary: dict[str, Any] = {
        "missing_rate": float(missing.mean()) if rows else 0.0, "count": int((~missing).sum())}
    present = column[~missing]
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        counts = present.astype(str).value_counts(sort=False)
        summary["kind"] = "categorical"
        summary["frequencies"] = {str(k): int(v) for k, v in sorted(counts.items())}
        return summary
    values = present.to_numpy(dtype=float)
    summary["kind"] = "numeric"
    if values.size == 0:
        summary["bin_edges"], summary["bin_counts"] = [], []
        return summary
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1)))
    if edges.size == 1:
        summary["bin_edges"], summary["bin_counts"] = [float(edges[0])] * 2, [int(values.size)]
        return summary
    # right-closed bins: index of the first edge >= value, the minimum joining bin 1
    index = np.clip(np.searchsorted(edges, values, side="left"), 1, edges.size - 1)
    per_bin = np.bincount(index - 1, minlength=edges.size - 1)
    summary["bin_edges"] = [float(e) for e in edges]
    summary["bin_counts"] = [int(c) for c in per_bin]
    return summary
