"""The split gives the very rows earlier versions were trained on: checked against a
reference written the plain way, with scikit-learn splitting the frames themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from bankml.core.errors import SpecError
from bankml.training.data import read_source
from bankml.training.pipeline import split_dataset
from bankml.training.spec import LoadedSpec, load_spec

EXAMPLES = Path(__file__).parents[3] / "src" / "bankml" / "examples"


def reference_split(loaded: LoadedSpec, dataset: pd.DataFrame) -> dict[str, pd.DataFrame]:
    spec = loaded.spec
    dates = pd.to_datetime(dataset[spec.date_column], utc=True)
    is_test = (dates >= pd.Timestamp(spec.split.out_of_time.test_from, tz="UTC")).to_numpy()

    def share(rows: pd.DataFrame, size: float, seed: int) -> list[pd.DataFrame]:
        label = rows[spec.source.label]
        both = label.nunique() == 2 and label.value_counts().min() >= 2
        return list(train_test_split(rows, test_size=size, random_state=seed,
                                     stratify=label if both else None))

    train, holdout = share(dataset[~is_test], spec.split.holdout.share, spec.seed)
    sets = {"train": train, "holdout": holdout, "test": dataset[is_test]}
    if spec.calibration is not None:
        sets["train"], sets["calibration"] = share(train, spec.calibration.share,
                                                   spec.seed + 1)
    return sets


def assert_same_sets(found: dict[str, pd.DataFrame],
                     expected: dict[str, pd.DataFrame]) -> None:
    assert list(found) == list(expected)
    for name, rows in expected.items():
        pd.testing.assert_frame_equal(found[name], rows, check_exact=True)


@pytest.mark.parametrize("example", ["german_credit_pd.yaml", "german_credit_pd_lightgbm.yaml",
                                     "card_fraud.yaml"])
def test_examples_split_as_the_reference(example: str) -> None:
    """Each shipped example (one with a calibration share) splits row for row alike."""
    loaded = load_spec(EXAMPLES / example)
    dataset = read_source(loaded, None).frame

    assert_same_sets(split_dataset(loaded, dataset), reference_split(loaded, dataset))


def frame_and_spec(tmp_path: Path, seed: int, events_before_cut: int
                   ) -> tuple[pd.DataFrame, LoadedSpec]:
    """400 rows in shuffled index order, with 3 events after the cut and some before."""
    rng = np.random.default_rng(seed)
    dates = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 365, 400), unit="D")
    dataset = pd.DataFrame({"id": np.arange(400), "date": dates, "x": rng.normal(size=400),
                            "y": 0}, index=rng.permutation(400))
    before = np.flatnonzero(dates < pd.Timestamp("2024-11-01", tz="UTC"))
    after = np.flatnonzero(dates >= pd.Timestamp("2024-11-01", tz="UTC"))
    dataset.iloc[np.r_[before[:events_before_cut], after[:3]], 3] = 1
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "model: {name: rare, domain: credit, risk_tier: 3, owner: o, developer: d}\n"
        "source: {path: rows.parquet, entity: [id], event_timestamp: date, label: y}\n"
        "inputs: [x]\nsplit: {out_of_time: {test_from: 2024-11-01}, holdout: {share: 0.3}}\n"
        "estimator: {kind: logistic_regression}\n"
        "decision_policy: {kind: approve_refer_decline, approve_below: 0.1, "
        "decline_from: 0.5}\n"
        f"seed: {seed}\n")
    return dataset, load_spec(spec)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_index_splits_as_the_reference(seed: int, tmp_path: Path) -> None:
    """Rows keep their index labels and order whatever the index looks like."""
    dataset, loaded = frame_and_spec(tmp_path, seed, events_before_cut=40)

    assert_same_sets(split_dataset(loaded, dataset), reference_split(loaded, dataset))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_event_before_the_cut_is_refused(seed: int, tmp_path: Path) -> None:
    """Too few events to stratify on: a set is left without one, and the split says so."""
    dataset, loaded = frame_and_spec(tmp_path, seed, events_before_cut=1)

    with pytest.raises(SpecError, match="holds only one label value"):
        split_dataset(loaded, dataset)
    assert any(rows["y"].nunique() < 2 for rows in reference_split(loaded, dataset).values())
