"""Checked conversion of the arrays every test takes: labels, scores, weights, groups.

Each test states its inputs as array-likes; these functions turn them into numpy arrays
once and refuse what would give a silently wrong statistic (NaN scores, labels other than
0/1, a sample with only one class, arrays of different lengths).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankml.arrays import BoolArray, FloatArray, IntArray
from bankml.core.errors import InvalidInputError


def binary_labels(name: str, values: npt.ArrayLike, *, both_classes: bool = True) -> BoolArray:
    """Return `values` as booleans; they must be 0/1 (or bool) and, by default, hold both."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInputError(name, f"expected a 1-d array, got shape {array.shape}")
    if array.dtype != np.bool_:
        if array.dtype.kind not in "iuf" or not np.isin(array, (0, 1)).all():
            raise InvalidInputError(name, "labels must be 0 or 1 (1 = the event)",
                                    rule="validation.binary_labels")
        array = array == 1
    if both_classes and (array.all() or not array.any()):
        raise InvalidInputError(name, f"all {array.size} labels are equal; the test needs both "
                                "events and non-events", rule="validation.both_classes")
    return array


def real_values(name: str, values: npt.ArrayLike, *, size: int | None = None) -> FloatArray:
    """Return `values` as finite float64, optionally of a required length."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InvalidInputError(name, f"expected a 1-d array, got shape {array.shape}")
    if size is not None and array.size != size:
        raise InvalidInputError(name, f"has {array.size} values but the labels have {size}",
                                rule="validation.same_length")
    if not np.isfinite(array).all():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise InvalidInputError(name, f"{bad} values are NaN or infinite",
                                rule="validation.finite")
    return array


def probabilities(name: str, values: npt.ArrayLike, *, size: int | None = None) -> FloatArray:
    """Return `values` as float64 probabilities in [0, 1]."""
    array = real_values(name, values, size=size)
    if ((array < 0) | (array > 1)).any():
        raise InvalidInputError(name, f"probabilities must lie in [0, 1]; found "
                                f"{array.min():.6g}..{array.max():.6g}",
                                rule="validation.probability")
    return array


def share(name: str, value: float, *, open_low: bool = True) -> float:
    """Check that `value` is a proportion in (0, 1) (or [0, 1) when `open_low` is False)."""
    low_ok = value > 0 if open_low else value >= 0
    if not (low_ok and value < 1):
        interval = "(0, 1)" if open_low else "[0, 1)"
        raise InvalidInputError(name, f"{value} is not in {interval}",
                                rule="validation.proportion")
    return value


def group_codes(name: str, groups: pd.DataFrame | pd.Series | npt.ArrayLike,
                *, size: int) -> tuple[IntArray, tuple[str, ...]]:
    """Encode one or more group columns as integer codes and their labels.

    Several columns form intersections, labelled `a=x & b=y`. Missing values are refused:
    a protected attribute that is unknown must be recorded as its own category.
    """
    frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame({name: np.asarray(frame)})
    if len(frame) != size:
        raise InvalidInputError(name, f"has {len(frame)} rows but the labels have {size}",
                                rule="validation.same_length")
    if frame.isna().to_numpy().any():
        raise InvalidInputError(name, "group values are missing; record unknown as a category",
                                rule="validation.group_known")
    codes = np.zeros(size, dtype=np.int64)
    labels: list[str] = [""]
    for column in frame.columns:
        column_codes, uniques = pd.factorize(frame[column], sort=True)
        names = [f"{column}={value}" for value in uniques]
        codes = codes * len(uniques) + column_codes
        labels = [f"{a} & {b}" if a else b for a in labels for b in names]
    # drop intersections nobody is in; bincount keeps this linear (no sort of the rows)
    present = np.bincount(codes, minlength=len(labels)) > 0
    dense_of = np.cumsum(present) - 1
    return dense_of[codes].astype(np.int64), tuple(np.asarray(labels, dtype=object)[present])


def column_list(name: str, frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Check that every column in `columns` is in `frame`."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(name, f"columns {missing} are not in the data",
                                rule="validation.columns_exist")
    return list(columns)
