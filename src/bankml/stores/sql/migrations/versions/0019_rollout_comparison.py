"""Rollouts keep their champion/challenger comparison: the monitoring figures on matured
labels of both routes (DeLong AUC difference, KPI deltas) and the recommendation drawn
from them, as the controller last recorded it.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rollouts") as batch:
        batch.add_column(sa.Column("comparison_json", sa.Text, nullable=False,
                                   server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("rollouts") as batch:
        batch.drop_column("comparison_json")
