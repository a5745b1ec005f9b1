"""Feature profiles against pandas' own quantiles and binning."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankml.features.profiles import profile_column


def test_numeric_bins_match_pandas_cut() -> None:
    """Bin edges are pandas' deciles and counts are pandas.cut's, right-closed."""
    rng = np.random.default_rng(1)
    values = pd.Series(np.round(rng.lognormal(3, 1, 5_000), 1))
    values[::50] = np.nan

    profile = profile_column(values)

    edges = np.unique(values.quantile(np.linspace(0, 1, 11)).to_numpy())
    expected = pd.cut(values.dropna(), edges, right=True, include_lowest=True)
    np.testing.assert_allclose(profile["bin_edges"], edges, rtol=0, atol=1e-12)
    assert profile["bin_counts"] == expected.value_counts(sort=False).tolist()
    assert abs(profile["missing_rate"] - 100 / 5_000) < 1e-12


def test_categories_are_counted() -> None:
    """Strings get frequencies by category and a missing rate."""
    profile = profile_column(pd.Series(["a", "b", "a", None]))

    assert profile["frequencies"] == {"a": 2, "b": 1}
    assert profile["missing_rate"] == 0.25
