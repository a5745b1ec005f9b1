"""Monitoring: delayed ground truth (labels, every version kept), monitoring runs and their
time series, alerts deduplicated per endpoint and metric with an open -> acknowledged ->
resolved life, and the log of webhook deliveries.

Labels and deliveries are append-only: a correction is a new version, a retry a new row.

Revision ID: 0012
Revises: 0010 (0011 is another branch's; the chain is re-linked when both merge)
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

APPEND_ONLY = ("labels", "alert_deliveries")


def _alert_columns() -> tuple[sa.Column[Any], ...]:
    return (
        sa.Column("endpoint", sa.String(100), nullable=True),
        sa.Column("metric", sa.String(200), nullable=True),
        sa.Column("status", sa.String(12), nullable=False, server_default="open"),
        sa.Column("last_seen_at", sa.String(32), nullable=True),
        sa.Column("acknowledged_by", sa.String(63), nullable=True),
        sa.Column("acknowledged_at", sa.String(32), nullable=True),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
    )


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        for column in _alert_columns():
            batch.add_column(column)
    op.execute("UPDATE alerts SET status = 'resolved' WHERE closed_at IS NOT NULL")
    op.create_index("ux_alerts_open_metric", "alerts", ["endpoint", "metric"], unique=True,
                    **_where("closed_at IS NULL AND metric IS NOT NULL"))
    op.create_table(
        "alert_deliveries",
        sa.Column("delivery_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("delivered", sa.Integer, nullable=False),
        sa.Column("http_status", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempted_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.alert_id"],
                                name="fk_alert_deliveries_alert"),
    )
    op.create_index("ix_alert_deliveries_alert_id", "alert_deliveries", ["alert_id"])
    op.create_table(
        "labels",
        sa.Column("label_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("outcome", sa.Integer, nullable=False),
        sa.Column("observed_at", sa.String(32), nullable=False),
        sa.Column("ingested_at", sa.String(32), nullable=False),
        sa.Column("ingested_by", sa.String(63), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.decision_id"],
                                name="fk_labels_decision"),
    )
    op.create_index("ux_labels_version", "labels", ["decision_id", "version"], unique=True)
    op.create_index("ix_labels_endpoint", "labels", ["endpoint"])
    op.create_table(
        "monitoring_runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("window_start", sa.String(32), nullable=False),
        sa.Column("window_end", sa.String(32), nullable=False),
        sa.Column("as_of", sa.String(32), nullable=False),
        sa.Column("policy_id", sa.String(200), nullable=False),
        sa.Column("policy_version", sa.String(100), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("decisions", sa.Integer, nullable=False),
        sa.Column("greens", sa.Integer, nullable=False),
        sa.Column("ambers", sa.Integer, nullable=False),
        sa.Column("reds", sa.Integer, nullable=False),
    )
    op.create_index("ux_monitoring_runs_window", "monitoring_runs",
                    ["endpoint", "window_start", "window_end", "as_of"], unique=True)
    op.create_table(
        "monitoring_metrics",
        sa.Column("metric_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("window_end", sa.String(32), nullable=False),
        sa.Column("model", sa.String(220), nullable=False),
        sa.Column("route", sa.String(20), nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("p_value", sa.Float(precision=53), nullable=True),
        sa.Column("baseline", sa.Float(precision=53), nullable=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["monitoring_runs.run_id"],
                                name="fk_monitoring_metrics_run"),
    )
    op.create_index("ix_monitoring_metrics_series", "monitoring_metrics",
                    ["endpoint", "metric", "window_end"])
    op.create_index("ix_monitoring_metrics_run", "monitoring_metrics", ["run_id"])
    for table in APPEND_ONLY:
        _forbid_changes(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _allow_changes(table)
    op.drop_index("ix_monitoring_metrics_run", "monitoring_metrics")
    op.drop_index("ix_monitoring_metrics_series", "monitoring_metrics")
    op.drop_table("monitoring_metrics")
    op.drop_index("ux_monitoring_runs_window", "monitoring_runs")
    op.drop_table("monitoring_runs")
    op.drop_index("ix_labels_endpoint", "labels")
    op.drop_index("ux_labels_version", "labels")
    op.drop_table("labels")
    op.drop_index("ix_alert_deliveries_alert_id", "alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ux_alerts_open_metric", "alerts")
    with op.batch_alter_table("alerts") as batch:
        for column in reversed(_alert_columns()):
            batch.drop_column(column.name)


def _where(condition: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def _forbid_changes(table: str) -> None:
    """Refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) in the database itself."""
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
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END
        """)


def _allow_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
