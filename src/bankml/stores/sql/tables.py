"""Table definitions, shared by the repositories; the migrations create them."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

audit_events = Table(
    "audit_events", metadata,
    Column("sequence", Integer, primary_key=True, autoincrement=False),
    Column("recorded_at", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(200), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("payload_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Index("ix_audit_events_subject", "subject"),
    Index("ix_audit_events_recorded_at", "recorded_at"),
)

# One row: the chain's last sequence and hash. Writers lock it, so appends are serialised
# and the chain never forks; verification compares it with the last event.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("sequence", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

model_versions = Table(
    "model_versions", metadata,
    Column("name", String(200), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("flavour", String(50), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("metrics_json", Text, nullable=False),
    Column("inputs_json", Text, nullable=False),
)

decisions = Table(
    "decisions", metadata,
    Column("decision_id", String(64), primary_key=True),
    Column("decided_at", String(32), nullable=False),
    Column("customer_pseudo_id", String(64), nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("inputs_json", Text, nullable=False),
    Column("score", Float(precision=53), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("policy_json", Text, nullable=False),
    Index("ix_decisions_customer", "customer_pseudo_id"),
    Index("ix_decisions_model", "model_name", "model_version"),
)

APPEND_ONLY_TABLES = ("audit_events", "decisions")

users = Table(
    "users", metadata,
    Column("username", String(63), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("roles_json", Text, nullable=False),
    Column("active", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_id", String(16), primary_key=True),
    Column("username", String(63), nullable=False, index=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    Column("description", String(200), nullable=False),
)
