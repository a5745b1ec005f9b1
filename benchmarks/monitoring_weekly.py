"""A weekly monitoring run over many endpoints, streamed from the decision log.

    PYTHONPATH=src python benchmarks/monitoring_weekly.py [--endpoints 3] [--decisions 200000]
        [--labelled 0.3] [--metadata-url ...] [--profile]

Target (issue 14): 50 endpoints x 200,000 decisions each under 2 minutes on 2 cores, with
bounded memory: one endpoint's window is held at a time, as columns per model version.

Set-up (not timed): the German credit example trained and in prod, behind `--endpoints`
endpoints. A pool of real decisions is made through the decisions service; each endpoint's
week is then written to the decision log as copies of the pool's records (new ids,
customers and times spread over the week, the inputs, scores and outcomes of real
decisions), with `--labelled` of them given an outcome. Timed: `platform.monitor.run`
over every endpoint, in a fresh process (so its peak RSS is the run's own), measured
with the policy's drift, quality, performance, fairness and KPI metrics. Prints the time,
the decisions per second, the peak RSS and the extrapolation to 50 x 200,000.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import pstats
import resource
import secrets
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.decisions import DecisionRecord
from bankml.core.registry import ModelVersion, Stage
from bankml.datasets import load_german_credit
from bankml.monitoring.policy import DEFAULT, parse_policy
from bankml.registry.lifecycle import move
from bankml.serving.endpoint_files import load_endpoint
from bankml.stores.sql.tables import decisions, labels

EXAMPLES = Path(str(files("bankml") / "examples"))
TARGET_S, TARGET_ENDPOINTS, TARGET_DECISIONS = 120.0, 50, 200_000
POOL = 2_000
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
CHUNK = 20_000


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
    for first in range(0, count, CHUNK):
        rows, outcomes = [], []
        for i in range(first, min(first + CHUNK, count)):
            record = pool[chosen[i]]
            decision_id = secrets.token_hex(16)
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


def build(home: Path, url: str | None, endpoints: int, count: int, labelled: float) -> None:
    with Platform.open(home, **({"metadata_url": url} if url else {})) as platform:
        _people(platform)
        dana = platform.identity.user("dana")
        version = platform.training.train(dana, EXAMPLES / "german_credit_pd.yaml")
        for stage in (Stage.STAGING, Stage.PROD):
            with platform.metadata.transaction() as tx:
                move(tx, version.ref, stage, actor="ops",
                     moment=utc_timestamp(datetime.now(UTC)))
        platform.registry.set_alias(platform.identity.user("ops"), version.name, "champion",
                                    version.number)
        template = load_endpoint(EXAMPLES / "german_credit_pd_endpoint.yaml")
        names = [f"credit-{i:02d}" for i in range(endpoints)]
        for name in names:
            platform.endpoints.apply(platform.identity.user("ops"), replace(template, name=name))
        pool = _pool(platform, platform.registry.get(version.ref), names[0])
        for seed, name in enumerate(names):
            _write_week(platform, pool, name, count=count, labelled=labelled, seed=seed)


def _people(platform: Platform) -> None:
    from bankml.core.identity import Principal, Role  # noqa: PLC0415

    with platform.metadata.transaction() as tx:
        for name, role in (("dana", Role.DATA_SCIENTIST), ("ops", Role.ML_ENGINEER),
                           ("mira", Role.MODEL_RISK)):
            tx.users.add(Principal(name=name, roles=frozenset({role})),
                         "2026-01-01T00:00:00Z")


def measure(home: str, url: str | None, profile: bool, answer: Any) -> None:
    """In a fresh process: the timed run, its seconds, decisions and peak RSS."""
    with Platform.open(home, **({"metadata_url": url} if url else {})) as platform:
        policy = parse_policy(DEFAULT.read_text().replace(
            "maturity_days: {}", "maturity_days: {" + ", ".join(
                f"{e.name}: 0" for e in _endpoints(platform)) + "}"), source="benchmark")
        mira = platform.identity.user("mira")
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        runs = platform.monitor.run(mira, as_of=AS_OF, window_days=7, policy=policy)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    answer.put({"seconds": elapsed, "decisions": sum(r.decisions for r in runs),
                "runs": len(runs), "points": sum(r.greens + r.ambers + r.reds for r in runs),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _endpoints(platform: Platform) -> list[Any]:
    with platform.metadata.reading() as tx:
        return list({e.name: e for e in tx.endpoints.all()}.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--labelled", type=float, default=0.3)
    parser.add_argument("--metadata-url", default=None)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        started = time.perf_counter()
        build(home, args.metadata_url, args.endpoints, args.decisions, args.labelled)
        print(f"set-up: {args.endpoints} endpoints x {args.decisions:,} decisions in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        context = multiprocessing.get_context("spawn")
        answer = context.Queue()
        child = context.Process(target=measure, args=(str(home), args.metadata_url,
                                                      args.profile, answer))
        child.start()
        found = answer.get()
        child.join()
    rate = found["decisions"] / found["seconds"]
    full = TARGET_ENDPOINTS * TARGET_DECISIONS / rate
    print(json.dumps(found))
    print(f"weekly run: {found['runs']} endpoints, {found['decisions']:,} decisions in "
          f"{found['seconds']:.1f} s ({rate:,.0f} decisions/s), peak RSS "
          f"{found['peak_rss_mb']:.0f} MB")
    print(f"extrapolated to {TARGET_ENDPOINTS} x {TARGET_DECISIONS:,}: {full:.0f} s "
          f"(target {TARGET_S:.0f} s: {'met' if full <= TARGET_S else 'NOT met'})")


if __name__ == "__main__":
    sys.exit(main())
