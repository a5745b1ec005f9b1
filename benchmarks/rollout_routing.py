"""What routing and shadow scoring add to the champion's latency, in one run.

    .venv/bin/python benchmarks/rollout_routing.py [--decisions 2000] [--rounds 3]
        [--metadata-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Target (issue 13): routing and shadow add under 0.2 ms to the champion's p99.

The workload is `serving_home.py`'s (a 200-tree LightGBM, 20 online features, reasons,
durable log), smaller so that set-up stays short. A challenger (the same spec, another
seed) is staged and validated. Then, in interleaved rounds so that the machine's drift
falls on every arm alike, one caller makes `--decisions` decisions one at a time with:

- off: no rollout on the endpoint;
- shadow: a shadow step copying 100 % of requests to the challenger, scored in the shadow
  process (the default, `BANKML_SHADOW_WORKER=process`) while the champion answers;
- shadow-thread: the same, scored on a thread of the serving process
  (`BANKML_SHADOW_WORKER=thread`), through a second platform on the same home;
- canary: a 5 % canary step (only the champion's 95 % are timed: the routing's cost).

Each arm's latencies are pooled over the rounds; the shadow queue's drops are counted.

On SQLite (the default) the shadow's records and the champion's take turns on the one
writer of the file; with `--metadata-url` the home's metadata is a new schema of that
PostgreSQL database, whose writers of different rows never wait for each other.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform as host
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from serving_home import ENDPOINT, BenchHome, Shape, _spec, build, fresh_schema

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.identity import Principal, Role
from bankml.core.registry import Stage
from bankml.core.rollouts import Plan
from bankml.registry.lifecycle import move
from bankml.serving.shadow import ShadowCounts

TARGET_MS = 0.2
SHAPE = Shape(customers=2_000, applications=6_000)
PLANS = {
    "shadow": {"steps": [{"kind": "shadow", "share": 100, "min_decisions": 10**9}]},
    "canary": {"steps": [{"kind": "canary", "share": 5, "min_decisions": 10**9}]},
}


def stage_challenger(platform: Platform, folder: Path) -> str:
    """The champion's spec with another seed: version 2, validated and in staging."""
    admin = platform.identity.user("bench-admin")
    platform.identity.add_user(admin, "vera", roles=frozenset({Role.VALIDATOR}))
    platform.identity.confirm_grant(_second_admin(platform, admin), _pending(platform, admin))
    spec = folder / "challenger.yaml"
    spec.write_text(yaml.safe_dump(_spec(SHAPE, model=f"{ENDPOINT}-pd", seed=8)))
    version = platform.training.train(platform.identity.user("dana"), spec)
    vera = platform.identity.user("vera")
    run = platform.validation.run(vera, version.ref)
    platform.oversight.record_validation(vera, version.ref, passed=True, run_id=run.run_id,
                                         summary="bench")
    with platform.metadata.transaction() as tx:
        move(tx, version.ref, Stage.STAGING, actor="bench",
             moment=utc_timestamp(datetime.now(UTC)), reason="benchmark setup")
    return version.ref


def _second_admin(platform: Platform, admin: Principal) -> Principal:
    platform.identity.add_user(admin, "bench-admin-2", roles=frozenset({Role.ADMIN}))
    return platform.identity.user("bench-admin-2")


def _pending(platform: Platform, admin: Principal) -> int:
    [grant] = platform.identity.grants(admin, username="vera", pending_only=True)
    return grant.grant_id


def timed(platform: Platform, home: BenchHome, count: int, *, champion_only: bool
          ) -> list[tuple[float, float]]:
    """(until handed to the log, until durable) in ms of `count` single decisions; with
    `champion_only`, of the champion's only. Routing and the shadow offer happen before
    the hand-over; the shadow's records then share the log's commits."""
    times = []
    for index in range(count):
        started = time.perf_counter()
        future = platform.decisions.submit(home.app, ENDPOINT,
                                           [home.requests[index % len(home.requests)]])
        handed = time.perf_counter()
        [record] = future.result()
        durable = time.perf_counter()
        if not champion_only or record.route == "champion":
            times.append(((handed - started) * 1e3, (durable - started) * 1e3))
    return times


