"""Turning fitted models into bytes and back, without letting an artifact run code.

Two flavours:

- `sklearn-skops`: one scikit-learn object stored with skops, which rebuilds only types it
  has been told to trust; anything outside skops' defaults and our allowlist is refused
  before loading.
- `bankml-bundle`: what `bankml train` builds. A zip of parts: the preprocessing (skops),
  the estimator (skops, or LightGBM's own text format for LightGBM), the optional
  calibrator (skops) and `bundle.json` naming them. No part can run code on load.

Every archive is written byte-reproducibly: skops names its arrays after Python object ids
and stamps zip entries with the current time, so both are replaced by stable values. The
same fitted model therefore always has the same sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.errors import ArtifactFormatError, InvalidInputError, UntrustedArtifactError
from bankml.registry.lightgbm_text import check_parses

SKLEARN = "sklearn-skops"
BUNDLE = "bankml-bundle"
FLAVOURS = (SKLEARN, BUNDLE)

# Types beyond skops' own defaults that bankml vouches for: numpy's dtype objects (the
# encoders' `dtype` parameter), scikit-learn's fitted tree structure (node arrays, rebuilt
# from numbers) and our own transformer, which holds only numbers and strings. A bank
# extends this only after review.
TRUSTED_EXTRA_TYPES: frozenset[str] = frozenset({
    "numpy.dtype", "sklearn.tree._tree.Tree", "bankml.training.woe.WoeEncoder"})

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
LIGHTGBM_PART = "estimator.lgbm.txt"
# What reading a malformed archive raises; each becomes an ArtifactFormatError.
UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, TypeError,
              EOFError, OSError)
OBJECT_ID = re.compile(r"^(\d+)\.npy$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoringModel:
    """A fitted pipeline: preprocess, estimate, optionally calibrate; scores rows of a frame."""

    inputs: list[str]
    preprocess: Any
    estimator: Any  # a scikit-learn classifier or a lightgbm.Booster
    calibration: str | None = None  # "sigmoid" or "isotonic"
    calibrator: Any = None

    def predict_proba(self, frame: pd.DataFrame, *, threads: int | None = None) -> np.ndarray:
        """Columns: probability of the negative and of the positive class, as scikit-learn.

        `threads` sets how many threads LightGBM scores with (one thread scores each row, so
        no score depends on it); other estimators follow the process's BLAS limits.
        """
        positive = self.calibrate(self.raw_scores(frame, threads=threads))
        return np.column_stack([1.0 - positive, positive])

    def raw_scores(self, frame: pd.DataFrame, *, threads: int | None = None) -> np.ndarray:
        prepared = self.preprocess.transform(frame[self.inputs])
        if _is_booster(self.estimator):
            scores = (self.estimator.predict(prepared) if threads is None
                      else self.estimator.predict(prepared, num_threads=threads))
            return np.asarray(scores, dtype=float)
        return np.asarray(self.estimator.predict_proba(prepared)[:, 1], dtype=float)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        if self.calibration is None:
            return raw
        if self.calibration == "sigmoid":
            return np.asarray(self.calibrator.predict_proba(raw.reshape(-1, 1))[:, 1])
        return np.asarray(self.calibrator.predict(raw), dtype=float)


def dump_sklearn(model: Any) -> bytes:
    """skops bytes of `model`, identical for identical models."""
    import skops.io as sio  # noqa: PLC0415 - heavy (it brings pytest): loaded when used

    return _stable_skops(bytes(sio.dumps(model)))


def load_sklearn(content: bytes, digest: str) -> Any:
    """Rebuild a model from verified bytes; refuse it if it names an untrusted type, or is
    not a skops archive at all (a pickle, say)."""
    named = set(_types_named(content, digest))
    untrusted = sorted(named - TRUSTED_EXTRA_TYPES)
    if untrusted:
        raise UntrustedArtifactError(digest, untrusted)
    try:
        import skops.io as sio  # noqa: PLC0415 - heavy: loaded when used

        return sio.loads(content, trusted=sorted(named) or None)
    except UNREADABLE as exc:
        raise ArtifactFormatError(digest, f"skops cannot rebuild it ({_why(exc)})") from exc


def check_format(flavour: str, content: bytes, digest: str) -> None:
    """ArtifactFormatError unless `content` is an archive of `flavour` that loading can read
    (types are checked on loading): before anything is stored, and again before loading."""
    if flavour == SKLEARN:
        _types_named(content, digest)
    elif flavour == BUNDLE:
        with _archive(content, digest) as archive:
            _bundle_header(archive, digest)
    else:
        raise InvalidInputError("flavour", f"{flavour!r} is not a known model flavour "
                                f"({', '.join(FLAVOURS)})", rule="artifact.flavour")


def dump_bundle(model: ScoringModel) -> bytes:
    parts: dict[str, bytes] = {"preprocess.skops": dump_sklearn(model.preprocess)}
    if _is_booster(model.estimator):
        parts["estimator.lgbm.txt"] = model.estimator.model_to_string().encode("utf-8")
    else:
        parts["estimator.skops"] = dump_sklearn(model.estimator)
    if model.calibration is not None:
        parts["calibrator.skops"] = dump_sklearn(model.calibrator)
    header = {"format": 1, "inputs": model.inputs, "calibration": model.calibration,
              "parts": sorted(parts)}
    parts["bundle.json"] = json.dumps(header, sort_keys=True).encode("utf-8")
    return _stable_zip(sorted(parts.items()))


def untrusted_types(bundle: bytes) -> list[str]:
    """Types in a bundle's skops parts that loading would refuse (checked before registering)."""
    found: set[str] = set()
    digest = hashlib.sha256(bundle).hexdigest()
    with _archive(bundle, digest) as archive:
        for name in archive.namelist():
            if name.endswith(".skops"):
                found |= set(_types_named(archive.read(name), digest))
    return sorted(found - TRUSTED_EXTRA_TYPES)


