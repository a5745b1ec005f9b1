"""Content-addressed artifact storage on any fsspec file system."""

from bankml.stores.artifacts.fsspec_store import FsspecArtifactStore

__all__ = ["FsspecArtifactStore"]
