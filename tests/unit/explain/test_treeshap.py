"""The compiled TreeSHAP against LightGBM's own `pred_contrib`, the independent reference."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from bankml.explain import treeshap


def _data(rows: int = 3_000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 8))
    x[:, 3] = np.round(x[:, 3])  # many exact zeros, for missing_type Zero
    y = (x[:, 0] + x[:, 1] * x[:, 2] - np.abs(x[:, 3]) + rng.normal(size=rows) > 0)
    x[rng.random(x.shape) < 0.08] = np.nan
    return x, y.astype(int)


def _probe(x: np.ndarray) -> np.ndarray:
    probe = x[:300].copy()
    probe[0, :] = np.nan
    probe[1, :] = 0.0
    probe[2, :] = 1e300
    return probe


@pytest.mark.parametrize("params", [
    {"num_leaves": 31},
    {"num_leaves": 15, "zero_as_missing": True},
    {"num_leaves": 63, "use_missing": False, "min_data_in_leaf": 5},
    {"num_leaves": 7, "max_depth": 2},  # shallow: every feature met again is rare
], ids=["nan-missing", "zero-missing", "no-missing", "shallow"])
def test_contributions_equal_lightgbm_pred_contrib(params: dict[str, object]) -> None:
    x, y = _data()
    booster = lgb.train({"objective": "binary", "verbose": -1, "seed": 1, **params},
                        lgb.Dataset(x, y), num_boost_round=60)
    tables = treeshap.compile_booster(booster)
    assert tables is not None
    probe = _probe(x)
    reference = booster.predict(probe, pred_contrib=True)[:, :-1]
    ours = treeshap.contributions(tables, probe)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-10)
    # and, as Shapley values must, they add up to the raw score less the expected value
    expected = booster.predict(probe[:1], pred_contrib=True)[0, -1]
    np.testing.assert_allclose(ours.sum(axis=1) + expected,
                               booster.predict(probe, raw_score=True), atol=1e-10)


def test_a_path_through_one_input_many_times_merges_its_branches() -> None:
    """Deep trees on one strong input split on it again and again along a path."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4_000, 2))
    y = (np.sin(3 * x[:, 0]) + 0.2 * x[:, 1] + 0.3 * rng.normal(size=4_000) > 0).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 40},
                        lgb.Dataset(x, y), num_boost_round=20)
    tables = treeshap.compile_booster(booster)
    assert tables is not None
    assert tables.max_depth > 2  # at most 2 inputs, deeper paths
    np.testing.assert_allclose(treeshap.contributions(tables, x[:200]),
                               booster.predict(x[:200], pred_contrib=True)[:, :-1],
                               rtol=0, atol=1e-10)


def test_a_stump_gives_the_hand_computed_share() -> None:
    """One split: the row's leaf value less the count-weighted mean of both leaves."""
    x = np.array([[0.0], [0.0], [0.0], [1.0]] * 50)
    y = np.array([0, 0, 1, 1] * 50)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 2,
                         "min_data_in_leaf": 1, "min_data_in_bin": 1},
                        lgb.Dataset(x, y), num_boost_round=1)
    tree = booster.dump_model()["tree_info"][0]["tree_structure"]
    low, high = tree["left_child"], tree["right_child"]
    mean = (low["leaf_value"] * low["leaf_count"] + high["leaf_value"] * high["leaf_count"]) \
        / tree["internal_count"]
    tables = treeshap.compile_booster(booster)
    assert tables is not None
    ours = treeshap.contributions(tables, np.array([[0.0], [1.0]]))
    assert ours[0, 0] == pytest.approx(low["leaf_value"] - mean, abs=1e-15)
    assert ours[1, 0] == pytest.approx(high["leaf_value"] - mean, abs=1e-15)


def test_categorical_splits_are_left_to_lightgbm() -> None:
    x, y = _data()
    frame = pd.DataFrame(x[:, :3], columns=["a", "b", "c"])
    frame["kind"] = pd.Categorical(np.where(y == 1, "p", "q"))
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(frame, y),
                        num_boost_round=5)
    assert treeshap.compile_booster(booster) is None


def test_rows_of_another_width_are_refused() -> None:
    x, y = _data()
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(x, y),
                        num_boost_round=2)
    tables = treeshap.compile_booster(booster)
    assert tables is not None
    with pytest.raises(ValueError, match="8 columns"):
        treeshap.contributions(tables, x[:, :5])
