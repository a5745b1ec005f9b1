"""The feature store: one definition for training and serving, versioned and audited."""

from bankml.features.definitions import load_definitions
from bankml.features.results import (
    ApplyResult,
    MaterializeResult,
    Mismatch,
    OnlineFeatures,
    SkewReport,
    TrainingSet,
)
from bankml.features.service import FeatureStore

__all__ = ["ApplyResult", "FeatureStore", "MaterializeResult", "Mismatch", "OnlineFeatures",
           "SkewReport", "TrainingSet", "load_definitions"]
