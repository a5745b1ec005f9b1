"""The feature store: one definition for training and serving, versioned and audited."""

from bankml.features.definitions import load_definitions
from bankml.features.service import (
    ApplyResult,
    FeatureStore,
    MaterializeResult,
    Mismatch,
    OnlineFeatures,
    SkewReport,
    TrainingSet,
)

__all__ = ["ApplyResult", "FeatureStore", "MaterializeResult", "Mismatch", "OnlineFeatures",
           "SkewReport", "TrainingSet", "load_definitions"]
