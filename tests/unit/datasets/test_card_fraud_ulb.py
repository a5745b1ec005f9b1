"""The ULB card-fraud twin: the real sample's design (counts, weights, time order)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bankml.core.errors import InvalidInputError
from bankml.datasets import load_card_fraud_ulb, synthesize_card_fraud_ulb
from bankml.datasets.card_fraud_ulb import COLUMNS, GENUINE_TOTAL


def test_the_twin_is_seeded() -> None:
    pd.testing.assert_frame_equal(synthesize_card_fraud_ulb(seed=3),
                                  synthesize_card_fraud_ulb(seed=3))
    assert not synthesize_card_fraud_ulb(seed=3).equals(synthesize_card_fraud_ulb(seed=4))


def test_the_twin_is_a_case_control_sample_weighted_back_to_its_population() -> None:
    """All 492 frauds and 4,920 genuine payments; the weights add the genuine ones back up
    to the 284,315 of the full two days, so the weighted fraud rate is the population's."""
    data = load_card_fraud_ulb(None)
    frame = data.frame

    assert data.source == "synthetic"
    assert list(frame.columns) == COLUMNS
    assert frame["Class"].value_counts().to_dict() == {0: 4_920, 1: 492}
    genuine = frame["Class"] == 0
    assert frame.loc[genuine, "sample_weight"].sum() == pytest.approx(GENUINE_TOTAL)
    assert (frame.loc[~genuine, "sample_weight"] == 1).all()
    assert frame["Time"].is_monotonic_increasing
    assert frame["transaction_id"].is_unique


def test_a_missing_real_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as refused:
        load_card_fraud_ulb(tmp_path)

    assert refused.value.rule == "datasets.present"


def test_the_real_sample_loads_like_the_twin(real_datasets: Path) -> None:
    """The real file, sorted by time, with the twin's columns and dtypes, all 492 frauds
    and the weights its DATASET.md gives."""
    real = load_card_fraud_ulb(real_datasets)
    twin = synthesize_card_fraud_ulb()

    assert real.source == "real"
    assert (real.frame.dtypes == twin.dtypes).all()
    assert real.frame["Class"].sum() == 492
    assert real.frame["Time"].is_monotonic_increasing
    assert real.frame.loc[real.frame["Class"] == 0, "sample_weight"].sum() == pytest.approx(
        GENUINE_TOTAL)


def test_a_real_file_without_a_column_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "creditcard_fraud_ulb"
    folder.mkdir()
    synthesize_card_fraud_ulb().drop(columns=["transaction_id", "transaction_time",
                                               "sample_weight", "V7"]).to_csv(
        folder / "creditcard_sample.csv.gz", index=False)

    with pytest.raises(InvalidInputError, match="missing columns V7") as refused:
        load_card_fraud_ulb(tmp_path)

    assert refused.value.rule == "datasets.schema"
