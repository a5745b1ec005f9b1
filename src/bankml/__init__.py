"""bankml: the operating loop for a bank's production models."""

from importlib.metadata import PackageNotFoundError, version

from bankml.core.features import (
    Aggregation,
    AggregationFunction,
    Bool,
    DuckDbQuerySource,
    Entity,
    FeatureView,
    Field,
    FileSource,
    Float64,
    Int64,
    OnDemandFeatureView,
    SqlTableSource,
    String,
)
from bankml.platform import Platform
from bankml.settings import Settings, load_settings

try:
    __version__ = version("bankml")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = [
    "Aggregation", "AggregationFunction", "Bool", "DuckDbQuerySource", "Entity", "FeatureView",
    "Field", "FileSource", "Float64", "Int64", "OnDemandFeatureView", "Platform", "Settings",
    "SqlTableSource", "String", "__version__", "load_settings",
]
