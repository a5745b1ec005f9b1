"""The decision log of the decisions service: endpoints as versioned data, decision records
of schema 2 (endpoint, route, request, features, reasons, latency), batches whose Merkle
root one audit event vouches for, idempotency keys, and overrides beside decisions.

Decisions logged before keep schema 1 and their own audit event per decision.

Revision ID: 0010
Revises: 0009
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

def _new_decision_columns() -> tuple[sa.Column[Any], ...]:
    return (
        sa.Column("schema_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("endpoint", sa.String(100), nullable=True),
        sa.Column("endpoint_version", sa.Integer, nullable=True),
        sa.Column("route", sa.String(20), nullable=False, server_default="champion"),
        sa.Column("received_at", sa.String(32), nullable=True),
        sa.Column("request_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("features_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("reasons_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("requested_by", sa.String(63), nullable=False, server_default=""),
        sa.Column("code_version", sa.String(100), nullable=False, server_default=""),
        sa.Column("latency_us", sa.Integer, nullable=False, server_default="0"),
        sa.Column("batch_id", sa.Integer, nullable=True),
        sa.Column("batch_index", sa.Integer, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
    )
APPEND_ONLY = ("decision_batches", "decision_overrides", "endpoint_versions")


def upgrade() -> None:
    op.create_table(
        "decision_batches",
        sa.Column("batch_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("committed_at", sa.String(32), nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("merkle_root", sa.String(64), nullable=False),
        sa.Column("first_decided_at", sa.String(32), nullable=False),
        sa.Column("last_decided_at", sa.String(32), nullable=False),
        sa.Column("leaves", sa.Text, nullable=False),
    )
    _allow_changes_sqlite("decisions")  # the rebuild below drops its triggers on SQLite
    with op.batch_alter_table("decisions") as batch:
        for column in _new_decision_columns():
            batch.add_column(column)
        batch.create_foreign_key("fk_decisions_batch", "decision_batches", ["batch_id"],
                                 ["batch_id"])
    _forbid_changes_sqlite("decisions")
    op.create_index("ix_decisions_endpoint", "decisions", ["endpoint", "decided_at"])
    op.create_index("ix_decisions_batch", "decisions", ["batch_id", "batch_index"])
    op.create_index("ux_decisions_idempotency", "decisions", ["endpoint", "idempotency_key"],
                    unique=True, **_where("idempotency_key IS NOT NULL"))
    op.create_table(
        "decision_overrides",
        sa.Column("override_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason_code", sa.String(50), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("overridden_by", sa.String(63), nullable=False),
        sa.Column("overridden_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.decision_id"],
                                name="fk_decision_overrides_decision"),
    )
    op.create_index("ix_decision_overrides_decision_id", "decision_overrides",
                    ["decision_id"])
    op.create_table(
        "endpoint_versions",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
    )
    op.create_index("ix_endpoint_versions_digest", "endpoint_versions", ["name", "digest"])
    for table in APPEND_ONLY:
        _forbid_changes(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _allow_changes(table)
    op.drop_index("ix_endpoint_versions_digest", "endpoint_versions")
    op.drop_table("endpoint_versions")
    op.drop_index("ix_decision_overrides_decision_id", "decision_overrides")
    op.drop_table("decision_overrides")
    op.drop_index("ux_decisions_idempotency", "decisions")
    op.drop_index("ix_decisions_batch", "decisions")
    op.drop_index("ix_decisions_endpoint", "decisions")
    _allow_changes_sqlite("decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint("fk_decisions_batch", type_="foreignkey")
        for column in reversed(_new_decision_columns()):
            batch.drop_column(column.name)
    _forbid_changes_sqlite("decisions")
    op.drop_table("decision_batches")


def _where(condition: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def _forbid_changes(table: str) -> None:
    """Refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) in the database itself, as for
    the audit trail."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only()
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION bankml_refuse_truncate()
        """)  # the function is 0008's
        return
    _forbid_changes_sqlite(table)


def _allow_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        return
    _allow_changes_sqlite(table)


def _forbid_changes_sqlite(table: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL alters tables in place: its triggers stay
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END
        """)


def _allow_changes_sqlite(table: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
