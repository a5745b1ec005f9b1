"""Evidence records to JSON and back: the one place their stored layout is written and read.

The records kept for years and read by people who were not there, such as the manifest of
a model version, are written here in the current layout, with its `schema_version`, and
read back from any layout bankml ever stored:

- version 1: the plain dictionaries written before the layouts had a version. They
  carry no `schema_version`. Manifests of versions registered by hand are `{}` or
  `{"feature_views": [...]}`: they read as no manifest. A version-1 manifest may lack
  `spec_folder` and may hold fields of an earlier layout (`predictions_sha256`), which
  are kept in `Manifest.legacy`.
- version 2: the same field names, complete, with `schema_version: 2`.

Values follow `core.canonical.to_plain`; a field that is missing or of the wrong kind is
an `InvalidInputError` naming its path (rule `evidence.schema`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from bankml.core.canonical import JsonObject, JsonValue, canonical_json, to_plain
from bankml.core.errors import InvalidInputError
from bankml.core.manifest import (
    MANIFEST_SCHEMA_VERSION,
    CodeVersion,
    DataSource,
    Environment,
    Manifest,
)

RULE = "evidence.schema"
R = TypeVar("R")

# The fields of a version-1 manifest that the current layout names; others are legacy.
_MANIFEST_FIELDS = frozenset({
    "schema_version", "spec", "spec_sha256", "spec_folder", "data_source", "dataset_sha256",
    "dataset_rows", "dataset_snapshot_sha256", "feature_refs", "feature_views", "code",
    "dependencies", "platform", "seeds", "threads", "splits"})


# -- manifests ------------------------------------------------------------------------------


def manifest_to_plain(manifest: Manifest) -> JsonObject:
    """The manifest as stored: JSON data in the layout of its `schema_version`."""
    environment = manifest.environment
    source = manifest.data_source
    plain: JsonObject = {
        **{key: to_plain(value) for key, value in manifest.legacy.items()},
        "schema_version": manifest.schema_version,
        "spec": to_plain(manifest.spec), "spec_sha256": manifest.spec_sha256,
        "data_source": {"origin": source.origin, "description": source.description,
                        **({"dataset": source.dataset} if source.dataset is not None else {}),
                        **({"path": source.path} if source.path is not None else {})},
        "dataset_sha256": manifest.dataset_sha256, "dataset_rows": manifest.dataset_rows,
        "dataset_snapshot_sha256": manifest.dataset_snapshot_sha256,
        "feature_refs": dict(manifest.feature_refs),
        "feature_views": list(manifest.feature_views),
        "code": {"bankml": manifest.code.bankml, "git_commit": manifest.code.git_commit},
        "dependencies": dict(environment.dependencies),
        "platform": {"python": environment.python,
                     "implementation": environment.implementation,
                     "system": environment.system, "machine": environment.machine},
        "seeds": {"seed": manifest.seed}, "threads": {"threads": manifest.threads},
        "splits": dict(manifest.splits),
    }
    if manifest.spec_folder is not None:
        plain["spec_folder"] = manifest.spec_folder
    return plain


def manifest_to_json(manifest: Manifest) -> str:
    """The manifest as canonical JSON text."""
    return canonical_json(manifest_to_plain(manifest))


def manifest_from_plain(data: JsonValue) -> Manifest | None:
    """A stored manifest of any layout; None for a version registered by hand."""
    record = _Fields(data, "manifest")
    version = _schema_version(record, MANIFEST_SCHEMA_VERSION)
    if "spec" not in record.data:  # `{}` or `{"feature_views": [...]}`: registered by hand
        return None
    if version >= MANIFEST_SCHEMA_VERSION:
        record.refuse_unknown(_MANIFEST_FIELDS)
    source = record.part("data_source")
    platform = record.part("platform")
    return Manifest(
        schema_version=version, spec=record.part("spec").data,
        spec_sha256=record.text("spec_sha256"),
        spec_folder=(record.text("spec_folder") if version >= MANIFEST_SCHEMA_VERSION
                     else record.optional_text("spec_folder")),
        data_source=_checked(record.where + ".data_source", lambda: DataSource(
            origin=source.text("origin"), description=source.text("description"),
            dataset=source.optional_text("dataset"), path=source.optional_text("path"))),
        dataset_sha256=record.text("dataset_sha256"),
        dataset_rows=record.integer("dataset_rows"),
        dataset_snapshot_sha256=record.optional_text("dataset_snapshot_sha256"),
        feature_refs=record.mapping("feature_refs", _Fields.text),
        feature_views=record.texts("feature_views"),
        code=_code(record.part("code")),
        environment=Environment(
            dependencies=record.mapping("dependencies", _Fields.text),
            python=platform.text("python"), implementation=platform.text("implementation"),
            system=platform.text("system"), machine=platform.text("machine")),
        seed=record.part("seeds").integer("seed"),
        threads=record.part("threads").integer("threads"),
        splits=record.mapping("splits", _Fields.integer),
        legacy={key: value for key, value in record.data.items()
                if key not in _MANIFEST_FIELDS})


def manifest_from_json(text: str) -> Manifest | None:
    """A stored manifest's text, of any layout; None for a version registered by hand."""
    return manifest_from_plain(_parsed(text, "manifest"))


