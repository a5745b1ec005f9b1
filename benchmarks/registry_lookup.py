"""Registry speed: alias lookup among 10,000 versions, and registering a version.

    .venv/bin/python benchmarks/registry_lookup.py [--versions N] [--postgres URL]

Targets (issue: registry): lookup of a version by alias with 10,000 versions present,
p99 under 0.3 ms in-process on SQLite (PostgreSQL reported); registering a version
(metadata and a small artifact) under 10 ms. Each figure is the median of 3 runs.
"""

from __future__ import annotations

import argparse
import platform as host
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sqlalchemy import create_engine, text

from bankml import Platform
from bankml.core.manifest import DataSource, Manifest
from bankml.core.registry import Domain, Model, ModelVersion, Signature, Stage
from bankml.training.environment import code_version, environment
from bankml.training.spec import load_spec

REPEATS = 3
MODELS = 100
LOOKUPS = 5_000
REGISTRATIONS = 200
SCHEMA = "bankml_bench_registry"


def fill(bankml: Platform, versions: int) -> None:
    """`versions` versions over MODELS models, each model's last one aliased champion."""
    per_model = versions // MODELS
    signature = Signature.of_names([f"x{i}" for i in range(30)])
    # A manifest of realistic size: the example spec, dependencies, platform.
    example = Path(__file__).parents[1] / "examples" / "german_credit_pd.yaml"
    manifest = Manifest(
        spec=load_spec(example).spec.described(), spec_sha256="s" * 64,
        spec_folder=str(example.parent), data_source=DataSource(
            dataset="german_credit", origin="synthetic", description="benchmark"),
        dataset_sha256="d" * 64, dataset_rows=1_000, feature_refs={}, feature_views=(),
        code=code_version(), environment=environment(), seed=7, threads=1,
        splits={"train": 600, "holdout": 150, "test": 250},
        dataset_snapshot_sha256="e" * 64)
    with bankml.metadata.transaction() as tx:
        for m in range(MODELS):
            name = f"model-{m}"
            tx.models.add_model(Model(name=name, domain=Domain.CREDIT, risk_tier=2,
                                      owner="bench", developer="bench"))
            for number in range(1, per_model + 1):
                tx.models.add(ModelVersion(
                    name=name, number=number, artifact_sha256=f"{number:064x}",
                    flavour="bankml-bundle", created_at="2026-01-01T00:00:00.000000Z",
                    created_by="bench", stage=Stage.DEV, metrics={"test.auc": 0.7},
                    signature=signature, dataset_sha256="d" * 64,
                    manifest=manifest))
            tx.models.set_alias(name, "champion", per_model, set_at="2026-01-01T00:00:00Z",
                                set_by="bench")


def lookup_p99_ms(bankml: Platform) -> float:
    rng = np.random.default_rng(0)
    refs = [f"model-{m}@champion" for m in rng.integers(0, MODELS, LOOKUPS)]
    timings = []
    for ref in refs:
        started = time.perf_counter()
        bankml.registry.get(ref)
        timings.append(time.perf_counter() - started)
    return float(np.percentile(timings, 99) * 1000)


def register_ms(bankml: Platform) -> tuple[float, float]:
    x = np.random.default_rng(1).normal(size=(200, 5))
    model = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    timings = []
    for index in range(REGISTRATIONS):
        started = time.perf_counter()
        bankml.registry.register_sklearn("registered", model, inputs=[f"x{i}" for i in range(5)],
                                         metrics={"auc": 0.5 + index / 1e6}, actor="bench")
        timings.append(time.perf_counter() - started)
    return float(np.median(timings) * 1000), float(np.percentile(timings, 99) * 1000)


def measure(url: str | None, versions: int) -> dict[str, float]:
    lookups, medians, p99s = [], [], []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as home:
            if url:
                _fresh_schema(url)
            overrides = {"metadata_url": _in_schema(url)} if url else {}
            with Platform.open(Path(home), **overrides) as bankml:
                fill(bankml, versions)
                lookups.append(lookup_p99_ms(bankml))
                median, p99 = register_ms(bankml)
                medians.append(median)
                p99s.append(p99)
    if url:
        _drop_schema(url)
    return {"alias lookup p99 (ms)": statistics.median(lookups),
            "register median (ms)": statistics.median(medians),
            "register p99 (ms)": statistics.median(p99s)}


def _fresh_schema(url: str) -> None:
    _drop_schema(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    engine.dispose()


def _drop_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    engine.dispose()


def _in_schema(url: str | None) -> str | None:
    if url is None:
        return None
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{SCHEMA}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL URL")
    args = parser.parse_args()
    print(f"{host.platform()}, Python {host.python_version()}, {args.versions:,} versions "
          f"over {MODELS} models, median of {REPEATS} runs")
    targets = [(None, "SQLite")] + ([(args.postgres, "PostgreSQL")] if args.postgres else [])
    for url, label in targets:
        for name, value in measure(url, args.versions).items():
            print(f"{label:<10} {name:<24} {value:8.3f}")


if __name__ == "__main__":
    main()
