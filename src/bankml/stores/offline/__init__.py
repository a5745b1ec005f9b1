"""Offline feature data: DuckDB over Parquet, CSV and SQL sources."""

from bankml.stores.offline.duckdb_engine import DuckDbOfflineEngine

__all__ = ["DuckDbOfflineEngine"]
