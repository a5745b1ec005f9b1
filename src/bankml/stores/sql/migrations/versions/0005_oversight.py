"""Governance oversight: validation sign-offs, findings, exceptions, transition requests,
approvals and monitoring alerts.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("alerts", "approvals", "transition_requests", "policy_exceptions", "findings",
          "validation_signoffs")


def upgrade() -> None:
    op.create_table(
        "validation_signoffs",
        sa.Column("signoff_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("validator", sa.String(63), nullable=False),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("fairness_passed", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("finding_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("due_date", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("raised_by", sa.String(63), nullable=False),
        sa.Column("raised_at", sa.String(32), nullable=False),
        sa.Column("closed_by", sa.String(63), nullable=True),
        sa.Column("closed_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "policy_exceptions",
        sa.Column("exception_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("gate", sa.String(100), nullable=False),
        sa.Column("justification", sa.Text, nullable=False),
        sa.Column("granted_by", sa.String(63), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "transition_requests",
        sa.Column("request_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(63), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "approvals",
        sa.Column("request_id", sa.Integer, primary_key=True),
        sa.Column("approver", sa.String(63), primary_key=True),  # one voice per person per request
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("approved", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("opened_by", sa.String(63), nullable=False),
        sa.Column("opened_at", sa.String(32), nullable=False),
        sa.Column("closed_by", sa.String(63), nullable=True),
        sa.Column("closed_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_findings_model", "findings", ["model"])
    op.create_index("ix_transition_requests_model", "transition_requests", ["model"])
    op.create_index("ix_alerts_model", "alerts", ["model"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
