"""The metadata store on SQLAlchemy: SQLite embedded, PostgreSQL by URL."""

from bankml.stores.sql.metadata import SqlMetadataStore

__all__ = ["SqlMetadataStore"]
