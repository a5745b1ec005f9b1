"""Housekeeping of the stores: removing what crashed or refused work left behind."""

from bankml.housekeeping.artifacts import ArtifactCollection, Collected

__all__ = ["ArtifactCollection", "Collected"]
