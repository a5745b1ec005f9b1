"""Validation runs, and the run a validation sign-off rests on.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "validation_runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("policy_id", sa.String(200), nullable=False),
        sa.Column("policy_version", sa.String(100), nullable=False),
        sa.Column("opinion", sa.Integer, nullable=False),
        sa.Column("fairness_passed", sa.Integer, nullable=False),
        sa.Column("greens", sa.Integer, nullable=False),
        sa.Column("ambers", sa.Integer, nullable=False),
        sa.Column("reds", sa.Integer, nullable=False),
        sa.Column("result_sha256", sa.String(64), nullable=False),
        sa.Column("against", sa.String(220), nullable=True),
    )
    op.create_index("ix_validation_runs_model", "validation_runs", ["model", "version"])
    with op.batch_alter_table("validation_signoffs") as batch:
        batch.add_column(sa.Column("run_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("validation_signoffs") as batch:
        batch.drop_column("run_id")
    op.drop_index("ix_validation_runs_model", "validation_runs")
    op.drop_table("validation_runs")
