"""Decisions in process: latency by stage, throughput with concurrent callers, verify speed.

    .venv/bin/python benchmarks/decisions.py [--decisions 3000] [--threads 16]
        [--metadata-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--online-url redis://127.0.0.1:6379/0] [--verify 20000] [--verify-rounds 3]
        [--verify-only]

Targets (issue 12): one decision (online lookup of 20 features, score of a 200-tree
LightGBM on 30 inputs, policy, reason codes for adverse decisions, durable log) p99 under
3 ms, with a breakdown by stage; `decisions verify` at least 20,000 decisions/s.

The workload is `serving_home.py`'s. Decisions are made one at a time by one caller (the
latency figures), then by `--threads` callers at once (throughput: they share log
commits). The log's stage is the wait for the commit that makes the decision durable;
on SQLite that is an fsync of this machine's disk, whose own latency is measured too.
`decisions verify` then checks the proofs of, and re-scores, `--verify` logged decisions
(best of `--verify-rounds`, with the CPU time of all threads beside the wall time: on a
shared machine the CPU time is the steadier figure).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform as host
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from serving_home import ENDPOINT, Shape, build, fresh_schema

from bankml import Platform
from bankml.stores.online import RedisOnlineStore

P99_TARGET_MS = 3.0
VERIFY_TARGET = 20_000


def percentiles(values: list[float]) -> str:
    ordered = np.sort(np.asarray(values))
    return (f"p50 {np.percentile(ordered, 50):7.3f}  p90 {np.percentile(ordered, 90):7.3f}  "
            f"p99 {np.percentile(ordered, 99):7.3f}  max {ordered[-1]:7.3f}")


def fsync_latency(folder: Path, count: int = 500) -> list[float]:
    """This disk's fsync, alone: the floor under any durable commit."""
    path = folder / "fsync.probe"
    times = []
    with path.open("wb") as probe:
        for _ in range(count):
            probe.write(b"x" * 512)
            probe.flush()
            started = time.perf_counter()
            os.fsync(probe.fileno())
            times.append((time.perf_counter() - started) * 1e3)
    return times


def one_at_a_time(platform: Platform, requests: list[dict], count: int) -> None:
    app = platform.identity.user("bench-app")
    stages: dict[str, list[float]] = defaultdict(list)
    platform.decisions.observe(lambda _e, stage, s: stages[stage].append(s * 1e3))
    for request in requests[:200]:  # warm: model and explainer caches, plans
        platform.decisions.decide(app, ENDPOINT, [request])
    stages.clear()
    totals, adverse = [], 0
    for index in range(count):
        started = time.perf_counter()
        [record] = platform.decisions.decide(app, ENDPOINT, [requests[index % len(requests)]])
        totals.append((time.perf_counter() - started) * 1e3)
        adverse += record.outcome == "decline"
    platform.decisions.observe(lambda *_: None)
    print(f"\nOne caller, {count:,} decisions one at a time ({adverse / count:.0%} declines, "
          "each with reasons), ms:")
    for stage, values in stages.items():
        print(f"  {stage:<9} {percentiles(values)}")
    print(f"  {'total':<9} {percentiles(totals)}")
    p99 = float(np.percentile(totals, 99))
    print(f"  p99 {p99:.3f} ms, target < {P99_TARGET_MS} ms: "
          f"{'met' if p99 < P99_TARGET_MS else 'NOT met'}")


def concurrent(platform: Platform, requests: list[dict], count: int, threads: int) -> None:
    app = platform.identity.user("bench-app")
    batches: list[int] = []
    platform.decision_log.on_commit(lambda committed: batches.append(committed.records))

    def decide(index: int) -> float:
        started = time.perf_counter()
        platform.decisions.decide(app, ENDPOINT, [requests[index % len(requests)]])
        return (time.perf_counter() - started) * 1e3

    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        latencies = list(pool.map(decide, range(count)))
        elapsed = time.perf_counter() - started
    print(f"\n{threads} callers at once, {count:,} decisions: {count / elapsed:,.0f} "
          f"decisions/s; latency ms {percentiles(latencies)}; "
          f"{len(batches):,} commits, {statistics.mean(batches):.1f} records each")


def verify_speed(platform: Platform, requests: list[dict], count: int, rounds: int) -> None:
    engineer = platform.identity.user("eli")
    made = 0
    while made < count:  # batches of 500: setting the log up quickly
        batch = [requests[(made + i) % len(requests)] for i in range(500)]
        platform.decisions.decide(engineer, ENDPOINT, batch)
        made += len(batch)
    with platform.metadata.reading() as tx:
        logged = tx.decisions.count()
    platform.decisions.verify(engineer, endpoint=ENDPOINT)  # warm: model, Arrow's reader
    walls, cpus = [], []
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        report = platform.decisions.verify(engineer, endpoint=ENDPOINT)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    rate, cpu_rate = report.checked / min(walls), report.checked / min(cpus)
    print(f"\ndecisions verify over {logged:,} logged decisions: {report.checked:,} re-scored, "
          f"{report.proofs_checked:,} batch proofs checked, {len(report.mismatches)} "
          f"mismatches; best of {rounds}: {min(walls):.2f} s, {rate:,.0f} decisions/s "
          f"(median {report.checked / statistics.median(walls):,.0f}/s; target >= "
          f"{VERIFY_TARGET:,}: {'met' if rate >= VERIFY_TARGET else 'NOT met'}); CPU time "
          f"(all threads) {min(cpus):.2f} s, {cpu_rate:,.0f} decisions per CPU-second")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=3_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--metadata-url", default=None)
    parser.add_argument("--online-url", default=None)
    parser.add_argument("--verify", type=int, default=20_000,
                        help="decisions to log and verify (0: skip)")
    parser.add_argument("--verify-rounds", type=int, default=3,
                        help="times the log is verified; the best is reported")
    parser.add_argument("--verify-only", action="store_true",
                        help="skip the latency and throughput figures")
    args = parser.parse_args()
    print(f"{host.node()}: {os.cpu_count()} cores, Python {host.python_version()}")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        fsyncs = fsync_latency(folder)
        print(f"fsync of this disk alone, ms: {percentiles(fsyncs)}")
        online = (RedisOnlineStore(args.online_url, prefix=f"bench:{os.getpid()}:")
                  if args.online_url else None)
        overrides = ({"metadata_url": stack.enter_context(fresh_schema(args.metadata_url))}
                     if args.metadata_url else {})
        with Platform.open(folder / "home", online=online, **overrides) as platform:
            started = time.perf_counter()
            home = build(platform, folder, Shape())
            print(f"set up in {time.perf_counter() - started:.1f} s: metadata "
                  f"{platform.settings.resolved_metadata_url.split('://')[0]}, online "
                  f"{type(platform.online).__name__}")
            gc.freeze()  # as `bankml serve` does after start-up
            if not args.verify_only:
                one_at_a_time(platform, home.requests, args.decisions)
                concurrent(platform, home.requests, args.decisions, args.threads)
            if args.verify:
                verify_speed(platform, home.requests, args.verify, args.verify_rounds)


if __name__ == "__main__":
    main()
