"""Bank marketing: the synthetic twin, and the real file in its time order when given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bankml.core.errors import InvalidInputError
from bankml.datasets import (
    bank_marketing,
    load_bank_marketing,
    load_german_credit,
    synthesize_bank_marketing,
)
from bankml.datasets.bank_marketing import CATEGORIES, COLUMNS, PERIODS, contact_dates


@pytest.fixture(scope="module")
def twin() -> pd.DataFrame:
    return synthesize_bank_marketing()


def test_twin_is_seeded(twin: pd.DataFrame) -> None:
    """The same seed gives the same frame; another seed another frame."""
    pd.testing.assert_frame_equal(twin, synthesize_bank_marketing())
    assert not twin.equals(synthesize_bank_marketing(seed=8))


def test_twin_has_the_columns_and_categories(twin: pd.DataFrame) -> None:
    """Columns in order, no `duration`, and category labels among the real ones."""
    assert list(twin.columns) == COLUMNS
    assert "duration" not in twin.columns
    for column, levels in CATEGORIES.items():
        assert set(twin[column]) <= {value for value, _, _ in levels}, column


def test_twin_category_frequencies_are_the_real_ones(twin: pd.DataFrame) -> None:
    """Each job's share is its real share within 1 point."""
    real = {value: count / 41_188 for value, count, _ in CATEGORIES["job"]}
    shares = twin["job"].value_counts(normalize=True)

    for value, share in real.items():
        assert shares.get(value, 0.0) == pytest.approx(share, abs=0.01), value


def test_twin_take_up_is_the_real_rate(twin: pd.DataFrame) -> None:
    """11.27 % subscribe overall, within sampling error."""
    assert twin["subscribed"].mean() == pytest.approx(0.1127, abs=0.006)


def test_twin_drifts_as_the_real_years_do(twin: pd.DataFrame) -> None:
    """Take-up rises from about 5 % in 2008 to about 20 % in 2009 and 50 % in 2010."""
    by_year = twin.groupby(twin["contact_date"].dt.year)["subscribed"].mean()

    assert by_year[2008] == pytest.approx(0.048, abs=0.01)
    assert by_year[2009] == pytest.approx(0.195, abs=0.03)
    assert by_year[2010] == pytest.approx(0.521, abs=0.06)
    assert twin["contact_date"].is_monotonic_increasing


def test_twin_spans_the_real_months(twin: pd.DataFrame) -> None:
    """Every real contact month appears, in order, with its indicators."""
    months = twin["contact_date"].dt.strftime("%Y-%m")

    assert list(dict.fromkeys(months)) == list(PERIODS)
    may = twin[months == "2009-05"]
    assert set(may["nr.employed"]) == {5099.1}


def test_year_is_recovered_from_the_row_order() -> None:
    """The year goes up each time the month goes back."""
    dates = contact_dates(pd.Series(["may", "dec", "mar", "mar", "nov", "mar"]))

    assert list(dates.dt.strftime("%Y-%m")) == ["2008-05", "2008-12", "2009-03", "2009-03",
                                                "2009-11", "2010-03"]


def test_folder_without_the_file_is_named(tmp_path: Path) -> None:
    """A datasets folder lacking bank_marketing/ is an error naming the setting."""
    with pytest.raises(InvalidInputError, match="BANKML_DATASETS: .* has no bank_marketing"):
        load_bank_marketing(tmp_path)


def test_real_file_in_its_time_order(real_datasets: Path) -> None:
    """The real file loads in its order, 2008-05 to 2010-11, without `duration`, with the
    dtypes of the twin and its documented yearly take-up."""
    data = load_bank_marketing(real_datasets)
    frame = data.frame

    assert data.source == "real"
    assert len(frame) == 41_188
    assert frame["contact_date"].is_monotonic_increasing
    assert frame["contact_date"].dt.strftime("%Y-%m").iloc[[0, -1]].tolist() == ["2008-05",
                                                                                 "2010-11"]
    assert frame.dtypes.equals(synthesize_bank_marketing(rows=1_000).dtypes)
    by_year = frame.groupby(frame["contact_date"].dt.year)["subscribed"].agg(["size", "sum"])
    assert by_year["size"].tolist() == [27_690, 11_440, 2_058]
    assert frame["subscribed"].sum() == 4_640
    enriched = pd.read_csv(real_datasets / bank_marketing.FOLDER
                           / "bank_additional_full_enriched.csv.gz")
    assert (frame["contact_date"].dt.strftime("%Y-%m") == enriched["contact_period"]).all()


@pytest.mark.parametrize("load", [load_bank_marketing, load_german_credit])
def test_a_datasets_folder_without_the_file_is_named(load: Any, tmp_path: Path) -> None:
    """BANKML_DATASETS pointing at a folder without the public file is refused by name,
    never answered with the synthetic twin."""
    with pytest.raises(InvalidInputError, match=r"has no .*point it at the folder") as caught:
        load(tmp_path)

    assert (caught.value.field, caught.value.rule) == ("BANKML_DATASETS", "datasets.present")
