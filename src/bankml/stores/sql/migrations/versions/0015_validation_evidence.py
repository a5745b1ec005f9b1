"""Validation evidence a validator can trust: runs by a model's developer marked as
developer self-tests, and each model's initial validation baseline (ECB PD-07), the run
a sign-off rested on when the model was first approved for production.

Runs stored before this revision are marked from the model's declared developer and the
version's registrant, as new runs are. One baseline per model, held by its primary key.

Revision ID: 0015
Revises: 0012 (the chain is re-linked when the branches merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("validation_runs") as batch:
        batch.add_column(sa.Column("self_test", sa.Integer, nullable=False,
                                   server_default="0"))
    op.execute("""
        UPDATE validation_runs SET self_test = 1
        WHERE created_by IN (SELECT developer FROM models
                             WHERE models.name = validation_runs.model)
           OR created_by IN (SELECT created_by FROM model_versions
                             WHERE model_versions.name = validation_runs.model
                               AND model_versions.number = validation_runs.version)
    """)
    op.create_table(
        "validation_baselines",
        sa.Column("model", sa.String(200),
                  sa.ForeignKey("models.name", name="fk_validation_baselines_model"),
                  primary_key=True),
        sa.Column("run_id", sa.String(32),
                  sa.ForeignKey("validation_runs.run_id", name="fk_validation_baselines_run"),
                  nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("validator", sa.String(200), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("validation_baselines")
    with op.batch_alter_table("validation_runs") as batch:
        batch.drop_column("self_test")
