"""Feature store: versioned feature view definitions and materialisation watermarks.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feature_view_versions",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("labels_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_feature_view_versions_digest", "feature_view_versions",
                    ["name", "digest"])
    op.create_table(
        "feature_watermarks",
        sa.Column("view_ref", sa.String(220), primary_key=True),
        sa.Column("watermark", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("feature_watermarks")
    op.drop_index("ix_feature_view_versions_digest", "feature_view_versions")
    op.drop_table("feature_view_versions")
