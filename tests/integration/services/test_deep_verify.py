"""`verify --deep`: rows beside the chain, changed without touching it, are named; stored
feature code that is not what its audit event recorded is refused before it runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection, text

from bankml import (
    Entity,
    FeatureView,
    Field,
    FileSource,
    Float64,
    Int64,
    OnDemandFeatureView,
    Platform,
)
from bankml.core.canonical import canonical_json
from bankml.core.errors import IntegrityError
from bankml.core.features import definition_digest
from bankml.core.identity import Principal
from bankml.core.registry import Stage
from support.lifecycle import move_to
from support.models import register_tiny
from support.people import staff

BASE = datetime(2024, 1, 1, tzinfo=UTC)


def balance_ratio(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"balance_ratio": frame["balance"] / frame["request_amount"]})


@pytest.fixture
def populated(platform: Platform, tmp_path: Path) -> Principal:
    """People, a model in staging with an alias, and feature views, all made through the
    services; returns an auditor."""
    dev, ops = staff(platform, "dev"), staff(platform, "ops")
    staff(platform, "vera")
    for _ in range(2):
        register_tiny(platform, dev)
    move_to(platform, "pd@1", Stage.STAGING)
    platform.registry.set_alias(ops, "pd", "champion", 1)
    source = tmp_path / "balances.parquet"
    pd.DataFrame({"customer_id": [1], "event_timestamp": pd.to_datetime([BASE]),
                  "balance": [10.0]}).to_parquet(source)
    balances = FeatureView(
        name="balances", entities=(Entity(name="customer", join_keys=("customer_id",),
                                          dtype=Int64),),
        source=FileSource(path=str(source)), schema=(Field(name="balance", dtype=Float64),),
        ttl=timedelta(days=30))
    ratio = OnDemandFeatureView(
        name="ratio", sources=("balances:balance",),
        request_fields=(Field(name="request_amount", dtype=Float64),),
        schema=(Field(name="balance_ratio", dtype=Float64),), function=balance_ratio)
    platform.features.apply(staff(platform, "dev"), [balances, ratio])
    return staff(platform, "aude")


def test_state_made_by_the_services_agrees_with_its_events(platform: Platform,
                                                           populated: Principal) -> None:
    """Nothing touched: every row re-derives from the events that made it."""
    report = platform.audit.verify(populated, deep=True)

    assert report.is_intact, report.disagreements
    assert report.rows_checked is not None
    assert report.rows_checked >= 10


@pytest.mark.parametrize(("statement", "named"), [
    ("UPDATE users SET roles_json = '[\"admin\",\"validator\"]' WHERE username = 'vera'",
     ("users", "vera", "roles_json", "validator")),
    ("UPDATE users SET active = 0 WHERE username = 'dev'", ("users", "dev", "active", "True")),
    ("UPDATE model_versions SET artifact_sha256 = '" + "e" * 64 + "' WHERE number = 2",
     ("model_versions", "pd@2", "artifact_sha256", None)),
    ("UPDATE model_versions SET stage = 'prod' WHERE number = 2",
     ("model_versions", "pd@2", "stage", "dev")),
    ("UPDATE model_aliases SET number = 2 WHERE alias = 'champion'",
     ("model_aliases", "pd@champion", "number", "1")),
])
def test_a_row_changed_beside_the_chain_is_named(
        platform: Platform, populated: Principal, dba: Connection, statement: str,
        named: tuple[str, str, str, str | None]) -> None:
    """Roles given in users.roles_json, a version pointed at another artifact or set to prod
    in its row, an alias moved: the chain verifies, --deep names the row and the column."""
    dba.execute(text(statement))
    dba.commit()

    assert platform.audit.verify(populated).is_intact  # the chain alone cannot tell
    [found] = platform.audit.verify(populated, deep=True).disagreements

    table, key, column, derived = named
    assert (found.table, found.key, found.column) == (table, key, column)
    if derived is not None:
        assert found.derived == derived


def test_swapped_feature_code_is_named_and_never_runs(platform: Platform, populated: Principal,
                                                      dba: Connection, tmp_path: Path) -> None:
    """On-demand code swapped in its row with the row's digest recomputed: --deep names the
    row, and the next resolve refuses the view before any of its code runs."""
    marker = tmp_path / "code-ran"
    row = dba.execute(text("SELECT spec_json FROM feature_view_versions "
                           "WHERE name = 'ratio'")).scalar_one()
    spec = json.loads(row)
    spec["code"] = (f"def balance_ratio(frame):\n    open({str(marker)!r}, 'w').close()\n"
                    "    return frame\n")
    dba.execute(text("UPDATE feature_view_versions SET spec_json = :spec, digest = :digest "
                     "WHERE name = 'ratio'"),
                {"spec": canonical_json(spec), "digest": definition_digest(spec)})
    dba.commit()

    disagreements = platform.audit.verify(populated, deep=True).disagreements
    with Platform.from_settings(platform.settings) as fresh, \
            pytest.raises(IntegrityError, match="ratio@1 is stored with digest") as caught:
        fresh.features.resolve(["ratio:balance_ratio"])

    assert {(d.table, d.key, d.column) for d in disagreements} == {
        ("feature_view_versions", "ratio@1", "digest"),
        ("feature_view_versions", "ratio@1", "spec_json")}
    assert caught.value.rule == "features.definition_recorded"
    assert not marker.exists()
