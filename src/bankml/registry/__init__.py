"""The model registry: models, versions, lifecycle, aliases, lineage, cards and artifacts."""

from bankml.registry.card import ModelCard
from bankml.registry.service import Lineage, NewVersion, Registry

__all__ = ["Lineage", "ModelCard", "NewVersion", "Registry"]
