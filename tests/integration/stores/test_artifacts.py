"""The artifact store contract, on a local folder and on an fsspec in-memory file system."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import fsspec
import pytest

from bankml.core.errors import ArtifactIntegrityError, InvalidInputError, NotFoundError
from bankml.stores.artifacts import FsspecArtifactStore

CONTENT = b"model bytes \x00\x01" * 1000


class ArtifactStoreContract:
    """Every backend must pass these; subclasses give the `store` and `corrupt` fixtures."""

    def corrupt(self, store: FsspecArtifactStore, digest: str, content: bytes) -> None:
        raise NotImplementedError

    def test_put_returns_the_sha256(self, store: FsspecArtifactStore) -> None:
        """The digest is the sha256 of the bytes, as hashlib computes it."""
        assert store.put(CONTENT) == hashlib.sha256(CONTENT).hexdigest()

    def test_get_returns_what_was_put(self, store: FsspecArtifactStore) -> None:
        """Reading by digest gives the exact bytes back."""
        assert store.get(store.put(CONTENT)) == CONTENT

    def test_file_and_stream_store_like_bytes(self, store: FsspecArtifactStore,
                                              tmp_path: Path) -> None:
        """A path or an open stream gives the same digest as the bytes."""
        path = tmp_path / "model.bin"
        path.write_bytes(CONTENT)

        assert store.put(path) == store.put(io.BytesIO(CONTENT)) == store.put(CONTENT)

    def test_large_content_streams_in_chunks(self, store: FsspecArtifactStore) -> None:
        """Content larger than one chunk is stored whole."""
        big = bytes(range(256)) * 20_000

        assert store.get(store.put(big)) == big

    def test_same_bytes_are_stored_once(self, store: FsspecArtifactStore) -> None:
        """Putting the same bytes twice keeps one copy and gives one digest."""
        assert store.put(CONTENT) == store.put(CONTENT)
        assert store.exists(hashlib.sha256(CONTENT).hexdigest())

    def test_staged_bytes_are_unseen_until_committed(self, store: FsspecArtifactStore) -> None:
        """A staged artifact has its digest at once, and is readable only once committed."""
        digest = hashlib.sha256(CONTENT).hexdigest()
        staged = store.stage(CONTENT)

        assert staged.digest == digest
        assert not store.exists(digest)
        with pytest.raises(NotFoundError):
            store.get(digest)
        assert staged.commit() == digest
        assert store.get(digest) == CONTENT

    def test_discarded_stage_stores_nothing(self, store: FsspecArtifactStore) -> None:
        """Discarding a staged artifact removes its written bytes and stores nothing."""
        staged = store.stage(CONTENT)
        assert staged.fs.exists(staged.temporary)

        staged.discard()

        assert not staged.fs.exists(staged.temporary)
        assert not store.exists(staged.digest)

    def test_committing_bytes_already_stored_keeps_them(self,
                                                        store: FsspecArtifactStore) -> None:
        """Staging and committing bytes stored before changes nothing and gives their digest."""
        digest = store.put(CONTENT)

        assert store.stage(CONTENT).commit() == digest
        assert store.get(digest) == CONTENT

    def test_tampered_artifact_is_refused(self, store: FsspecArtifactStore) -> None:
        """Bytes changed behind the store's back are never handed on."""
        digest = store.put(CONTENT)
        self.corrupt(store, digest, CONTENT.replace(b"model", b"MODEL", 1))

        with pytest.raises(ArtifactIntegrityError, match=f"Artifact {digest} .* tampered"):
            store.get(digest)

    def test_truncated_artifact_is_refused(self, store: FsspecArtifactStore) -> None:
        """A half-written artifact is caught like a tampered one."""
        digest = store.put(CONTENT)
        self.corrupt(store, digest, CONTENT[: len(CONTENT) // 2])

        with pytest.raises(ArtifactIntegrityError, match="was not loaded"):
            store.get(digest)

    def test_unknown_digest_is_not_found(self, store: FsspecArtifactStore) -> None:
        """Asking for a digest never stored says so."""
        with pytest.raises(NotFoundError, match="No artifact"):
            store.get("0" * 64)

    def test_malformed_digest_is_refused(self, store: FsspecArtifactStore) -> None:
        """A digest that is not 64 hex digits is an input error, not a path."""
        with pytest.raises(InvalidInputError, match="not a sha256"):
            store.get("../../etc/passwd")


class TestLocalArtifactStore(ArtifactStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> FsspecArtifactStore:
        return FsspecArtifactStore(str(tmp_path / "artifacts"))

    def corrupt(self, store: FsspecArtifactStore, digest: str, content: bytes) -> None:
        Path(store.location(digest)).write_bytes(content)

    def test_no_temporary_files_remain(self, store: FsspecArtifactStore, tmp_path: Path) -> None:
        """After puts, commits and discards, only the artifact itself is on disk."""
        store.put(CONTENT)
        store.put(CONTENT)
        store.stage(CONTENT).commit()
        store.stage(b"dropped").discard()

        assert list((tmp_path / "artifacts" / "incoming").iterdir()) == []


class TestMemoryArtifactStore(ArtifactStoreContract):
    """Any fsspec URI works; the in-memory file system stands in for object storage."""

    @pytest.fixture
    def store(self) -> FsspecArtifactStore:
        return FsspecArtifactStore(f"memory://bankml-{uuid.uuid4().hex}/artifacts")

    def corrupt(self, store: FsspecArtifactStore, digest: str, content: bytes) -> None:
        with fsspec.open(store.location(digest), "wb") as target:
            target.write(content)

    def test_location_keeps_the_protocol(self, store: FsspecArtifactStore) -> None:
        """Reports show where a remote artifact lives, protocol included."""
        assert store.location(store.put(CONTENT)).startswith("memory://")
