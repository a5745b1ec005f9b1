"""Table definitions, shared by the repositories; the migrations create them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()


def _version_of(table: str, name: str = "name", number: str = "number") -> ForeignKeyConstraint:
    """Rows that describe a model version refer to it: no evidence about nothing."""
    return ForeignKeyConstraint([name, number], ["model_versions.name", "model_versions.number"],
                                name=f"fk_{table}_version")


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, for both backends."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


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

models = Table(
    "models", metadata,
    Column("name", String(200), primary_key=True),
    Column("domain", String(20), nullable=False),
    Column("risk_tier", Integer, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("developer", String(200), nullable=False),
    Column("intended_use", Text, nullable=False),
    Column("limitations", Text, nullable=False),
    Column("protected_attributes_json", Text, nullable=False),
)

model_versions = Table(
    "model_versions", metadata,
    Column("name", String(200), ForeignKey("models.name", name="fk_model_versions_model"),
           primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("flavour", String(50), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("metrics_json", Text, nullable=False),
    Column("inputs_json", Text, nullable=False),
    Column("signature_json", Text, nullable=False),
    Column("dataset_sha256", String(64), nullable=False),
    Column("manifest_json", Text, nullable=False),
    Column("tags_json", Text, nullable=False),
    Index("ix_model_versions_dataset", "dataset_sha256"),
    # One prod version per model, whatever two writers do at once.
    Index("ux_model_versions_one_prod", "name", unique=True, **_where("stage = 'prod'")),
)

# Lineage: one row per feature view version a model version was trained on.
model_version_features = Table(
    "model_version_features", metadata,
    Column("name", String(200), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("feature_view", String(200), primary_key=True),
    Column("view_version", Integer, primary_key=True, autoincrement=False),
    Index("ix_model_version_features_view", "feature_view", "view_version"),
    _version_of("model_version_features"),
)

model_aliases = Table(
    "model_aliases", metadata,
    Column("name", String(200), primary_key=True),
    Column("alias", String(50), primary_key=True),
    Column("number", Integer, nullable=False),
    Column("set_at", String(32), nullable=False),
    Column("set_by", String(200), nullable=False),
    _version_of("model_aliases"),
)

model_stage_changes = Table(
    "model_stage_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("number", Integer, nullable=False),
    Column("source", String(20), nullable=True),
    Column("target", String(20), nullable=False),
    Column("changed_at", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_model_stage_changes_model", "name", "changed_at"),
    _version_of("model_stage_changes"),
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
    # schema 2 (decisions made through endpoints); schema 1 rows keep the defaults
    Column("schema_version", Integer, nullable=False, server_default="1"),
    Column("endpoint", String(100), nullable=True),
    Column("endpoint_version", Integer, nullable=True),
    Column("route", String(20), nullable=False, server_default="champion"),
    Column("received_at", String(32), nullable=True),
    Column("request_json", Text, nullable=False, server_default="{}"),
    Column("features_json", Text, nullable=False, server_default="{}"),
    Column("reasons_json", Text, nullable=False, server_default="{}"),
    Column("requested_by", String(63), nullable=False, server_default=""),
    Column("code_version", String(100), nullable=False, server_default=""),
    Column("latency_us", Integer, nullable=False, server_default="0"),
    # the batch whose Merkle root vouches for the record, and the record's place in it
    Column("batch_id", Integer, ForeignKey("decision_batches.batch_id",
                                           name="fk_decisions_batch"), nullable=True),
    Column("batch_index", Integer, nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Index("ix_decisions_customer", "customer_pseudo_id"),
    Index("ix_decisions_model", "model_name", "model_version"),
    Index("ix_decisions_endpoint", "endpoint", "decided_at"),
    Index("ix_decisions_batch", "batch_id", "batch_index"),
    # a retried request carrying the same key finds its decision, never makes a second
    Index("ux_decisions_idempotency", "endpoint", "idempotency_key", unique=True,
          **_where("idempotency_key IS NOT NULL")),
    _version_of("decisions", "model_name", "model_version"),
)

# One row per committed batch of decisions: its size and the Merkle root over its
# records, which the batch's audit event repeats (so the chain vouches for every record).
decision_batches = Table(
    "decision_batches", metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=True),
    Column("committed_at", String(32), nullable=False),
    Column("records", Integer, nullable=False),
    Column("merkle_root", String(64), nullable=False),
    Column("first_decided_at", String(32), nullable=False),
    Column("last_decided_at", String(32), nullable=False),
    # the records' digests in order: with the root in the audit event they name an edit
    Column("leaves", Text, nullable=False),
)

# Overrides are recorded against a decision, never replacing it (SR 11-7 override analysis).
decision_overrides = Table(
    "decision_overrides", metadata,
    Column("override_id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(64), ForeignKey("decisions.decision_id",
                                                 name="fk_decision_overrides_decision"),
           nullable=False, index=True),
    Column("outcome", String(20), nullable=False),
    Column("reason_code", String(50), nullable=False),
    Column("comment", Text, nullable=False),
    Column("overridden_by", String(63), nullable=False),
    Column("overridden_at", String(32), nullable=False),
)

endpoint_versions = Table(
    "endpoint_versions", metadata,
    Column("name", String(100), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(63), nullable=False),
    Index("ix_endpoint_versions_digest", "name", "digest"),
)

APPEND_ONLY_TABLES = ("audit_events", "decisions", "model_stage_changes", "decision_batches",
                      "decision_overrides", "labels", "alert_deliveries")

# Unauthenticated refusals of the current minute, by subject ("*": all of them): the first
# few are audit events, the rest only counted here until a summary event takes them over.
refusal_counts = Table(
    "refusal_counts", metadata,
    Column("window_start", String(32), primary_key=True),
    Column("subject", String(500), primary_key=True),
    Column("refused", Integer, nullable=False),
    Column("recorded", Integer, nullable=False),
)

feature_view_versions = Table(
    "feature_view_versions", metadata,
    Column("name", String(200), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("labels_json", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Index("ix_feature_view_versions_digest", "name", "digest"),
)

# How far each view version has been loaded into the online store.
feature_watermarks = Table(
    "feature_watermarks", metadata,
    Column("view_ref", String(220), primary_key=True),
    Column("watermark", String(32), nullable=False),
)

users = Table(
    "users", metadata,
    Column("username", String(63), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("roles_json", Text, nullable=False),
    Column("active", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("kind", String(10), nullable=False),  # person, service
    Column("scopes_json", Text, nullable=False),  # service accounts: endpoints they may call
)

# Every role given to someone: by whom, when, and the second admin who confirmed it.
role_grants = Table(
    "role_grants", metadata,
    Column("grant_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(63), ForeignKey("users.username", name="fk_role_grants_user"),
           nullable=False),
    Column("role", String(30), nullable=False),
    Column("granted_by", String(63), nullable=False),
    Column("granted_at", String(32), nullable=False),
    Column("status", String(10), nullable=False),
    Column("confirmed_by", String(63), nullable=True),
    Column("confirmed_at", String(32), nullable=True),
    Index("ix_role_grants_user", "username"),
    Index("ix_role_grants_granted_by", "granted_by"),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_id", String(16), primary_key=True),
    Column("username", String(63), ForeignKey("users.username", name="fk_api_tokens_user"),
           nullable=False, index=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    Column("description", String(200), nullable=False),
)

validation_signoffs = Table(
    "validation_signoffs", metadata,
    Column("signoff_id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("validator", String(63), nullable=False),
    Column("passed", Integer, nullable=False),
    Column("fairness_passed", Integer, nullable=False),
    Column("summary", Text, nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("run_id", String(32), nullable=True),  # the validation run it rests on
    _version_of("validation_signoffs", "model", "version"),
)

validation_runs = Table(
    "validation_runs", metadata,
    Column("run_id", String(32), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("policy_id", String(200), nullable=False),
    Column("policy_version", String(100), nullable=False),
    Column("opinion", Integer, nullable=False),
    Column("fairness_passed", Integer, nullable=False),
    Column("greens", Integer, nullable=False),
    Column("ambers", Integer, nullable=False),
    Column("reds", Integer, nullable=False),
    Column("result_sha256", String(64), nullable=False),
    Column("against", String(220), nullable=True),
    Column("self_test", Integer, nullable=False, server_default="0"),  # by a developer
    Index("ix_validation_runs_model", "model", "version"),
    _version_of("validation_runs", "model", "version"),
)

# Each model's initial validation (ECB PD-07): set once, when it first enters prod.
validation_baselines = Table(
    "validation_baselines", metadata,
    Column("model", String(200), ForeignKey("models.name", name="fk_validation_baselines_model"),
           primary_key=True),
    Column("run_id", String(32),
           ForeignKey("validation_runs.run_id", name="fk_validation_baselines_run"),
           nullable=False),
    Column("version", Integer, nullable=False),
    Column("validator", String(200), nullable=False),
    Column("request_id", Integer, nullable=False),
    Column("recorded_at", String(32), nullable=False),
)

findings = Table(
    "findings", metadata,
    Column("finding_id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), ForeignKey("models.name", name="fk_findings_model"),
           nullable=False, index=True),
    Column("version", Integer, nullable=True),
    Column("severity", String(10), nullable=False),
    Column("title", String(500), nullable=False),
    Column("owner", String(63), nullable=False),
    Column("due_date", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("raised_by", String(63), nullable=False),
    Column("raised_at", String(32), nullable=False),
    Column("closed_by", String(63), nullable=True),
    Column("closed_at", String(32), nullable=True),
)

policy_exceptions = Table(
    "policy_exceptions", metadata,
    Column("exception_id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("gate", String(100), nullable=False),
    Column("justification", Text, nullable=False),
    Column("granted_by", String(63), nullable=False),
    Column("expires_at", String(32), nullable=False),
    _version_of("policy_exceptions", "model", "version"),
)

transition_requests = Table(
    "transition_requests", metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("target", String(20), nullable=False),
    Column("requested_by", String(63), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", String(32), nullable=False),
    _version_of("transition_requests", "model", "version"),
    # One open request per version and target, whatever two requesters do at once.
    Index("ux_transition_requests_one_open", "model", "version", "target", unique=True,
          **_where("status = 'open'")),
)

approvals = Table(
    "approvals", metadata,
    Column("request_id", Integer,
           ForeignKey("transition_requests.request_id", name="fk_approvals_request"),
           primary_key=True),
    Column("approver", String(63), primary_key=True),  # one voice per person per request
    Column("role", String(30), nullable=False),
    Column("approved", Integer, nullable=False),
    Column("comment", Text, nullable=False),
    Column("recorded_at", String(32), nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), ForeignKey("models.name", name="fk_alerts_model"),
           nullable=False, index=True),
    Column("severity", String(10), nullable=False),
    Column("title", String(500), nullable=False),
    Column("opened_by", String(63), nullable=False),
    Column("opened_at", String(32), nullable=False),
    Column("closed_by", String(63), nullable=True),
    Column("closed_at", String(32), nullable=True),
    # monitoring's alerts (migration 0012): one per endpoint and metric until resolved
    Column("endpoint", String(100), nullable=True),
    Column("metric", String(200), nullable=True),
    Column("status", String(12), nullable=False, server_default="open"),
    Column("last_seen_at", String(32), nullable=True),
    Column("acknowledged_by", String(63), nullable=True),
    Column("acknowledged_at", String(32), nullable=True),
    Column("comment", Text, nullable=False, server_default=""),
    Index("ux_alerts_open_metric", "endpoint", "metric", unique=True,
          **_where("closed_at IS NULL AND metric IS NOT NULL")),
)

# Each attempt to deliver an alert to a webhook, successful or not.
alert_deliveries = Table(
    "alert_deliveries", metadata,
    Column("delivery_id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.alert_id", name="fk_alert_deliveries_alert"),
           nullable=False, index=True),
    Column("url", String(500), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("delivered", Integer, nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("error", Text, nullable=False),
    Column("attempted_at", String(32), nullable=False),
)

# Delayed ground truth: every version of a decision's outcome; the latest is read.
labels = Table(
    "labels", metadata,
    Column("label_id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(64), ForeignKey("decisions.decision_id",
                                                 name="fk_labels_decision"), nullable=False),
    Column("endpoint", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("outcome", Integer, nullable=False),
    Column("observed_at", String(32), nullable=False),
    Column("ingested_at", String(32), nullable=False),
    Column("ingested_by", String(63), nullable=False),
    Column("source", String(500), nullable=False),
    # a duplicate or a correction racing another writer meets this index
    Index("ux_labels_version", "decision_id", "version", unique=True),
    Index("ix_labels_endpoint", "endpoint"),
)

# One monitoring run per endpoint, window and as-of moment: re-running it changes nothing.
monitoring_runs = Table(
    "monitoring_runs", metadata,
    Column("run_id", String(32), primary_key=True),
    Column("endpoint", String(100), nullable=False),
    Column("window_start", String(32), nullable=False),
    Column("window_end", String(32), nullable=False),
    Column("as_of", String(32), nullable=False),
    Column("policy_id", String(200), nullable=False),
    Column("policy_version", String(100), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(63), nullable=False),
    Column("decisions", Integer, nullable=False),
    Column("greens", Integer, nullable=False),
    Column("ambers", Integer, nullable=False),
    Column("reds", Integer, nullable=False),
    Index("ux_monitoring_runs_window", "endpoint", "window_start", "window_end", "as_of",
          unique=True),
)

# The time series: one row per run, model version, route and metric.
monitoring_metrics = Table(
    "monitoring_metrics", metadata,
    Column("metric_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("monitoring_runs.run_id",
                                            name="fk_monitoring_metrics_run"), nullable=False),
    Column("endpoint", String(100), nullable=False),
    Column("window_end", String(32), nullable=False),
    Column("model", String(220), nullable=False),
    Column("route", String(20), nullable=False),
    Column("metric", String(200), nullable=False),
    Column("value", Float(precision=53), nullable=True),
    Column("p_value", Float(precision=53), nullable=True),
    Column("baseline", Float(precision=53), nullable=True),
    Column("n", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_monitoring_metrics_series", "endpoint", "metric", "window_end"),
    Index("ix_monitoring_metrics_run", "run_id"),
)

# Rollouts (migration 0013): a challenger's way to champion on one endpoint. The state
# changes by compare-and-set on `revision`; the partial unique index holds one active
# (running or paused) rollout per endpoint against any number of deploying processes.
rollouts = Table(
    "rollouts", metadata,
    Column("rollout_id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint", String(100), nullable=False),
    Column("model", String(200), nullable=False),
    Column("champion", Integer, nullable=False),
    Column("challenger", Integer, nullable=False),
    Column("plan_json", Text, nullable=False),
    Column("salt", String(64), nullable=False),
    Column("status", String(12), nullable=False),
    Column("step", Integer, nullable=False),
    Column("step_started_at", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(63), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("ended_at", String(32), nullable=True),
    Column("outcome_json", Text, nullable=False, server_default="{}"),
    # the champion/challenger comparison and its recommendation (migration 0019)
    Column("comparison_json", Text, nullable=False, server_default="{}"),
    Index("ix_rollouts_endpoint", "endpoint", "rollout_id"),
    Index("ux_rollouts_active", "endpoint", unique=True,
          **_where("status IN ('running', 'paused')")),
    _version_of("rollouts_challenger", "model", "challenger"),
)

# Leases of singleton workers (the rollout controller): one holder until `expires_at`,
# taken over by compare-and-set once it expired.
leases = Table(
    "leases", metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revision", Integer, nullable=False),
)

# Retrainings started by red alerts (migration 0018): one per alert, held by the unique
# key on alert_id; each step by compare-and-set on the revision.
retrainings = Table(
    "retrainings", metadata,
    Column("retraining_id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.alert_id", name="fk_retrainings_alert"),
           nullable=False),
    Column("endpoint", String(100), nullable=False),
    Column("model", String(200), nullable=False),
    Column("metric", String(200), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("status", String(12), nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("started_by", String(63), nullable=False),
    Column("champion", Integer, nullable=True),
    Column("version", Integer, nullable=True),
    Column("run_id", String(32), nullable=True),
    Column("request_id", Integer, nullable=True),
    Column("rollout_id", Integer, nullable=True),
    Column("updated_at", String(32), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("outcome_json", Text, nullable=False, server_default="{}"),
    Index("ix_retrainings_endpoint", "endpoint", "retraining_id"),
    UniqueConstraint("alert_id", name="uq_retrainings_alert"),
)
