"""bankml: the operating loop for a bank's production models.

`Platform` and the settings load on first use (PEP 562), so `import bankml`, the CLI's
`--help` and an HTTP client do not pay for scikit-learn, LightGBM and SQLAlchemy.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from bankml.platform import Platform
    from bankml.settings import Settings, load_settings

_LAZY = {"Platform": "bankml.platform", "Settings": "bankml.settings",
         "load_settings": "bankml.settings"}

try:
    __version__ = version("bankml")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = [
    "Aggregation", "AggregationFunction", "Bool", "DuckDbQuerySource", "Entity", "FeatureView",
    "Field", "FileSource", "Float64", "Int64", "OnDemandFeatureView", "Platform", "Settings",
    "SqlTableSource", "String", "__version__", "load_settings",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bankml' has no attribute {name!r}")
