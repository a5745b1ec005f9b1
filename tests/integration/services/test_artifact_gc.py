"""`artifacts gc` removes what nothing refers to and never what anything does."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.anchors import AnchorReason
from bankml.core.identity import Principal
from support.models import register_tiny
from support.people import staff
from support.trail import audit_events

NOW = timedelta(0)  # a grace of nothing: every object counts as old


@pytest.fixture
def engineer(platform: Platform) -> Principal:
    return staff(platform, "ops")


def _age(platform: Platform, digest: str, hours: float) -> None:
    path = platform.artifacts.location(digest)
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_only_unreferenced_objects_and_stale_incoming_files_go(platform: Platform,
                                                               engineer: Principal) -> None:
    """A model's artifact, an anchor, a result named in an audit payload and an artifact
    named only inside that result stay; an orphan and a never-committed file go."""
    version = register_tiny(platform, staff(platform, "dev"))
    auditor = staff(platform, "aude")
    inner = platform.artifacts.put(b'{"rows": 3}')
    result = platform.artifacts.put(json.dumps({"snapshot": inner}).encode())
    with platform.metadata.transaction() as tx:
        tx.audit.record("ops", "test.stored", "result:1", {"result_sha256": result})
    anchor = platform.audit.anchoring.anchor_head(AnchorReason.REQUESTED)
    assert anchor is not None
    orphan = platform.artifacts.put(b"left behind by a refused registration")
    platform.artifacts.stage(b"written by a crashed run")  # never committed

    collected = platform.artifact_gc.gc(engineer, grace=NOW)

    assert [item.name for item in collected.removed] == [orphan]
    assert len(collected.stale_incoming) == 1
    for kept in (version.artifact_sha256, inner, result, anchor.digest):
        assert platform.artifacts.exists(kept)
    assert not platform.artifacts.exists(orphan)
    assert list(platform.artifacts.staged()) == []
    last = audit_events(platform)[-1]
    assert (last.action, last.payload["removed"]) == ("artifacts.collected", [orphan])
    platform.registry.load(version)
    assert platform.audit.verify(auditor, anchors=True).is_intact


def test_a_dry_run_removes_nothing(platform: Platform, engineer: Principal) -> None:
    """--dry-run names what would go and leaves it, unaudited."""
    orphan = platform.artifacts.put(b"orphan")
    before = audit_events(platform)

    collected = platform.artifact_gc.gc(engineer, dry_run=True, grace=NOW)

    assert [item.name for item in collected.removed] == [orphan]
    assert platform.artifacts.exists(orphan)
    assert audit_events(platform) == before


def test_young_objects_are_kept(platform: Platform, engineer: Principal) -> None:
    """Within the grace period nothing goes: its record may be about to commit."""
    orphan = platform.artifacts.put(b"orphan")

    collected = platform.artifact_gc.gc(engineer, grace=timedelta(hours=1))

    assert (collected.removed, collected.kept_young) == ([], 1)
    assert platform.artifacts.exists(orphan)


def test_bytes_stored_again_are_young_again(platform: Platform, engineer: Principal) -> None:
    """An old orphan whose bytes a writer stores again (to refer to them) is kept."""
    orphan = platform.artifacts.put(b"same bytes")
    _age(platform, orphan, hours=48)
    platform.artifacts.put(b"same bytes")

    collected = platform.artifact_gc.gc(engineer, grace=timedelta(hours=1))

    assert collected.removed == []
    assert platform.artifacts.exists(orphan)


def test_the_command_names_what_it_removed(platform: Platform, engineer: Principal,
                                           tmp_path: Path) -> None:
    """`bankml artifacts gc --grace-hours 0` prints each removed digest."""
    from typer.testing import CliRunner  # noqa: PLC0415 - only this test drives the CLI

    from bankml.cli.main import app  # noqa: PLC0415

    orphan = platform.artifacts.put(b"orphan")
    token = platform.identity.create_token(engineer).plaintext
    env = {"BANKML_METADATA_URL": platform.settings.resolved_metadata_url,
           "BANKML_ARTIFACTS_URI": platform.settings.resolved_artifacts_uri}

    result = CliRunner().invoke(app, ["artifacts", "gc", "--grace-hours", "0", "--home",
                                      str(tmp_path / "other"), "--token", token], env=env)

    assert result.exit_code == 0, result.output
    assert f"Removed {orphan}" in result.output
