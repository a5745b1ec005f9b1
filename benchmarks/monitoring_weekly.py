"""A weekly monitoring run over many endpoints, streamed from the decision log.

    PYTHONPATH=src python benchmarks/monitoring_weekly.py [--endpoints 1,5,20,50]
        [--decisions 200000] [--labelled 0.3] [--metadata-url ...] [--fresh] [--profile]
        [--workers N]

Target (issue 14): 50 endpoints x 200,000 decisions each under 2 minutes on 2 cores, with
bounded memory: one endpoint's window is held at a time, as columns per model version.

Set-up (not timed): the German credit example trained and in prod, behind as many
endpoints as the largest count asked for. A pool of real decisions is made through the
decisions service; each endpoint's week is then written to the decision log as copies of
the pool's records (new ids, customers and times spread over the week, the inputs, scores
and outcomes of real decisions), with `--labelled` of them given an outcome. The log's
indexes that monitoring never reads are dropped first, to write faster, and on SQLite
the endpoints after the first ten copy one of those ten's week inside the database (new
ids, the same times and records: the run reads and measures each endpoint in full). On SQLite the
home is kept in the benchmark's own folder under the system's temporary directory and
grown as needed, so a later run skips the set-up (`--fresh` rebuilds it); its stored
monitoring runs and alerts are cleared before each measurement. Timed, for each endpoint
count N: `platform.monitor.run` over the first N endpoints, in a fresh process (so its peak
RSS is the run's own), with the policy's drift, quality, performance, fairness and KPI
metrics; when N is every endpoint of the home, as one run over all of them, in `--workers`
worker processes (above 1 only then: a run measures every endpoint or one). Peak RSS that
stays flat as N grows shows that memory is bounded by one endpoint per process.
Prints each N's time, decisions per second, CPU time (user + system of the run, its
worker processes included: a steadier figure than the time on a loaded machine), peak RSS
of the run's process and, with workers, of the largest worker (the run holds about the
parent's plus one worker's per worker), the machine's load average, and the
extrapolation of the largest N to 50 x 200,000.

Set-up of the cached home at 50 x 200,000 takes about 14 minutes (and some 45 GB of disk
while its WAL is folded in); build it once (`--endpoints 5` first is a quick check), then
measure `--endpoints 50` and `--endpoints 50 --workers 2`.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import pstats
import resource
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.decisions import DecisionRecord
from bankml.core.registry import ModelVersion, Stage
from bankml.datasets import load_german_credit
from bankml.monitoring.policy import DEFAULT, parse_policy
from bankml.registry.lifecycle import move
from bankml.serving.endpoint_files import load_endpoint
from bankml.stores.sql.tables import (
    alert_deliveries,
    alerts,
    decisions,
    labels,
    monitoring_metrics,
    monitoring_runs,
)

EXAMPLES = Path(str(files("bankml") / "examples"))
TARGET_S, TARGET_ENDPOINTS, TARGET_DECISIONS = 120.0, 50, 200_000
POOL = 2_000
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
CHUNK = 20_000
DISTINCT = 10  # endpoints written from Python; the others copy one of them inside SQLite


def _pool(platform: Platform, version: ModelVersion, endpoint: str) -> list[DecisionRecord]:
    """Real decisions on real applicants (the development sample's rows that fit)."""
    frame = load_german_credit(None).frame
    ops = platform.identity.user("ops")
    requests: list[dict[str, Any]] = []
    for i, row in enumerate(frame.to_dict(orient="records") * 3):
        request = {"customer_id": f"pool-{i}",
                   **{n: row[n].item() if hasattr(row[n], "item") else row[n]
                      for n in version.inputs}}
        if all(s.categories is None or request[s.name] in s.categories
               for s in version.signature.inputs):
            requests.append(request)
        if len(requests) == POOL:
            break
    return [r for start in range(0, len(requests), 500)
            for r in platform.decisions.decide(ops, endpoint, requests[start:start + 500])]


def _write_week(platform: Platform, pool: list[DecisionRecord], endpoint: str, *,
                count: int, labelled: float, seed: int) -> None:
    """`count` copies of pool records on `endpoint` over the week before AS_OF."""
    rng = np.random.default_rng(seed)
    start = AS_OF - timedelta(days=7)
    offsets = np.sort(rng.uniform(0, 7 * 86400, size=count))
    chosen = rng.integers(0, len(pool), size=count)
    labelled_mask = rng.random(count) < labelled
    observed = utc_timestamp(AS_OF)
    engine = platform.metadata._engine
    with engine.begin() as connection:  # the chunks an interrupted set-up committed
        done = int(connection.execute(select(func.count()).select_from(decisions).where(
            decisions.c.endpoint == endpoint)).scalar_one())
        if seed >= DISTINCT and not done and engine.dialect.name == "sqlite":
            _copy_week(connection, f"credit-{seed % DISTINCT:02d}", endpoint, seed)
            return
    for first in range(done, count, CHUNK):
        rows, outcomes = [], []
        for i in range(first, min(first + CHUNK, count)):
            record = pool[chosen[i]]
            # unique and in writing order, so the primary key's index grows at its end
            decision_id = f"{seed:04d}{i:010d}{secrets.token_hex(9)}"
            rows.append({
                "decision_id": decision_id,
                "decided_at": utc_timestamp(start + timedelta(seconds=float(offsets[i]))),
                "customer_pseudo_id": secrets.token_hex(32), "model_name": record.model_name,
                "model_version": record.model_version,
                "artifact_sha256": record.artifact_sha256, "inputs_json": record.inputs_json,
                "score": record.score, "outcome": str(record.outcome),
                "policy_json": record.policy_json, "schema_version": record.schema_version,
                "endpoint": endpoint, "endpoint_version": record.endpoint_version,
                "route": record.route, "received_at": record.received_at,
                "request_json": record.request_json, "features_json": record.features_json,
                "reasons_json": record.reasons_json, "requested_by": record.requested_by,
                "code_version": record.code_version, "latency_us": record.latency_us})
            if labelled_mask[i]:
                outcomes.append({
                    "decision_id": decision_id, "endpoint": endpoint, "version": 1,
                    "outcome": int(rng.random() < record.score), "observed_at": observed,
                    "ingested_at": observed, "ingested_by": "bench", "source": "benchmark"})
        with engine.begin() as connection:
            connection.execute(decisions.insert(), rows)
            if outcomes:
                connection.execute(labels.insert(), outcomes)


def _copy_week(connection: Any, source: str, endpoint: str, seed: int) -> None:
    """The week of `source` (and its labels) again on `endpoint`, copied inside SQLite
    under new ids: writing ten million records from Python took most of an hour."""
    prefix = f"copy{seed:04d}-"  # before the whole id: unique per endpoint
    keep = [c.name for c in decisions.columns if c.name not in ("decision_id", "endpoint")]
    connection.exec_driver_sql(
        f"INSERT INTO decisions (decision_id, endpoint, {', '.join(keep)}) "
        f"SELECT ? || decision_id, ?, {', '.join(keep)} FROM decisions "
        "WHERE endpoint = ? AND decided_at < ?", (prefix, endpoint, source, utc_timestamp(AS_OF)))
    kept = [c.name for c in labels.columns
            if c.name not in ("label_id", "decision_id", "endpoint")]
    connection.exec_driver_sql(
        f"INSERT INTO labels (decision_id, endpoint, {', '.join(kept)}) "
        f"SELECT ? || decision_id, ?, {', '.join(kept)} FROM labels "
        "WHERE endpoint = ?", (prefix, endpoint, source))


def build(home: Path, url: str | None, endpoints: int, count: int, labelled: float) -> None:
    """The home with at least `endpoints` endpoints of `count` decisions each, grown from
    what an earlier run left there."""
    marker = home / "benchmark.json"
    written = json.loads(marker.read_text())["endpoints"] if marker.exists() else 0
    with Platform.open(home, **({"metadata_url": url} if url else {})) as platform:
        pool: list[DecisionRecord] = []
        template = load_endpoint(EXAMPLES / "german_credit_pd_endpoint.yaml")
        names = [f"credit-{i:02d}" for i in range(endpoints)]
        if written:
            ops = platform.identity.user("ops")
            pool = _stored_pool(platform, names[0]) if written < endpoints else []
        else:
            _people(platform)
            ops = platform.identity.user("ops")
            version = platform.training.train(platform.identity.user("dana"),
                                              EXAMPLES / "german_credit_pd.yaml")
            for stage in (Stage.STAGING, Stage.PROD):
                with platform.metadata.transaction() as tx:
                    move(tx, version.ref, stage, actor="ops",
                         moment=utc_timestamp(datetime.now(UTC)))
            platform.registry.set_alias(ops, version.name, "champion", version.number)
        for name in names[written:]:
            platform.endpoints.apply(ops, replace(template, name=name))
        _drop_write_indexes(platform)
        if not written:
            pool = _pool(platform, platform.registry.get(version.ref), names[0])
        for seed, name in enumerate(names[written:], start=written):
            _write_week(platform, pool, name, count=count, labelled=labelled, seed=seed)
            marker.write_text(json.dumps({"endpoints": seed + 1}))


def _drop_write_indexes(platform: Platform) -> None:
    """Drop the log's indexes that the monitoring read never uses (by customer, model,
    batch, idempotency key): bulk-writing ten million records through them took most of
    the set-up. The read's own index (endpoint, decided_at) and the key stay."""
    with platform.metadata._engine.begin() as connection:
        for index in ("ix_decisions_customer", "ix_decisions_model", "ix_decisions_batch",
                      "ux_decisions_idempotency"):
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")


def _stored_pool(platform: Platform, endpoint: str) -> list[DecisionRecord]:
    """The pool an earlier set-up decided: after the measured week, on the first endpoint."""
    with platform.metadata.reading() as tx:
        return list(tx.decisions.records(endpoint=endpoint, since=utc_timestamp(AS_OF)))


def _forget_runs(home: Path, url: str | None) -> None:
    """Clear the runs and alerts of earlier measurements, so that every window is measured
    again (a stored window is otherwise returned as it is)."""
    with (Platform.open(home, **({"metadata_url": url} if url else {})) as platform,
          platform.metadata._engine.begin() as connection):
        for table in (alert_deliveries, alerts, monitoring_metrics, monitoring_runs):
            connection.execute(table.delete())


def _people(platform: Platform) -> None:
    from bankml.core.identity import Principal, Role  # noqa: PLC0415

    with platform.metadata.transaction() as tx:
        for name, role in (("dana", Role.DATA_SCIENTIST), ("ops", Role.ML_ENGINEER),
                           ("mira", Role.MODEL_RISK)):
            tx.users.add(Principal(name=name, roles=frozenset({role})),
                         "2026-01-01T00:00:00Z")


def measure(home: str, url: str | None, endpoints: int, profile: bool, answer: Any, *,
            workers: int = 1) -> None:
    """In a fresh process: the timed run over the first `endpoints` endpoints (all of them
    in one run when that is every endpoint of the home), its seconds, decisions, CPU time
    (this process's and its worker processes') and peak RSS (this process's, and the
    largest of its workers')."""
    with Platform.open(home, **({"metadata_url": url} if url else {})) as platform:
        every = sorted(e.name for e in _endpoints(platform))
        names = every[:endpoints]
        if workers > 1 and names != every:
            answer.put({"error": f"--workers {workers} measures every endpoint of the home "
                                 f"({len(every)}) in one run: ask for --endpoints {len(every)}"})
            return
        policy = parse_policy(DEFAULT.read_text().replace(
            "maturity_days: {}", "maturity_days: {" + ", ".join(
                f"{name}: 0" for name in names) + "}"), source="benchmark")
        mira = platform.identity.user("mira")
        profiler = cProfile.Profile() if profile else None
        used = _cpu_s()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        if names == every:
            runs = platform.monitor.run(mira, as_of=AS_OF, window_days=7, policy=policy,
                                        workers=workers)
        else:
            runs = [run for name in names for run in platform.monitor.run(
                mira, endpoint=name, as_of=AS_OF, window_days=7, policy=policy)]
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
        cpu = _cpu_s() - used  # the workers have ended (and been waited for) by now
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    answer.put({"endpoints": endpoints, "workers": workers, "seconds": elapsed,
                "cpu_seconds": cpu,
                "decisions": sum(r.decisions for r in runs), "runs": len(runs),
                "points": sum(r.greens + r.ambers + r.reds for r in runs),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "worker_peak_rss_mb": (
                    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                    if workers > 1 else None),
                "load_average": os.getloadavg()})


def _cpu_s() -> float:
    """User and system CPU seconds of this process and of its children that have ended."""
    return sum(r.ru_utime + r.ru_stime for r in (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN)))


