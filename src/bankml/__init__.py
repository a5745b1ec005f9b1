"""bankml: the operating loop for a bank's production models."""

from importlib.metadata import PackageNotFoundError, version

from bankml.platform import Platform
from bankml.settings import Settings, load_settings

try:
    __version__ = version("bankml")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["Platform", "Settings", "__version__", "load_settings"]
