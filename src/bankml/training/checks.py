"""Checks of the training data before anything is fitted (docs/pipelines.md, data checks).

Always refused: a label other than 0/1 or with gaps, a protected attribute the source
lacks. Checked against the spec's limits (`data_checks:`), each refused or only warned
about as the spec chooses, and recorded in the manifest either way: a text input that
looks like an identifier, more categories than the input's encoding should take, and the
share of rows without a value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from bankml.core.manifest import DataCheck, DataQuality
from bankml.training.data import numeric_columns
from bankml.training.spec import LoadedSpec

# Below this many distinct values a text column is a category however few rows there are.
IDENTIFIER_MIN_VALUES = 20


def check_labels(loaded: LoadedSpec, labels: pd.Series) -> dict[str, int]:
    """Rows per label value; refused unless every row holds 0 or 1, naming what else it holds."""
    counts: dict[object, int] = {value: int(rows) for value, rows in
                                 labels.value_counts(dropna=True).items()}
    wrong = [(value, rows) for value, rows in counts.items() if not _is_binary(value)]
    gaps = int(labels.isna().sum())
    if wrong or gaps:
        found = []
        if wrong:
            found.append("found " + ", ".join(
                f"{value!r} on {rows:,} rows" for value, rows in
                sorted(wrong, key=lambda item: (-item[1], str(item[0])))))
        if gaps:
            found.append(f"no value on {gaps:,} rows")
        raise loaded.error(("source", "label"), f"{loaded.spec.source.label!r} must hold 0 "
                           f"and 1 only, without gaps: {'; '.join(found)}",
                           rule="pipeline.label_binary")
    return dict(sorted((str(int(float(str(value)))), rows) for value, rows in counts.items()))


def _is_binary(value: object) -> bool:
    return str(value).strip() in {"0", "1", "0.0", "1.0"}


def check_data(loaded: LoadedSpec, source: pd.DataFrame, dataset: pd.DataFrame,
               inputs: Sequence[str], progress: Callable[[str], None]) -> DataQuality:
    """Every data check on the training dataset; the first refused breach raises."""
    spec = loaded.spec
    for index, name in enumerate(spec.model.protected_names):
        if name not in source.columns:
            raise loaded.error(("model", "protected_attributes", index), (
                f"{name!r} is not in the source, so fairness could not be tested on it; it "
                f"has {', '.join(map(str, source.columns))}"), rule="data.protected_present")
    counts = check_labels(loaded, dataset[spec.source.label])
    checks: list[DataCheck] = []
    numeric = set(numeric_columns(dataset[list(inputs)]))
    for index, name in enumerate(inputs):
        values = dataset[name]
        found = [] if name in numeric else [_identifier(loaded, name, values),
                                             _categories(loaded, name, values)]
        found.append(_missing(loaded, name, values))
        for check in found:
            checks.append(check)
            if check.breached:
                _breached(loaded, _location(loaded, index), check, progress)
    return DataQuality(label_counts=counts, checks=tuple(checks))


def _location(loaded: LoadedSpec, index: int) -> tuple[str | int, ...]:
    columns = len(loaded.spec.input_columns)
    return ("inputs", index) if index < columns else ("features", index - columns)


def _breached(loaded: LoadedSpec, location: tuple[str | int, ...], check: DataCheck,
              progress: Callable[[str], None]) -> None:
    if check.on_breach == "refuse":
        raise loaded.error(location, check.detail, rule=check.rule)
    progress(f"warning: {loaded.where(location)}: {check.detail} (rule {check.rule})")


def _identifier(loaded: LoadedSpec, name: str, values: pd.Series) -> DataCheck:
    declared = loaded.spec.checks.identifier
    rows = int(values.notna().sum())
    distinct = int(values.nunique(dropna=True))
    share = distinct / rows if rows else 0.0
    return DataCheck(
        rule="data.identifier", column=name, value=share, limit=declared.max_distinct_share,
        breached=share > declared.max_distinct_share and distinct >= IDENTIFIER_MIN_VALUES,
        on_breach=declared.on_breach, detail=(
            f"{name!r} has {distinct:,} distinct values on {rows:,} rows ({share:.0%}): an "
            f"identifier, not a feature (limit {declared.max_distinct_share:.0%}, "
            "data_checks.identifier.max_distinct_share); remove it from the inputs"))


def _categories(loaded: LoadedSpec, name: str, values: pd.Series) -> DataCheck:
    spec = loaded.spec
    encoding = ("woe" if spec.preprocessing.woe_binning is not None
                else spec.preprocessing.categorical.encode)
    limit = int(getattr(spec.checks.categories, encoding))
    distinct = int(values.nunique(dropna=True))
    return DataCheck(
        rule="data.categories", column=name, value=float(distinct), limit=float(limit),
        breached=distinct > limit, on_breach=spec.checks.categories.on_breach, detail=(
            f"{name!r} has {distinct:,} categories; {encoding} encoding takes at most "
            f"{limit:,} (data_checks.categories.{encoding}); group rare values or drop it"))


def _missing(loaded: LoadedSpec, name: str, values: pd.Series) -> DataCheck:
    declared = loaded.spec.checks.missing
    gaps, rows = int(values.isna().sum()), len(values)
    share = gaps / rows if rows else 0.0
    return DataCheck(
        rule="data.missing_share", column=name, value=share, limit=declared.max_share,
        breached=share > declared.max_share, on_breach=declared.on_breach, detail=(
            f"{name!r} has no value on {gaps:,} of {rows:,} rows ({share:.0%}); the limit "
            f"is {declared.max_share:.0%} (data_checks.missing.max_share)"))
