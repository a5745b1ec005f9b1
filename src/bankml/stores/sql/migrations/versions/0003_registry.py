"""Registry: models, version signatures and manifests, lineage, aliases, stage history.

Existing versions are carried forward: each model name gets a `models` row (domain other,
tier 3, its first registrant as owner and developer, to be corrected by its owner), each
version a signature built from its input names and one stage-history row for the stage it
is found in.

Revision ID: 0003
Revises: 0001
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_VERSION_COLUMNS = (
    ("signature_json", sa.Text, '{"inputs":[],"output":{"dtype":"float64","name":"score"}}'),
    ("dataset_sha256", sa.String(64), ""),
    ("manifest_json", sa.Text, "{}"),
    ("tags_json", sa.Text, "{}"),
)


def upgrade() -> None:
    models = op.create_table(
        "models",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("domain", sa.String(20), nullable=False),
        sa.Column("risk_tier", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("developer", sa.String(200), nullable=False),
        sa.Column("intended_use", sa.Text, nullable=False),
        sa.Column("limitations", sa.Text, nullable=False),
        sa.Column("protected_attributes_json", sa.Text, nullable=False),
    )
    with op.batch_alter_table("model_versions") as batch:
        for name, kind, default in NEW_VERSION_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))
    op.create_index("ix_model_versions_dataset", "model_versions", ["dataset_sha256"])
    op.create_table(
        "model_version_features",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("feature_view", sa.String(200), primary_key=True),
        sa.Column("view_version", sa.Integer, primary_key=True, autoincrement=False),
    )
    op.create_index("ix_model_version_features_view", "model_version_features",
                    ["feature_view", "view_version"])
    op.create_table(
        "model_aliases",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("alias", sa.String(50), primary_key=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
    )
    changes = op.create_table(
        "model_stage_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=True),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("changed_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_model_stage_changes_model", "model_stage_changes",
                    ["name", "changed_at"])
    _carry_forward(models, changes)
    _forbid_changes("model_stage_changes")


def downgrade() -> None:
    _allow_changes("model_stage_changes")
    op.drop_table("model_stage_changes")
    op.drop_table("model_aliases")
    op.drop_table("model_version_features")
    op.drop_index("ix_model_versions_dataset", "model_versions")
    with op.batch_alter_table("model_versions") as batch:
        for name, _, _ in NEW_VERSION_COLUMNS:
            batch.drop_column(name)
    op.drop_table("models")


def _carry_forward(models: sa.Table, changes: sa.Table) -> None:
    bind = op.get_bind()
    versions = sa.table("model_versions", sa.column("name"), sa.column("number"),
                        sa.column("stage"), sa.column("created_at"), sa.column("created_by"),
                        sa.column("inputs_json"), sa.column("signature_json"))
    rows = bind.execute(sa.select(versions).order_by(versions.c.name, versions.c.number)).all()
    owners: dict[str, str] = {}
    for row in rows:
        owners.setdefault(row.name, row.created_by)
        signature = {"inputs": [{"name": n, "dtype": "unknown"}
                                for n in json.loads(row.inputs_json)],
                     "output": {"name": "score", "dtype": "float64"}}
        bind.execute(sa.update(versions).where(versions.c.name == row.name,
                                               versions.c.number == row.number)
                     .values(signature_json=json.dumps(signature, sort_keys=True)))
        bind.execute(sa.insert(changes).values(
            name=row.name, number=row.number, source=None, target=row.stage,
            changed_at=row.created_at, actor=row.created_by,
            reason="carried forward by migration 0003; earlier history unknown"))
    for name, owner in owners.items():
        bind.execute(sa.insert(models).values(
            name=name, domain="other", risk_tier=3, owner=owner, developer=owner,
            intended_use="", limitations="", protected_attributes_json="[]"))


def _forbid_changes(table: str) -> None:
    """History is append-only in the database itself, as the audit trail is."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only()
        """)
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END
        """)


def _allow_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
