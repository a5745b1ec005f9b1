"""Migration 0015 marks the runs stored before it as developer self-tests where their
author built the model, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from bankml import Platform
from bankml.stores.sql.migrations import downgrade_to, upgrade_to
from support.evidence import stored_run
from support.models import register_tiny
from support.people import staff


def test_runs_before_0015_are_marked_from_who_built_the_model(metadata_url: str,
                                                              tmp_path: Path) -> None:
    """A run by the model's developer, stored before 0015, reads as a self-test after
    it; a validator's run does not."""
    with Platform.open(tmp_path / "home", metadata_url=metadata_url) as platform:
        dana, vera = staff(platform, "dana"), staff(platform, "vera")
        version = register_tiny(platform, dana)
        own, theirs = (stored_run(platform, dana, version.ref),
                       stored_run(platform, vera, version.ref))
    engine = create_engine(metadata_url)
    with engine.connect() as connection:
        downgrade_to(connection, "0012")
        upgrade_to(connection, "head")
    engine.dispose()

    with Platform.open(tmp_path / "home", metadata_url=metadata_url) as platform:
        marked = {run.run_id: run.self_test for run in platform.validation.runs(version.ref)}

    assert marked == {own.run_id: True, theirs.run_id: False}
