"""Evidence stored before records had a schema version still loads, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bankml.core.canonical import canonical_json
from bankml.core.manifest import MANIFEST_SCHEMA_VERSION
from bankml.core.registry import Signature
from bankml.registry import Registry
from bankml.stores.artifacts import FsspecArtifactStore
from bankml.stores.sql import SqlMetadataStore
from support.evidence_v1 import MANIFEST_V1

MODEL_ROW = """
INSERT INTO models (name, domain, risk_tier, owner, developer, intended_use, limitations,
                    protected_attributes_json)
VALUES ('pd', 'credit', 1, 'retail', 'alice', '', '', '[]')
"""
VERSION_ROW = """
INSERT INTO model_versions (name, number, artifact_sha256, flavour, created_at, created_by,
                            stage, metrics_json, inputs_json, signature_json, dataset_sha256,
                            manifest_json, tags_json)
VALUES ('pd', :number, :digest, 'bankml-bundle', '2026-01-05T10:00:00.000000Z', 'alice',
        'dev', '{}', '["income"]', :signature, :dataset, :manifest, '{}')
"""


@pytest.fixture
def store(metadata_url: str) -> Iterator[SqlMetadataStore]:
    """A migrated store holding three version-1 rows: trained, by hand, by hand with views."""
    migrated = SqlMetadataStore(metadata_url)
    migrated.migrate()
    engine = create_engine(metadata_url)
    signature = canonical_json(Signature.of_names(["income"]).describe())
    with engine.begin() as connection:
        connection.execute(text(MODEL_ROW))
        for number, manifest in ((1, canonical_json(MANIFEST_V1)), (2, "{}"),
                                 (3, '{"feature_views":["customer@1"]}')):
            connection.execute(text(VERSION_ROW), {
                "number": number, "digest": f"{number:064x}", "signature": signature,
                "dataset": MANIFEST_V1["dataset_sha256"], "manifest": manifest})
    engine.dispose()
    yield migrated
    migrated.close()


@pytest.fixture
def registry(store: SqlMetadataStore, tmp_path: Path) -> Registry:
    return Registry(store, FsspecArtifactStore(str(tmp_path)))


def test_version_1_manifest_row_loads_typed(registry: Registry) -> None:
    """A trained version's version-1 manifest is read through the typed fields."""
    version = registry.get("pd@1")

    assert version.manifest is not None
    assert version.manifest.schema_version == 1
    assert (version.manifest.seed, version.manifest.spec_sha256) == (
        7, MANIFEST_V1["spec_sha256"])
    assert version.describe()["spec_sha256"] == MANIFEST_V1["spec_sha256"]
    assert registry.lineage("pd@1").data_source == version.manifest.data_source


@pytest.mark.parametrize(("ref", "views"), [("pd@2", ()), ("pd@3", ("customer@1",))])
def test_rows_registered_by_hand_load_without_manifest(registry: Registry, ref: str,
                                                       views: tuple[str, ...]) -> None:
    """`{}` and `{"feature_views": [...]}` rows load as versions without a manifest."""
    version = registry.get(ref)

    assert version.manifest is None
    assert version.feature_views == views
    assert registry.lineage(ref).data_source is None


def test_new_rows_carry_the_schema_version(registry: Registry, store: SqlMetadataStore,
                                           metadata_url: str) -> None:
    """A version stored now keeps its manifest in the current layout, with its version."""
    old = registry.get("pd@1")
    assert old.manifest is not None
    with store.transaction() as tx:
        tx.models.add(replace(old, number=4, manifest=replace(
            old.manifest, schema_version=MANIFEST_SCHEMA_VERSION)))
    engine = create_engine(metadata_url)
    with engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT manifest_json FROM model_versions WHERE number = 4")).scalar_one()
    engine.dispose()

    assert json.loads(stored) == {**MANIFEST_V1, "schema_version": MANIFEST_SCHEMA_VERSION}
    assert registry.get("pd@4").manifest == replace(old.manifest,
                                                    schema_version=MANIFEST_SCHEMA_VERSION)
