"""Invariants in the database: one prod version per model, one open request per version and
target, foreign keys between rows that refer to rows; principals with a kind and scopes, and
every role grant on record.

Existing users keep their roles; each role is carried forward as an effective grant by
`system` at the user's creation. A store that already holds two prod versions of one model
(or two open requests for one move) is not migrated: the error names them, for a person to
settle, since choosing between them is not a migration's call.

Revision ID: 0007
Revises: 0006
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

VERSION_COLUMNS = {  # table -> its (name, number) columns referring to model_versions
    "model_version_features": ("name", "number"),
    "model_aliases": ("name", "number"),
    "model_stage_changes": ("name", "number"),
    "decisions": ("model_name", "model_version"),
    "validation_signoffs": ("model", "version"),
    "validation_runs": ("model", "version"),
    "policy_exceptions": ("model", "version"),
    "transition_requests": ("model", "version"),
}
MODEL_COLUMNS = {"model_versions": "name", "findings": "model", "alerts": "model"}
APPEND_ONLY = ("decisions", "model_stage_changes")  # their guards go with a table rebuild


def upgrade() -> None:
    _refuse_broken_invariants()
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False,
                                   server_default="person"))
        batch.add_column(sa.Column("scopes_json", sa.Text, nullable=False,
                                   server_default="[]"))
    grants = op.create_table(
        "role_grants",
        sa.Column("grant_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(63), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("granted_by", sa.String(63), nullable=False),
        sa.Column("granted_at", sa.String(32), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("confirmed_by", sa.String(63), nullable=True),
        sa.Column("confirmed_at", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["username"], ["users.username"], name="fk_role_grants_user"),
    )
    op.create_index("ix_role_grants_user", "role_grants", ["username"])
    op.create_index("ix_role_grants_granted_by", "role_grants", ["granted_by"])
    _carry_grants_forward(grants)

    for table in APPEND_ONLY:
        _allow_changes(table)
    # Parents before children: a table is rebuilt (on SQLite) before anything refers to it.
    for table, column in MODEL_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(f"fk_{table}_model", "models", [column], ["name"])
    for table, columns in VERSION_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(f"fk_{table}_version", "model_versions", list(columns),
                                     ["name", "number"])
    with op.batch_alter_table("approvals") as batch:
        batch.create_foreign_key("fk_approvals_request", "transition_requests",
                                 ["request_id"], ["request_id"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.create_foreign_key("fk_api_tokens_user", "users", ["username"], ["username"])
    for table in APPEND_ONLY:
        _forbid_changes(table)

    op.create_index("ux_model_versions_one_prod", "model_versions", ["name"], unique=True,
                    **_where("stage = 'prod'"))
    op.create_index("ux_transition_requests_one_open", "transition_requests",
                    ["model", "version", "target"], unique=True, **_where("status = 'open'"))


def downgrade() -> None:
    op.drop_index("ux_transition_requests_one_open", "transition_requests")
    op.drop_index("ux_model_versions_one_prod", "model_versions")
    for table in APPEND_ONLY:
        _allow_changes(table)
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint("fk_api_tokens_user", type_="foreignkey")
    with op.batch_alter_table("approvals") as batch:
        batch.drop_constraint("fk_approvals_request", type_="foreignkey")
    for table in reversed(VERSION_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_version", type_="foreignkey")
    for table in reversed(MODEL_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_model", type_="foreignkey")
    for table in APPEND_ONLY:
        _forbid_changes(table)
    op.drop_index("ix_role_grants_granted_by", "role_grants")
    op.drop_index("ix_role_grants_user", "role_grants")
    op.drop_table("role_grants")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("scopes_json")
        batch.drop_column("kind")


def _refuse_broken_invariants() -> None:
    bind = op.get_bind()
    doubled = bind.execute(sa.text(
        "SELECT name FROM model_versions WHERE stage = 'prod' GROUP BY name "
        "HAVING COUNT(*) > 1 ORDER BY name")).scalars().all()
    twice = bind.execute(sa.text(
        "SELECT model, version, target FROM transition_requests WHERE status = 'open' "
        "GROUP BY model, version, target HAVING COUNT(*) > 1 ORDER BY model")).all()
    problems = [f"model {name!r} has more than one version in prod" for name in doubled]
    problems += [f"{row.model}@{row.version} has more than one open request to {row.target}"
                 for row in twice]
    if problems:
        raise RuntimeError("The metadata store breaks invariants this version enforces; "
                           "archive or close the extra rows by hand, then migrate again: "
                           + "; ".join(problems))


def _carry_grants_forward(grants: sa.Table) -> None:
    rows = op.get_bind().execute(sa.text(
        "SELECT username, roles_json, created_at FROM users ORDER BY username")).all()
    op.bulk_insert(grants, [
        {"username": row.username, "role": role, "granted_by": "system",
         "granted_at": row.created_at, "status": "effective", "confirmed_by": None,
         "confirmed_at": None}
        for row in rows for role in json.loads(row.roles_json)])


def _where(condition: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def _forbid_changes(table: str) -> None:
    """The append-only guard of migrations 0001 and 0003, set again after a table rebuild."""
    if op.get_bind().dialect.name == "postgresql":
        return  # PostgreSQL alters the table in place: its trigger was never dropped
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END
        """)


def _allow_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