def load_bundle(content: bytes, digest: str) -> ScoringModel:
    with _archive(content, digest) as archive:
        header = _bundle_header(archive, digest)
        names = set(archive.namelist())
        preprocess = load_sklearn(archive.read("preprocess.skops"), digest)
        if LIGHTGBM_PART in names:
            # checked by `_bundle_header` in a child process: this parse cannot abort
            import lightgbm  # noqa: PLC0415 - heavy: loaded with the first LightGBM model

            estimator: Any = lightgbm.Booster(
                model_str=archive.read(LIGHTGBM_PART).decode("utf-8"))
        else:
            estimator = load_sklearn(archive.read("estimator.skops"), digest)
        calibrator = (load_sklearn(archive.read("calibrator.skops"), digest)
                      if "calibrator.skops" in names else None)
    return ScoringModel(inputs=list(header["inputs"]), preprocess=preprocess,
                        estimator=estimator, calibration=header["calibration"],
                        calibrator=calibrator)


@contextlib.contextmanager
def _archive(content: bytes, digest: str) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except UNREADABLE as exc:
        raise ArtifactFormatError(digest, f"it is not a zip archive ({_why(exc)}); a pickle "
                                  "or any other format is refused") from exc
    with archive:
        yield archive


def _bundle_header(archive: zipfile.ZipFile, digest: str) -> dict[str, Any]:
    """bundle.json, once every part it names is there and readable."""
    names = set(archive.namelist())
    try:
        header = json.loads(archive.read("bundle.json"))
        inputs, parts = list(header["inputs"]), set(header["parts"])
        if not all(isinstance(name, str) for name in inputs):
            raise TypeError("inputs must be names")
        if header["calibration"] not in (None, "sigmoid", "isotonic"):
            raise ValueError(f"calibration {header['calibration']!r}")
    except UNREADABLE as exc:
        raise ArtifactFormatError(digest, f"its bundle.json is missing or malformed "
                                  f"({_why(exc)})") from exc
    problems = [f"{name} is listed but absent" for name in sorted(parts - names)]
    if "preprocess.skops" not in parts:
        problems.append("it has no preprocess.skops")
    if len(parts & {"estimator.skops", LIGHTGBM_PART}) != 1:
        problems.append("it has no single estimator part")
    if (header["calibration"] is None) == ("calibrator.skops" in parts):
        problems.append("its calibration and its calibrator.skops disagree")
    if problems:
        raise ArtifactFormatError(digest, f"its parts do not match bundle.json: "
                                  f"{'; '.join(problems)}")
    for name in sorted(parts):
        if name.endswith(".skops"):
            _types_named(archive.read(name), digest)
    if LIGHTGBM_PART in parts:
        try:
            text = archive.read(LIGHTGBM_PART).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ArtifactFormatError(digest, f"{LIGHTGBM_PART} is not UTF-8 text") from exc
        check_parses(text, digest=digest)
    return dict(header)


