"""Labels racing on PostgreSQL: processes that read the same latest version at once still
leave one version per outcome (the unique index on decision and version holds it)."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from support import races
from support.people import staff
from support.served import tiny_endpoint

RACERS = 4

pytestmark = pytest.mark.slow


def test_racing_corrections_store_one_version(tmp_path: Path, postgres_url: str) -> None:
    """Four processes send the same correction for one decision, each having read
    version 1: one stores version 2, the others find it on their retry (duplicates)."""
    later = utc_timestamp(datetime.now(UTC) + timedelta(days=30))
    with Platform.open(tmp_path / "home", metadata_url=postgres_url) as platform:
        tiny_endpoint(platform)
        ops = staff(platform, "ops")
        [record] = platform.decisions.decide(ops, "pd-decisions",
                                             [{"customer_id": "c1", "x0": 0.3}])
        platform.labels.ingest(ops, [{"decision_id": record.decision_id, "outcome": 0,
                                      "observed_at": later}], endpoint="pd-decisions")

    context = multiprocessing.get_context("spawn")
    barrier, outcomes = context.Barrier(RACERS), context.Queue()
    racers = [context.Process(target=races.report, args=(
        races.ingest_label, outcomes, str(tmp_path / "home"), postgres_url,
        record.decision_id, 1, later, barrier)) for _ in range(RACERS)]
    for racer in racers:
        racer.start()
    counted = Counter(outcomes.get(timeout=races.BARRIER_TIMEOUT_S * 2) for _ in racers)
    for racer in racers:
        racer.join()

    assert counted == Counter({"correction": 1, "duplicate": RACERS - 1})
    with Platform.open(tmp_path / "home", metadata_url=postgres_url) as platform:
        history = platform.labels.history(staff(platform, "ops"), record.decision_id)
    assert [(label.version, label.outcome) for label in history] == [(1, 0), (2, 1)]
