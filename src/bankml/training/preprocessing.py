"""The preprocessing a spec declares, as one scikit-learn ColumnTransformer."""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from bankml.training.data import numeric_columns
from bankml.training.spec import Preprocessing
from bankml.training.woe import WoeEncoder

NUMERIC_FILL = {"median": ("median", None), "mean": ("mean", None), "zero": ("constant", 0)}
CATEGORY_FILL = {"most_frequent": ("most_frequent", None), "missing": ("constant", "missing")}


def build_preprocessing(declared: Preprocessing, frame: pd.DataFrame) -> ColumnTransformer:
    """Numbers imputed (and scaled), categories imputed and encoded; or WoE for every input.

    Output columns: the numeric inputs first, then the categorical ones, in input order.
    """
    if declared.woe_binning is not None:
        woe = declared.woe_binning
        edges = {k: list(v) for k, v in woe.edges.items()} if woe.edges else None
        return ColumnTransformer([("woe", WoeEncoder(bins=woe.bins, method=woe.method,
                                                     edges=edges),
                                   list(frame.columns))])
    numeric = numeric_columns(frame)
    categorical = [str(c) for c in frame.columns if c not in numeric]
    numeric_steps: list[tuple[str, object]] = []
    if declared.numeric.impute != "none":
        strategy, fill = NUMERIC_FILL[declared.numeric.impute]
        numeric_steps.append(("impute", SimpleImputer(strategy=strategy, fill_value=fill)))
    if declared.numeric.scale:
        numeric_steps.append(("scale", StandardScaler()))
    category_strategy, category_fill = CATEGORY_FILL[declared.categorical.impute]
    encoder = (OneHotEncoder(handle_unknown="ignore", sparse_output=False)
               if declared.categorical.encode == "one_hot"
               else OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))
    return ColumnTransformer([
        ("numeric", Pipeline(numeric_steps) if numeric_steps else "passthrough", numeric),
        ("categorical", Pipeline([("impute", SimpleImputer(strategy=category_strategy,
                                                             fill_value=category_fill)),
                                  ("encode", encoder)]), categorical),
    ], sparse_threshold=0.0)
