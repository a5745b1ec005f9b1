"""The manifest of a model version: everything its build read, so it can be rebuilt.

`bankml train` records one per version: the spec and its digest, where the data came from
and the dataset's digest and snapshot, the feature refs and view versions, the code and
the environment it ran in, the seed, the thread count and the size of each set. Versions
registered by hand have none. The stored form (JSON) is read and written by
`bankml.core.serialisation`; `schema_version` says which layout a record was stored in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bankml.core.canonical import JsonValue
from bankml.core.errors import InvalidInputError

# 1: the plain dictionaries training wrote before the schema had a version;
# 2: the same fields, complete, with `schema_version`.
MANIFEST_SCHEMA_VERSION = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeVersion:
    """The bankml that built a version: its installed version and, from a checkout, the commit."""

    bankml: str
    git_commit: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """What a build ran on: the versions of the libraries that shape it, and the platform."""

    dependencies: Mapping[str, str]  # distribution name -> version, "absent" if not installed
    python: str
    implementation: str  # CPython, PyPy, ...
    system: str  # Linux, Darwin, Windows
    machine: str  # x86_64, arm64, ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSource:
    """Where the entity-and-label rows came from."""

    origin: str  # "real" or "synthetic" (a built-in example), or "file"
    description: str
    dataset: str | None = None  # the built-in example's name
    path: str | None = None  # the file read, resolved

    def __post_init__(self) -> None:
        if (self.dataset is None) == (self.path is None):
            raise InvalidInputError("data_source", "names a built-in dataset or a file path, "
                                    "exactly one of them", rule="evidence.schema")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataCheck:
    """One check of the training data against a limit of the spec (docs/pipelines.md)."""

    rule: str  # data.missing_share, data.categories, data.identifier
    column: str
    value: float  # what was measured: a share of rows, or a count of distinct values
    limit: float
    breached: bool
    on_breach: str  # "refuse" or "warn": a refused breach registers no version
    detail: str  # the finding in words, as the model card shows it


@dataclass(frozen=True, slots=True, kw_only=True)
class DataQuality:
    """What training found in its data: the label's values and the checks it ran."""

    label_counts: Mapping[str, int]  # each label value (as text) -> rows
    checks: tuple[DataCheck, ...]

    @property
    def warnings(self) -> tuple[DataCheck, ...]:
        """The breaches the spec chose to warn about rather than refuse."""
        return tuple(check for check in self.checks if check.breached)


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """What a version was built from; `bankml models reproduce` rebuilds from it."""

    spec: Mapping[str, JsonValue]  # the pipeline spec, as its canonical JSON data
    spec_sha256: str
    # Relative data paths resolve from here; None in records made before it was kept,
    # whose paths resolved from the working directory.
    spec_folder: str | None
    data_source: DataSource
    dataset_sha256: str
    dataset_rows: int
    feature_refs: Mapping[str, str]  # each spec ref -> the pinned ref read (`view@3:f`)
    feature_views: tuple[str, ...]  # the exact `view@version`s trained on
    code: CodeVersion
    environment: Environment
    seed: int
    threads: int
    splits: Mapping[str, int]  # rows per set: train, holdout, test, calibration
    dataset_snapshot_sha256: str | None = None  # the Parquet snapshot, once committed
    # The protected attributes by row (entity keys, event time, attributes), kept apart
    # from the model's inputs: their digest, and their Parquet snapshot once committed.
    # None in versions trained before they were snapshotted.
    protected_sha256: str | None = None
    protected_snapshot_sha256: str | None = None
    data_quality: DataQuality | None = None  # None in records made before training checked
    schema_version: int = MANIFEST_SCHEMA_VERSION
    # Fields of an earlier layout that this one no longer has (e.g. `predictions_sha256`),
    # kept as recorded so that reading an old version loses nothing; version 1 only.
    legacy: Mapping[str, JsonValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.legacy and self.schema_version >= MANIFEST_SCHEMA_VERSION:
            raise InvalidInputError("manifest.legacy", "only version-1 records carry fields "
                                    "of an earlier layout", rule="evidence.schema")

    @property
    def test_from(self) -> str | None:
        """The spec's out-of-time date (YYYY-MM-DD): test rows are on or after it."""
        found = _at(self.spec, "split", "out_of_time", "test_from")
        return found if isinstance(found, str) else None

    @property
    def holdout_share(self) -> float | None:
        """The spec's share of the earlier rows held out of fitting."""
        found = _at(self.spec, "split", "holdout", "share")
        return float(found) if isinstance(found, int | float) else None

    @property
    def decision_policy(self) -> Mapping[str, JsonValue]:
        """The spec's `decision_policy:` block: its kind and cut-offs."""
        found = _at(self.spec, "decision_policy")
        return found if isinstance(found, dict) else {}


def _at(data: Mapping[str, JsonValue], *path: str) -> JsonValue:
    """The value at `path` in nested JSON data, None where the path ends early."""
    found: JsonValue = dict(data)
    for key in path:
        if not isinstance(found, dict):
            return None
        found = found.get(key)
    return found
