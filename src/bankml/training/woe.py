"""Weight-of-evidence encoding for scorecards: each input binned, each bin replaced by its WoE.

WoE of a bin = ln(share of all goods in the bin / share of all bads in the bin), with
`smoothing` added to every count so that a bin without goods or bads stays finite
(Siddiqi, Credit Risk Scorecards, 2006, ch. 6). Numbers are cut at training quantiles, or
at edges the spec sets per input; with `method="monotone"` adjacent bins are then merged
until the WoE rises or falls steadily with the value. Bins are closed above, (e_k, e_k+1],
so a value shared by many rows (a count that is mostly 0) stays apart from the larger
values. Categories are their own bins. Missing values form their own bin; values never
seen in training get WoE 0 (no evidence either way).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

MISSING = "__missing__"


class WoeEncoder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Replace each column by the weight of evidence of the bin its value falls in."""

    # Encoders stored before these params existed load without them: these are their values.
    method = "quantile"
    edges: dict[str, list[float]] | None = None

    def __init__(self, bins: int = 5, smoothing: float = 0.5, method: str = "quantile",
                 edges: dict[str, list[float]] | None = None) -> None:
        self.bins = bins
        self.smoothing = smoothing
        self.method = method
        self.edges = edges

    def fit(self, frame: pd.DataFrame, target: Any) -> WoeEncoder:
        labels = np.asarray(target).astype(int)
        self.columns_: list[str] = [str(column) for column in frame.columns]
        self.edges_: dict[str, list[float]] = {}
        self.woe_: dict[str, dict[str, float]] = {}
        # Encoders fitted before bins were closed above have no such attribute and keep
        # binning as they did, so registered scorecards score as they always have.
        self.closed_above_ = True
        declared = self.edges or {}
        for column in self.columns_:
            values = frame[column]
            if pd.api.types.is_numeric_dtype(values):
                if column in declared:
                    self.edges_[column] = sorted({float(e) for e in declared[column]})
                else:
                    quantiles = np.linspace(0, 1, self.bins + 1)[1:-1]
                    self.edges_[column] = sorted({float(q) for q in np.nanquantile(
                        values.astype(float), quantiles)})
                if self.method == "monotone":
                    self.edges_[column] = self._monotone_edges(column, values, labels)
            self.woe_[column] = self._weights(self._bin(column, values), labels)
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        encoded = np.zeros((len(frame), len(self.columns_)))
        for index, column in enumerate(self.columns_):
            weights = self.woe_[column]
            bins = self._bin(column, frame[column])
            encoded[:, index] = [weights.get(label, 0.0) for label in bins]
        return encoded

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """`<input>_woe` for each input, one column per input; given `input_features`
        (scikit-learn's convention) the names derive from them, which is how explanations
        map each WoE column back to the one input it encodes."""
        names = self.columns_ if input_features is None else [str(f) for f in input_features]
        if len(names) != len(self.columns_):
            raise ValueError(f"input_features has {len(names)} names; the encoder was "
                             f"fitted on {len(self.columns_)} columns")
        return np.array([f"{name}_woe" for name in names], dtype=object)

    def _bin(self, column: str, values: pd.Series) -> list[str]:
        missing = values.isna().to_numpy()
        if column in self.edges_:
            closed_above = getattr(self, "closed_above_", False)
            positions = np.searchsorted(self.edges_[column], values.astype(float),
                                        side="left" if closed_above else "right")
            labels = [f"bin{position}" for position in positions]
        else:
            labels = [str(value) for value in values]
        return [MISSING if is_missing else label
                for label, is_missing in zip(labels, missing, strict=True)]

    def _monotone_edges(self, column: str, values: pd.Series, labels: np.ndarray
                        ) -> list[float]:
        """Drop the edge between the first pair of adjacent bins whose WoE steps against
        the overall direction (first bin to last) until none does."""
        edges = list(self.edges_[column])
        while edges:
            self.edges_[column] = edges
            weights = self._weights(self._bin(column, values), labels)
            woe = [weights.get(f"bin{i}") for i in range(len(edges) + 1)]
            present = [(i, w) for i, w in enumerate(woe) if w is not None]
            rising = present[-1][1] >= present[0][1]
            wrong = next((i for (i, a), (_, b) in itertools.pairwise(present)
                          if (b < a if rising else b > a)), None)
            if wrong is None:
                return edges
            del edges[min(wrong, len(edges) - 1)]
        return edges

    def _weights(self, bins: list[str], labels: np.ndarray) -> dict[str, float]:
        table = pd.crosstab(pd.Series(bins, name="bin"), pd.Series(labels, name="label"))
        goods = table.get(0, pd.Series(0, index=table.index)).astype(float) + self.smoothing
        bads = table.get(1, pd.Series(0, index=table.index)).astype(float) + self.smoothing
        woe = np.log(((goods / goods.sum()) / (bads / bads.sum())).to_numpy())
        return {str(label): float(value) for label, value in zip(table.index, woe, strict=True)}