def _types_named(content: bytes, digest: str) -> list[str]:
    """The types a skops archive names; ArtifactFormatError if it is not one."""
    try:
        import skops.io as sio  # noqa: PLC0415 - heavy: loaded when used

        return list(sio.get_untrusted_types(data=content))
    except UNREADABLE as exc:
        raise ArtifactFormatError(digest, f"it is not a skops archive ({_why(exc)}); a "
                                  "pickle or any other format is refused") from exc


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def load_model(flavour: str, content: bytes, digest: str) -> Any:
    """The fitted model in `content` (already checked against `digest`) by its flavour."""
    if flavour == SKLEARN:
        return load_sklearn(content, digest)
    if flavour == BUNDLE:
        return load_bundle(content, digest)
    raise InvalidInputError("flavour", f"{flavour!r} is not a known model flavour "
                            f"({', '.join(FLAVOURS)})", rule="artifact.flavour")


def _stable_skops(content: bytes) -> bytes:
    """The same skops archive with object ids renumbered in order and fixed entry times."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        schema = json.loads(archive.read("schema.json"))
        renumbered: dict[str, str] = {}
        for value in _ids_in(schema):
            renumbered.setdefault(value, str(len(renumbered) + 1))
        parts = [("schema.json", json.dumps(_renumber(schema, renumbered), sort_keys=True,
                                            indent=1).encode("utf-8"))]
        for info in archive.infolist():
            match = OBJECT_ID.match(info.filename)
            if match:
                parts.append((f"{renumbered[match.group(1)]}.npy", archive.read(info)))
            elif info.filename != "schema.json":
                parts.append((info.filename, archive.read(info)))
    return _stable_zip(sorted(parts))


def _ids_in(node: Any) -> Iterator[str]:
    """Object ids as skops writes them (`__id__` and `file` fields), in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "__id__":
                yield str(value)
            elif key == "file" and isinstance(value, str) and OBJECT_ID.match(value):
                yield value.removesuffix(".npy")
            else:
                yield from _ids_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _ids_in(item)


def _renumber(node: Any, renumbered: dict[str, str]) -> Any:
    if isinstance(node, dict):
        result: dict[str, Any] = {}
        for key, value in node.items():
            if key == "__id__":
                result[key] = int(renumbered[str(value)])
            elif key == "file" and isinstance(value, str) and OBJECT_ID.match(value):
                result[key] = f"{renumbered[value.removesuffix('.npy')]}.npy"
            else:
                result[key] = _renumber(value, renumbered)
        return result
    if isinstance(node, list):
        return [_renumber(item, renumbered) for item in node]
    return node


def _stable_zip(parts: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=6)
    return buffer.getvalue()


def _is_booster(estimator: Any) -> bool:
    """A LightGBM booster, told without importing LightGBM: none exists before it is."""
    lightgbm = sys.modules.get("lightgbm")
    return lightgbm is not None and isinstance(estimator, lightgbm.Booster)
