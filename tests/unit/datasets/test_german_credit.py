"""German credit: the synthetic twin, and the real file when it is given."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bankml.core.errors import InvalidInputError
from bankml.datasets import german_credit, load_german_credit, synthesize_german_credit


def test_twin_is_seeded() -> None:
    """The same seed gives the same frame; another seed another frame."""
    pd.testing.assert_frame_equal(synthesize_german_credit(seed=3),
                                  synthesize_german_credit(seed=3))
    assert not synthesize_german_credit(seed=3).equals(synthesize_german_credit(seed=4))


def test_twin_has_the_real_columns_and_values() -> None:
    """Columns, order and category labels are those of german_credit.csv."""
    frame = synthesize_german_credit()

    assert list(frame.columns) == german_credit.COLUMNS
    for column, levels in german_credit.CATEGORIES.items():
        assert set(frame[column]) <= {value for value, _, _ in levels}, column
    assert set(frame["sex"]) == {"male", "female"}


def test_twin_defaults_near_thirty_percent() -> None:
    """The default rate is calibrated to the real 30 %."""
    frame = synthesize_german_credit(rows=20_000)

    assert frame[german_credit.TARGET].mean() == pytest.approx(0.30, abs=0.01)


def test_twin_ranges_match_the_real_ranges() -> None:
    """Numbers stay inside the real minimum and maximum."""
    frame = synthesize_german_credit(rows=5_000)

    assert frame["duration_months"].between(4, 72).all()
    assert frame["credit_amount"].between(250, 18_424).all()
    assert frame["age_years"].between(19, 75).all()


def test_without_a_folder_the_twin_is_used() -> None:
    """No datasets folder means synthetic data, and the result says so."""
    assert load_german_credit(None).source == "synthetic"


def test_folder_without_the_file_is_named(tmp_path: Path) -> None:
    """A datasets folder lacking german_credit/ is an error naming the setting."""
    with pytest.raises(InvalidInputError, match="BANKML_DATASETS: .* has no german_credit"):
        load_german_credit(tmp_path)


def test_file_with_missing_columns_is_named(tmp_path: Path) -> None:
    """A file lacking expected columns names them."""
    (tmp_path / "german_credit").mkdir()
    synthesize_german_credit().drop(columns=["purpose"]).to_csv(
        tmp_path / "german_credit" / "german_credit.csv", index=False)

    with pytest.raises(InvalidInputError, match="missing columns purpose"):
        load_german_credit(tmp_path)


def test_real_file_loads_with_the_same_dtypes(real_datasets: Path) -> None:
    """The real file and the twin have the same columns and dtypes."""
    real = load_german_credit(real_datasets)
    twin = synthesize_german_credit()

    assert real.source == "real"
    assert len(real.frame) == 1_000
    assert real.frame[german_credit.TARGET].mean() == pytest.approx(0.30)
    assert (real.frame.dtypes == twin.dtypes).all()
