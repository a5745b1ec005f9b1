"""Artifacts stored under the sha256 of their bytes, on a local folder or any fsspec URI.

Writes go to a temporary name and are moved into place, so a crash never leaves a
half-written artifact under a real digest; `stage` does the writing alone, so a caller can
write early and decide later. Reads re-hash the bytes before handing them on.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs

from bankml.core.errors import ArtifactIntegrityError, InvalidInputError, NotFoundError
from bankml.core.ports import StoredObject

CHUNK_BYTES = 1 << 20
DIGEST_PATTERN = re.compile(r"[0-9a-f]{64}")
# anchors/<sequence, 12 digits>-<sha256>: listing the folder lists the anchors in order
ANCHOR_ENTRY = re.compile(r"(\d{12})-([0-9a-f]{64})")


class FsspecArtifactStore:
    """`put` returns the sha256 of what was stored; `get` refuses bytes that do not match it."""

    def __init__(self, uri: str) -> None:
        self._fs, root = url_to_fs(uri)
        self._uri = uri
        self._root = root.rstrip("/")
        self._fs.makedirs(f"{self._root}/incoming", exist_ok=True)

    def put(self, data: bytes | BinaryIO | Path) -> str:
        return self.stage(data).commit()

    def stage(self, data: bytes | BinaryIO | Path) -> StagedFile:
        if isinstance(data, bytes):
            return self._stage(io.BytesIO(data))
        if isinstance(data, Path):
            with data.open("rb") as stream:
                return self._stage(stream)
        return self._stage(data)

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        try:
            content = self._fs.cat_file(path)
        except FileNotFoundError as exc:
            raise NotFoundError("artifact", digest, f"Looked in {self._uri}.") from exc
        actual = hashlib.sha256(content).hexdigest()
        if actual != digest:
            raise ArtifactIntegrityError(digest, actual, self.location(digest))
        return bytes(content)

    def exists(self, digest: str) -> bool:
        return bool(self._fs.exists(self._path(digest)))

    def add_anchor(self, sequence: int, content: bytes) -> str:
        """The anchor is an artifact like any other; its index entry is an empty object
        whose name says the sequence and the digest, written once and never changed."""
        digest = self.put(content)
        entry = f"{self._root}/anchors/{sequence:012d}-{digest}"
        self._fs.makedirs(f"{self._root}/anchors", exist_ok=True)
        if not self._fs.exists(entry):
            self._fs.pipe_file(entry, b"")
        return digest

    def anchor_digests(self) -> list[str]:
        folder = f"{self._root}/anchors"
        if not self._fs.exists(folder):
            return []
        names = sorted(str(path).rsplit("/", 1)[-1] for path in self._fs.ls(folder, detail=False))
        return [match.group(2) for name in names if (match := ANCHOR_ENTRY.fullmatch(name))]

    def objects(self) -> Iterator[StoredObject]:
        folder = f"{self._root}/sha256"
        if not self._fs.exists(folder):
            return
        for shard in sorted(self._fs.ls(folder, detail=False)):
            for path in sorted(self._fs.ls(shard, detail=False)):
                name = str(path).rsplit("/", 1)[-1]
                if DIGEST_PATTERN.fullmatch(name):
                    yield self._described(str(path), name)

    def staged(self) -> Iterator[StoredObject]:
        for path in sorted(self._fs.ls(f"{self._root}/incoming", detail=False)):
            yield self._described(str(path), str(path).rsplit("/", 1)[-1])

    def remove(self, digest: str, *, unless_modified_after: datetime) -> bool:
        path = self._path(digest)
        try:
            if _modified(self._fs, path) > unless_modified_after:
                return False  # put again since it was listed: someone refers to it now
            self._fs.rm(path)
        except FileNotFoundError:
            return False
        return True

    def remove_staged(self, name: str) -> None:
        if "/" in name or name in ("", ".", ".."):
            raise InvalidInputError("name", f"{name!r} is not a file in incoming/",
                                    rule="artifact.staged_name")
        _remove(self._fs, f"{self._root}/incoming/{name}")

    def _described(self, path: str, name: str) -> StoredObject:
        return StoredObject(name=name, size_bytes=int(self._fs.size(path)),
                            modified_at=_modified(self._fs, path))

    def location(self, digest: str) -> str:
        path = self._path(digest)
        return path if _is_local(self._fs.protocol) else str(self._fs.unstrip_protocol(path))

    def _path(self, digest: str) -> str:
        if not DIGEST_PATTERN.fullmatch(digest):
            raise InvalidInputError("digest", f"{digest!r} is not a sha256 (64 lowercase hex "
                                    "digits)", rule="artifact.digest_format")
        return f"{self._root}/sha256/{digest[:2]}/{digest}"

    def _stage(self, stream: BinaryIO) -> StagedFile:
        hasher = hashlib.sha256()
        temporary = f"{self._root}/incoming/{uuid.uuid4().hex}"
        try:
            with self._fs.open(temporary, "wb") as target:
                while chunk := stream.read(CHUNK_BYTES):
                    hasher.update(chunk)
                    target.write(chunk)
                _sync(target)
        except BaseException:
            _remove(self._fs, temporary)
            raise
        digest = hasher.hexdigest()
        return StagedFile(fs=self._fs, digest=digest, temporary=temporary,
                          final=self._path(digest))


@dataclass(frozen=True, slots=True, kw_only=True)
class StagedFile:
    """Bytes written and synced under `incoming/`, which readers never look in."""

    fs: AbstractFileSystem
    digest: str
    temporary: str
    final: str

    def commit(self) -> str:
        try:
            if not self.fs.exists(self.final):
                self.fs.makedirs(self.final.rsplit("/", 1)[0], exist_ok=True)
                self.fs.mv(self.temporary, self.final)
            else:  # same bytes stored before: keep that copy, fresh again for housekeeping
                with contextlib.suppress(NotImplementedError):  # object stores cannot touch
                    self.fs.touch(self.final, truncate=False)
            return self.digest
        finally:
            self.discard()

    def discard(self) -> None:
        _remove(self.fs, self.temporary)


def _remove(fs: AbstractFileSystem, path: str) -> None:
    if fs.exists(path):
        fs.rm(path)


def _modified(fs: AbstractFileSystem, path: str) -> datetime:
    moment: datetime = fs.modified(path)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _is_local(protocol: str | tuple[str, ...]) -> bool:
    protocols = (protocol,) if isinstance(protocol, str) else protocol
    return "file" in protocols


def _sync(target: BinaryIO) -> None:
    """Flush a local file to disk before it is renamed into place; remote stores need not."""
    target.flush()
    with contextlib.suppress(AttributeError, OSError, io.UnsupportedOperation):
        os.fsync(target.fileno())