def _endpoints(platform: Platform) -> list[Any]:
    with platform.metadata.reading() as tx:
        return list({e.name: e for e in tx.endpoints.all()}.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoints", default="1,5,20",
                        help="endpoint counts to measure, comma-separated")
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--labelled", type=float, default=0.3)
    parser.add_argument("--metadata-url", default=None)
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached home")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes of the run (above 1: every endpoint of the "
                             "home in one run)")
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.endpoints.split(",")})
    with tempfile.TemporaryDirectory() as scratch:
        # SQLite: the home is cached between runs (10 million decisions take minutes to
        # write); a PostgreSQL run builds afresh beside a throwaway folder
        folder = (Path(scratch) if args.metadata_url else Path(tempfile.gettempdir())
                  / "bankml-benchmark-monitoring-weekly"
                  / f"{args.decisions}-decisions-{args.labelled:g}-labelled")
        if args.fresh and not args.metadata_url:
            shutil.rmtree(folder, ignore_errors=True)
        home = folder / "home"
        started = time.perf_counter()
        build(home, args.metadata_url, counts[-1], args.decisions, args.labelled)
        print(f"set-up: {counts[-1]} endpoints x {args.decisions:,} decisions ready in "
              f"{time.perf_counter() - started:.1f} s ({home})", flush=True)
        found = [_measured(home, args.metadata_url, n, args.profile, args.workers)
                 for n in counts]
    for one in found:
        if "error" in one:
            sys.exit(one["error"])
        rate = one["decisions"] / one["seconds"]
        print(json.dumps(one))
        workers = (f", largest worker {one['worker_peak_rss_mb']:.0f} MB"
                   if one["workers"] > 1 else "")
        print(f"weekly run: {one['runs']} endpoints, {one['workers']} worker(s), "
              f"{one['decisions']:,} decisions in {one['seconds']:.1f} s ({rate:,.0f} "
              f"decisions/s, CPU {one['cpu_seconds']:.1f} s), peak RSS "
              f"{one['peak_rss_mb']:.0f} MB{workers}, load average "
              + " ".join(f"{x:.2f}" for x in one["load_average"]))
    largest = found[-1]
    full = TARGET_ENDPOINTS * TARGET_DECISIONS * largest["seconds"] / largest["decisions"]
    whole = largest["decisions"] == TARGET_ENDPOINTS * TARGET_DECISIONS
    print(f"{'measured' if whole else 'extrapolated'} for {TARGET_ENDPOINTS} x "
          f"{TARGET_DECISIONS:,}: {full:.0f} s "
          f"(target {TARGET_S:.0f} s: {'met' if full <= TARGET_S else 'NOT met'})")


def _measured(home: Path, url: str | None, endpoints: int, profile: bool,
              workers: int) -> dict[str, Any]:
    _forget_runs(home, url)
    context = multiprocessing.get_context("spawn")
    answer = context.Queue()
    child = context.Process(target=measure, args=(str(home), url, endpoints, profile, answer),
                            kwargs={"workers": workers})
    child.start()
    found: dict[str, Any] = answer.get()
    child.join()
    return found


if __name__ == "__main__":
    sys.exit(main())
