"""Unauthenticated refusals counted per minute and subject, so that a flood of them is
counted rather than each appended to the chain.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refusal_counts",
        sa.Column("window_start", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(500), primary_key=True),
        sa.Column("refused", sa.Integer, nullable=False),
        sa.Column("recorded", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("refusal_counts")
