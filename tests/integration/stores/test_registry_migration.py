"""Migration 0003 carries the versions of a 0001 database forward, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from bankml.core.registry import Domain, Stage
from bankml.registry import Registry
from bankml.stores.artifacts import FsspecArtifactStore
from bankml.stores.sql import SqlMetadataStore
from bankml.stores.sql.migrations import upgrade_to

OLD_VERSION = """
INSERT INTO model_versions (name, number, artifact_sha256, flavour, created_at, created_by,
                            stage, metrics_json, inputs_json)
VALUES ('pd', 1, :digest, 'sklearn-skops', '2026-01-05T10:00:00.000000Z', 'alice', 'staging',
        :metrics, :inputs)
"""


def test_versions_of_the_foundation_schema_are_carried_forward(empty_metadata_url: str,
                                                               tmp_path: Path) -> None:
    """A version registered before the registry migration keeps its data and gains a model."""
    metadata_url = empty_metadata_url
    engine = create_engine(metadata_url)
    with engine.connect() as connection:
        upgrade_to(connection, "0001")
        connection.execute(text(OLD_VERSION), {"digest": "a" * 64, "metrics": '{"auc":0.7}',
                                              "inputs": '["income","housing"]'})
        connection.commit()
    engine.dispose()
    store = SqlMetadataStore(metadata_url)
    store.migrate()
    registry = Registry(store, FsspecArtifactStore(str(tmp_path)))

    version = registry.get("pd@1")
    model = registry.model("pd")
    [change] = registry.history("pd")
    store.close()

    assert (version.stage, version.inputs, version.metrics) == (
        Stage.STAGING, ["income", "housing"], {"auc": 0.7})
    assert (model.domain, model.risk_tier, model.owner) == (Domain.OTHER, 3, "alice")
    assert (change.source, change.target, change.changed_at) == (
        None, Stage.STAGING, "2026-01-05T10:00:00.000000Z")


def test_stage_history_is_append_only(metadata_url: str, tmp_path: Path) -> None:
    """The database itself refuses to rewrite the stage history."""
    store = SqlMetadataStore(metadata_url)
    store.migrate()
    store.close()
    engine = create_engine(metadata_url)

    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO models VALUES ('pd', 'credit', 1, 'o', 'd', '', '', '[]')"))
        connection.execute(text(
            "INSERT INTO model_versions VALUES ('pd', 1, :digest, 'sklearn-skops', 'x', 'a', "
            "'dev', '{}', '[]', '{}', '', '{}', '{}')"), {"digest": "a" * 64})
        connection.execute(text(
            "INSERT INTO model_stage_changes (name, number, source, target, changed_at, "
            "actor, reason) VALUES ('pd', 1, NULL, 'dev', 'x', 'a', '')"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE model_stage_changes SET target = 'prod'"))
    engine.dispose()
