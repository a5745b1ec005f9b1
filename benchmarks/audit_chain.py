"""Audit trail throughput: appends per second and verification speed.

    .venv/bin/python benchmarks/audit_chain.py [--events N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import platform as host
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bankml import Platform

REPEATS = 3
SCHEMA = "bankml_bench"


def measure(url: str | None, events: int) -> dict[str, float]:
    single, batched, verified = [], [], []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as home:
            overrides = {"metadata_url": url} if url else {}
            if url:
                _fresh_schema(url)
            with Platform.open(Path(home), **overrides) as bankml:
                started = time.perf_counter()
                for index in range(events):
                    with bankml.metadata.transaction() as tx:
                        tx.audit.record("bench", "bench.single", f"item:{index}", {"i": index})
                single.append(events / (time.perf_counter() - started))

                started = time.perf_counter()
                with bankml.metadata.transaction() as tx:
                    for index in range(events):
                        tx.audit.record("bench", "bench.batched", f"item:{index}", {"i": index})
                batched.append(events / (time.perf_counter() - started))

                started = time.perf_counter()
                report = bankml.audit.verify()
                verified.append(report.events_checked / (time.perf_counter() - started))
                assert report.is_intact
    return {"appends/s, one per transaction": statistics.median(single),
            "appends/s, one transaction": statistics.median(batched),
            "events verified/s": statistics.median(verified)}


def _fresh_schema(url: str) -> None:
    """A PostgreSQL database is shared between runs: start each from an empty schema."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
                        f"?options=-csearch_path%3D{SCHEMA}")
    args = parser.parse_args()
    print(f"{host.platform()}, {os.cpu_count()} cores, Python {host.python_version()}; "
          f"{args.events:,} events, median of {REPEATS}")
    for name, url in (("SQLite", None), ("PostgreSQL", args.postgres)):
        for label, value in measure(url, args.events).items():
            print(f"{name:<11} {label:<32} {value:>10,.0f}")


if __name__ == "__main__":
    main()
