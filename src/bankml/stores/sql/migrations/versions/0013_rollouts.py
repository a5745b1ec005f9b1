"""Rollouts: one row per challenger's rollout on an endpoint (one active per endpoint, held
by a partial unique index; state by compare-and-set on a revision), and leases for the
singleton workers such as the rollout controller.

Revision ID: 0013
Revises: 0012
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("rollout_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("champion", sa.Integer, nullable=False),
        sa.Column("challenger", sa.Integer, nullable=False),
        sa.Column("plan_json", sa.Text, nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("step_started_at", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("ended_at", sa.String(32), nullable=True),
        sa.Column("outcome_json", sa.Text, nullable=False, server_default="{}"),
        sa.ForeignKeyConstraint(["model", "challenger"],
                                ["model_versions.name", "model_versions.number"],
                                name="fk_rollouts_challenger_version"),
    )
    op.create_index("ix_rollouts_endpoint", "rollouts", ["endpoint", "rollout_id"])
    op.create_index("ux_rollouts_active", "rollouts", ["endpoint"], unique=True,
                    **_where("status IN ('running', 'paused')"))
    op.create_table(
        "leases",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ux_rollouts_active", "rollouts")
    op.drop_index("ix_rollouts_endpoint", "rollouts")
    op.drop_table("rollouts")


def _where(condition: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}
