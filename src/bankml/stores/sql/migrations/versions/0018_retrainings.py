"""Retrainings: a red drift or performance alert starts its model's own pipeline once (the
unique key on alert_id), and every step it reaches is kept on its row (compare-and-set on
a revision).

Revision ID: 0018
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrainings",
        sa.Column("retraining_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("started_by", sa.String(63), nullable=False),
        sa.Column("champion", sa.Integer, nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("request_id", sa.Integer, nullable=True),
        sa.Column("rollout_id", sa.Integer, nullable=True),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("outcome_json", sa.Text, nullable=False, server_default="{}"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.alert_id"],
                                name="fk_retrainings_alert"),
        sa.UniqueConstraint("alert_id", name="uq_retrainings_alert"),
    )
    op.create_index("ix_retrainings_endpoint", "retrainings", ["endpoint", "retraining_id"])


def downgrade() -> None:
    op.drop_index("ix_retrainings_endpoint", "retrainings")
    op.drop_table("retrainings")