def version_manifest_json(manifest: Manifest | None, *, feature_views: Sequence[str]) -> str:
    """The text a version row keeps: its manifest, or, for a version registered by hand,
    only the feature views it names, as such rows have always held."""
    if manifest is None:
        return canonical_json({"feature_views": list(feature_views)})
    return manifest_to_json(manifest)


def version_manifest_from_json(text: str) -> tuple[Manifest | None, tuple[str, ...]]:
    """A version row's manifest (None when registered by hand) and its feature views."""
    data = _parsed(text, "manifest")
    manifest = manifest_from_plain(data)
    if manifest is not None:
        return manifest, manifest.feature_views
    return None, _Fields(data, "manifest").optional_texts("feature_views") or ()


def _code(record: _Fields) -> CodeVersion:
    return CodeVersion(bankml=record.text("bankml"),
                       git_commit=record.optional_text("git_commit"))


# -- reading, field by field ----------------------------------------------------------------


class _Fields:
    """One JSON object of a stored record, read field by field; errors name the path.

    Required fields raise when absent; `optional_*` readers give None for an absent field
    as for a null one.
    """

    def __init__(self, data: JsonValue, where: str) -> None:
        if not isinstance(data, dict):
            raise _error(where, f"is {_kind(data)}, not an object")
        self.data, self.where = data, where

    def refuse_unknown(self, known: frozenset[str]) -> None:
        unknown = sorted(set(self.data) - known)
        if unknown:
            raise _error(f"{self.where}.{unknown[0]}", "is not a field of this layout")

    def value(self, name: str) -> JsonValue:
        if name not in self.data:
            raise _error(f"{self.where}.{name}", "missing")
        return self.data[name]

    def text(self, name: str) -> str:
        value = self.value(name)
        if not isinstance(value, str):
            raise self._wrong(name, value, "text")
        return value

    def integer(self, name: str) -> int:
        value = self.value(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(name, value, "a whole number")
        return value

    def number(self, name: str) -> float:
        value = self.value(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._wrong(name, value, "a number")
        return float(value)

    def flag(self, name: str) -> bool:
        value = self.value(name)
        if not isinstance(value, bool):
            raise self._wrong(name, value, "true or false")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.value(name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(name, value, "a list of text")
        return tuple(str(item) for item in value)

    def part(self, name: str) -> _Fields:
        return _Fields(self.value(name), f"{self.where}.{name}")

    def parts(self, name: str) -> list[_Fields]:
        value = self.value(name)
        if not isinstance(value, list):
            raise self._wrong(name, value, "a list")
        return [_Fields(item, f"{self.where}.{name}[{index}]")
                for index, item in enumerate(value)]

    def mapping(self, name: str, read: Callable[[_Fields, str], R]) -> dict[str, R]:
        part = self.part(name)
        return {key: read(part, key) for key in part.data}

    def optional_text(self, name: str) -> str | None:
        return None if self._absent(name) else self.text(name)

    def optional_texts(self, name: str) -> tuple[str, ...] | None:
        return None if self._absent(name) else self.texts(name)

    def optional_part(self, name: str) -> _Fields | None:
        return None if self._absent(name) else self.part(name)

    def _absent(self, name: str) -> bool:
        return self.data.get(name) is None

    def _wrong(self, name: str, value: JsonValue, wanted: str) -> InvalidInputError:
        return _error(f"{self.where}.{name}", f"is {_kind(value)}, not {wanted}")


def _checked(where: str, build: Callable[[], R]) -> R:
    """A record whose own rules may refuse the stored values: the error names `where`."""
    try:
        return build()
    except InvalidInputError as exc:
        raise _error(where, str(exc)) from None


def _schema_version(record: _Fields, current: int) -> int:
    version = record.integer("schema_version") if "schema_version" in record.data else 1
    if not 1 <= version <= current:
        raise _error(f"{record.where}.schema_version", f"{version} is not a layout this "
                     f"bankml reads (1 to {current}); a newer bankml wrote it: upgrade")
    return version


def _parsed(text: str | bytes, where: str) -> JsonValue:
    try:
        parsed: JsonValue = json.loads(text)
    except ValueError as exc:
        raise _error(where, f"is not JSON text ({exc})") from None
    return parsed


def _kind(value: JsonValue) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"the text {value!r}" if isinstance(value, str) else f"the number {value!r}"


def _error(where: str, message: str) -> InvalidInputError:
    return InvalidInputError(where, message, rule=RULE)


__all__ = [
    "manifest_from_json",
    "manifest_from_plain",
    "manifest_to_json",
    "manifest_to_plain",
    "version_manifest_from_json",
    "version_manifest_json",
]
