"""The PostgreSQL role the platform runs as: it reads and writes rows, and nothing more.

Whoever owns a table may drop its triggers, alter it or truncate it, so the role that
migrates the schema (BANKML_MIGRATION_URL) is not the role the platform runs as
(BANKML_METADATA_URL). The owner runs these statements once, in the schema bankml uses;
the default privileges extend them to the tables later migrations create. The runtime
role gets no TRUNCATE, no TRIGGER, no REFERENCES and no ownership, so it can change rows
only as the append-only guards allow.
"""

from __future__ import annotations


def runtime_grants(schema: str, role: str) -> list[str]:
    """The statements that give `role` row access to `schema`, for the schema owner to run."""
    on_schema, to_role = _identifier(schema), _identifier(role)
    rows = "SELECT, INSERT, UPDATE, DELETE"
    return [
        f"GRANT USAGE ON SCHEMA {on_schema} TO {to_role}",
        f"GRANT {rows} ON ALL TABLES IN SCHEMA {on_schema} TO {to_role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {on_schema} TO {to_role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {on_schema} GRANT {rows} ON TABLES TO {to_role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {on_schema} GRANT USAGE, SELECT ON SEQUENCES "
        f"TO {to_role}",
    ]


def _identifier(name: str) -> str:
    """A quoted SQL identifier: the name exactly as given, whatever it contains."""
    return '"' + name.replace('"', '""') + '"'