ARMS = {"off": None, "shadow": "shadow", "shadow-thread": "shadow", "canary": "canary"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--metadata-url", default=None)
    args = parser.parse_args()
    print(f"{host.node()}: {os.cpu_count()} cores, Python {host.python_version()}")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        overrides = ({"metadata_url": stack.enter_context(fresh_schema(args.metadata_url))}
                     if args.metadata_url else {})
        with Platform.open(folder / "home", **overrides) as platform:
            started = time.perf_counter()
            home = build(platform, folder, SHAPE)
            challenger = stage_challenger(platform, folder)
            print(f"set up in {time.perf_counter() - started:.1f} s; metadata "
                  f"{platform.settings.resolved_metadata_url.split('://')[0]}; champion "
                  f"{ENDPOINT}-pd@1, challenger {challenger}")
            with Platform.open(folder / "home", shadow_worker="thread",
                               **overrides) as threaded:
                arms, counts = measure(platform, threaded, home, challenger, args)
    report(arms, counts, args)


def measure(platform: Platform, threaded: Platform, home: BenchHome, challenger: str,
            args: argparse.Namespace) -> tuple[dict[str, list[tuple[float, float]]],
                                               dict[str, ShadowCounts]]:
    """Each arm's latencies over interleaved rounds; the thread arm decides through a
    second platform on the same home whose shadow runs on a thread."""
    gc.freeze()
    arms: dict[str, list[tuple[float, float]]] = {arm: [] for arm in ARMS}
    for warmed in (platform, threaded):
        timed(warmed, home, 300, champion_only=False)  # the champion's caches
    for _ in range(args.rounds):
        for arm, strategy in ARMS.items():
            deciding = threaded if arm == "shadow-thread" else platform
            if strategy is not None:
                deciding.rollouts.deploy(home.engineer, ENDPOINT, challenger,
                                         plan=Plan.from_data(PLANS[strategy]))
                timed(deciding, home, 50, champion_only=False)  # load the challenger
                deciding.decisions.shadow.drain()  # and the shadow process is up: steady
            arms[arm] += timed(deciding, home, args.decisions,
                               champion_only=arm == "canary")
            if strategy is not None:
                deciding.decisions.shadow.drain()
                deciding.rollouts.rollback(home.engineer, ENDPOINT, comment="next arm")
    return arms, {"process": platform.decisions.shadow.counts,
                  "thread": threaded.decisions.shadow.counts}


def report(arms: dict[str, list[tuple[float, float]]], counts: dict[str, ShadowCounts],
           args: argparse.Namespace) -> None:
    print(f"\n{args.rounds} interleaved rounds of {args.decisions:,} decisions per arm, "
          "one caller, champion latency ms:")
    p99: dict[tuple[str, int], float] = {}
    for part, name in enumerate(("handed to the log", "durable")):
        print(f" {name}:")
        for arm, values in arms.items():
            ordered = np.asarray([v[part] for v in values])
            p99[arm, part] = float(np.percentile(ordered, 99))
            print(f"  {arm:<13} n {len(values):>6,}  p50 {np.percentile(ordered, 50):7.3f}  "
                  f"p90 {np.percentile(ordered, 90):7.3f}  p99 {p99[arm, part]:7.3f}")
    for where, found in counts.items():
        print(f"shadow ({where}): {found.offered:,} offered, {found.done:,} scored, "
              f"{found.dropped:,} dropped, {found.failed:,} failed (last: {found.last_error})")
    for part, name in enumerate(("handed to the log", "durable")):
        for arm in ("shadow", "shadow-thread", "canary"):
            added = p99[arm, part] - p99["off", part]
            print(f"  {arm} adds {added:+.3f} ms to the champion's p99 {name} (target < "
                  f"{TARGET_MS} ms: {'met' if added < TARGET_MS else 'NOT met'})")


if __name__ == "__main__":
    main()
