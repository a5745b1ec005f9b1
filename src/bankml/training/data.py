"""The entity-and-label source of a spec, read into a frame, and the digest of a dataset."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bankml.core.errors import InvalidInputError
from bankml.core.manifest import DataSource
from bankml.datasets import load_example
from bankml.training.spec import LoadedSpec

READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".parquet": pd.read_parquet, ".csv": pd.read_csv}


@dataclass(frozen=True, slots=True)
class SourceData:
    frame: pd.DataFrame
    described: DataSource  # recorded in the manifest: where the rows came from


def read_source(loaded: LoadedSpec, datasets_dir: Path | None, *,
                data: Path | None = None) -> SourceData:
    """The rows the spec names: a built-in example or a Parquet/CSV file; `data` reads the
    spec's file from where it is now, when it has moved (the digests still decide whether
    it holds the same rows)."""
    source = loaded.spec.source
    check_moved(loaded, data)
    if source.dataset is not None:
        example = load_example(source.dataset, datasets_dir)
        return SourceData(example.frame, DataSource(dataset=source.dataset,
                                                    origin=example.source,
                                                    description=example.description))
    path = Path(str(source.path))
    path = (data.resolve() if data is not None else path if path.is_absolute()
            else (loaded.folder / path).resolve())
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise loaded.error(("source", "path"), f"{path.name}: read Parquet (.parquet) or CSV "
                           "(.csv) files")
    if not path.is_file():
        hint = "" if data is not None else "; if it moved, name where it is now (--data PATH)"
        raise loaded.error(("source", "path"), f"{path} does not exist{hint}")
    frame = _read_csv(loaded, path) if path.suffix.lower() == ".csv" else reader(path)
    timestamp = source.event_timestamp
    if timestamp in frame.columns and not pd.api.types.is_datetime64_any_dtype(frame[timestamp]):
        frame[timestamp] = pd.to_datetime(frame[timestamp], utc=True)
    return SourceData(frame, DataSource(path=str(path), origin="file",
                                        description=f"{path.name} ({len(frame):,} rows)"))


def check_moved(loaded: LoadedSpec, data: Path | None) -> None:
    """`data` (where a moved source file is now) only for a spec that reads a file."""
    source = loaded.spec.source
    if data is not None and source.path is None:
        raise InvalidInputError("data", f"the spec reads the built-in dataset "
                                f"{source.dataset!r}, not a file that could have moved",
                                rule="pipeline.data_moved")
SEPARATORS = (";", "\t", "|", ",")


def _read_csv(loaded: LoadedSpec, path: Path) -> pd.DataFrame:
    """A CSV file as the spec's `source.csv` describes it; a file that reads as one column
    because its separator is another is refused with the separator to declare."""
    options = loaded.spec.source.csv
    separator = options.separator if options else ","
    frame = pd.read_csv(path, sep=separator, decimal=options.decimal if options else ".",
                        index_col=options.index_column if options else None)
    if options is not None and options.index_column is not None:
        frame = frame.reset_index(drop=True)
    if len(frame.columns) == 1:
        header = str(frame.columns[0])
        found = next((s for s in SEPARATORS if s != separator and s in header), None)
        if found is not None:
            raise loaded.error(("source", "path"), (
                f"{path.name} reads as one column {header[:60]!r} with the separator "
                f"{separator!r}; its header is separated by {found!r}: declare "
                f"`csv: {{separator: {found!r}}}` under source"
                + (" (and `decimal: ','` if numbers are written 1,5)" if found == ";" else "")),
                rule="pipeline.csv_format")
    return frame


def dataset_digest(frame: pd.DataFrame) -> str:
    """sha256 over the column names, dtypes and every value, independent of file format."""
    hasher = hashlib.sha256()
    for column in frame.columns:
        hasher.update(f"{column}\x1f{frame[column].dtype}\x1e".encode())
    hasher.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return hasher.hexdigest()


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """The columns preprocessing treats as numbers: numeric dtypes, booleans excepted."""
    return [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])]
