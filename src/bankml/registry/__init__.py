"""The model registry: versions, their artifacts and lifecycle."""

from bankml.registry.service import Registry

__all__ = ["Registry"]
