"""A window read chunk by chunk, its JSON parsed column by column, equals the same window
read one row at a time: the same columns, so the same figures."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bankml.monitoring.drift import NumericReference, categorical_drift, numeric_drift
from bankml.monitoring.window import WindowColumns, accumulate

ATTRIBUTES = ("age_band", "region_code")


def _row(i: int, inputs: dict[str, Any], request: dict[str, Any], *,
         version: int = 1, route: str = "champion") -> tuple[Any, ...]:
    return (f"d{i:05d}", f"2026-11-{1 + i % 28:02d}T00:00:00.000000Z", "credit", version,
            route, (i % 97) / 97, "approve" if i % 3 else "decline", json.dumps(inputs),
            json.dumps(request), (i % 2 if i % 3 else None), ("refer" if i % 17 == 0 else None),
            None)


def _chunks() -> list[list[tuple[Any, ...]]]:
    """Three chunks of two versions and routes, with missing values (absent and null),
    categories, booleans, date-like text, integers and floats in one column (within a
    chunk and across chunks), a column that turns from numbers to text between chunks,
    one that mixes them within a chunk (read row by row), and one first seen last."""
    rng = np.random.default_rng(7)
    chunks: list[list[tuple[Any, ...]]] = []
    for c in range(3):
        rows = []
        for j in range(200):
            i = c * 200 + j
            inputs: dict[str, Any] = {
                "amount": int(rng.integers(100, 5000)) if j % 11 else None,
                "rate": float(rng.random()) if j % 2 else int(rng.integers(0, 3)),
                "purpose": str(rng.choice(["car", "house", "education"])),
                "owns_home": bool(j % 4),
                "opened": f"2020-0{1 + j % 9}-15",
                "limit": j * 10 if c == 0 else j * 10.5,  # integers, then floats
                "grade": (j % 5) if c < 2 else str(rng.choice(["A", "B"])),
                "code": (j % 7) if j % 2 or c != 1 else f"x{j}"}
            if j % 13 == 0:
                del inputs["purpose"]  # absent, not null
            if c == 2:
                inputs["late_field"] = float(j)
            request = {"customer_id": f"c{i}",
                       **({"age_band": str(rng.choice(["18-25", "26-60"]))} if j % 5 else {}),
                       "region_code": int(j % 3) if j % 7 else None}
            rows.append(_row(i, inputs, request, version=1 + (j % 3 == 0),
                             route="shadow" if j % 10 == 0 else "champion"))
        chunks.append(rows)
    return chunks


def _windows(*, by_row: bool) -> dict[tuple[str, str], WindowColumns]:
    return accumulate(_chunks(), attributes=ATTRIBUTES, by_row=by_row)


def test_chunked_windows_hold_the_rows_of_the_row_path() -> None:
    """Ids, times, scores, outcomes, labels and overrides per version and route are the
    same, in order."""
    chunked, by_row = _windows(by_row=False), _windows(by_row=True)

    assert chunked.keys() == by_row.keys()
    for key, window in chunked.items():
        reference = by_row[key]
        assert (window.decision_ids, window.decided_at, window.scores, window.outcomes,
                window.labels, window.overrides, window.paired_ids) == (
            reference.decision_ids, reference.decided_at, reference.scores,
            reference.outcomes, reference.labels, reference.overrides, reference.paired_ids)


def test_a_chunk_of_one_version_and_route_reads_as_when_split() -> None:
    """A chunk of one version and route, taken whole, holds what splitting it by row
    gives."""
    rows = [_row(i, {"amount": i, "purpose": "car"}, {}) for i in range(50)]
    [whole] = accumulate([rows]).values()
    [split] = accumulate([rows[:1], rows[1:]]).values()

    assert (whole.decision_ids, whole.labels, whole.overrides) == (
        split.decision_ids, split.labels, split.overrides)
    pd.testing.assert_series_equal(whole.column("amount"), split.column("amount"))


@pytest.mark.parametrize("name", ["amount", "rate", "limit", "purpose", "owns_home", "opened",
                                  "grade", "code", "late_field", "never_sent"])
def test_chunked_inputs_equal_the_row_path(name: str) -> None:
    """Every input reads as the same Series (values, missing values and dtype)."""
    chunked, by_row = _windows(by_row=False), _windows(by_row=True)

    for key, window in chunked.items():
        pd.testing.assert_series_equal(window.column(name), by_row[key].column(name))


@pytest.mark.parametrize("name", ATTRIBUTES)
def test_chunked_attributes_equal_the_row_path(name: str) -> None:
    """Monitoring attributes read from the requests are the same objects."""
    chunked, by_row = _windows(by_row=False), _windows(by_row=True)

    for key, window in chunked.items():
        pd.testing.assert_series_equal(window.attribute(name), by_row[key].attribute(name))


def test_chunked_drift_figures_equal_the_row_path() -> None:
    """PSI, chi-square, JS, KS and the quality rates of numeric and categorical inputs
    (missing values among them) are identical."""
    chunked, by_row = _windows(by_row=False), _windows(by_row=True)
    numeric = NumericReference.of(np.linspace(0, 6000, 500))
    categories = pd.Series(["car", "house", "house", None, "boat"])

    for key, window in chunked.items():
        for name in ("amount", "rate", "limit"):
            assert numeric_drift(numeric, pd.to_numeric(window.column(name)), feature=name) \
                == numeric_drift(numeric, pd.to_numeric(by_row[key].column(name)),
                                 feature=name)
        for name in ("purpose", "grade", "owns_home", "code"):
            assert categorical_drift(categories, window.column(name), feature=name) \
                == categorical_drift(categories, by_row[key].column(name), feature=name)


def test_rows_added_one_by_one_keep_their_place_before_a_chunk() -> None:
    """Rows added singly, then a chunk, read in the order they came."""
    [first, second, _] = _chunks()
    mixed = WindowColumns(model="credit@1", route="champion")
    for row in first:
        mixed.add(row)
    mixed.add_rows(second)
    reference = WindowColumns(model="credit@1", route="champion")
    for row in [*first, *second]:
        reference.add(row)

    for name in ("amount", "grade", "code", "purpose"):
        pd.testing.assert_series_equal(mixed.column(name), reference.column(name))


def test_a_shadow_decision_takes_its_champion_decisions_label_score_and_outcome() -> None:
    """Each shadow row named with its champion decision takes that decision's latest label,
    score and outcome; one whose champion is not in the window, or that has no pair,
    stays unlabelled with no champion score."""
    champion = [_row(i, {}, {}) for i in range(6)]
    shadow = [(f"s{i}", *_row(i, {}, {}, version=2, route="shadow")[1:9], None, None, paired)
              for i, paired in enumerate(["d00001", "d00002", "d00003", "d99999", None])]

    for by_row in (False, True):
        windows = accumulate([champion[:3], [*shadow, *champion[3:]]], by_row=by_row)
        paired = windows[("credit@2", "shadow")]

        assert paired.labels == [1, 0, None, None, None]  # d00003 has none yet
        assert paired.champion_outcomes == ["approve", "approve", "decline", None, None]
        np.testing.assert_array_equal(paired.champion_scores,
                                      [1 / 97, 2 / 97, 3 / 97, np.nan, np.nan])
        assert windows[("credit@1", "champion")].champion_scores is None
