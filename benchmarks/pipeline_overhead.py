"""Pipeline overhead: `bankml train` of a LightGBM spec against a bare LightGBM fit.

    .venv/bin/python benchmarks/pipeline_overhead.py [--rows N] [--threads T]

Target (issue: registry): on the same 100,000 x 30 frame, the whole pipeline (read Parquet,
checks, dataset digest, out-of-time split and holdout, preprocessing, fit, evaluation on
holdout and test, serialisation, dataset snapshot, registration) takes at most 1.2x a bare
`lightgbm.train` with the same parameters on the same training rows.
Each figure is the median of 3 runs.
"""

from __future__ import annotations

import argparse
import platform as host
import statistics
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from bankml import Platform
from bankml.training.estimators import LIGHTGBM_DEFAULTS
from bankml.training.spec import load_spec

REPEATS = 3
COLUMNS = 30
ROUNDS = 200
SEED = 7
SPEC = """
model: {name: bench, domain: credit, risk_tier: 3, owner: bench, developer: bench}
source: {path: frame.parquet, entity: [id], event_timestamp: date, label: y}
inputs: [COLUMNS]
split:
  out_of_time: {test_from: 2024-10-01}
  holdout: {share: 0.2}
preprocessing:
  numeric: {impute: IMPUTE, scale: false}
estimator:
  kind: lightgbm
  params: {n_estimators: ROUNDS, learning_rate: 0.05, num_leaves: 31}
decision_policy: {kind: approve_refer_decline, approve_below: 0.1, decline_from: 0.5}
seed: SEED
threads: THREADS
"""


def frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    values = rng.normal(size=(rows, COLUMNS))
    # No gaps: with them LightGBM alone would fit a different (NaN-aware) problem than the
    # pipeline's imputed one, and the ratio would compare unlike work.
    data = pd.DataFrame(values, columns=[f"x{i}" for i in range(COLUMNS)])
    logit = values[:, :5].sum(axis=1) - 1.5
    data["y"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    data["id"] = np.arange(rows)
    days = rng.integers(0, 731, rows)
    data["date"] = pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(days, unit="D")
    return data


def pipeline_s(folder: Path, threads: int, impute: str) -> tuple[float, list[int]]:
    spec = folder / "spec.yaml"
    spec.write_text(SPEC.replace("COLUMNS", ", ".join(f"x{i}" for i in range(COLUMNS)))
                    .replace("ROUNDS", str(ROUNDS)).replace("SEED", str(SEED))
                    .replace("THREADS", str(threads)).replace("IMPUTE", impute))
    with Platform.open(folder / "home") as bankml:
        started = time.perf_counter()
        version = bankml.training.train(load_spec(spec), actor="bench")
        elapsed = time.perf_counter() - started
    return elapsed, [int(version.metrics["rows.train"])]


def bare_s(data: pd.DataFrame, train_rows: int, threads: int) -> float:
    """The same parameters on the same number of rows, from numpy already in memory."""
    x = data[[f"x{i}" for i in range(COLUMNS)]].to_numpy()[:train_rows]
    y = data["y"].to_numpy()[:train_rows]
    params = {**LIGHTGBM_DEFAULTS, "learning_rate": 0.05, "num_leaves": 31, "seed": SEED,
              "num_threads": threads}
    started = time.perf_counter()
    lgb.train(params, lgb.Dataset(x, label=y), num_boost_round=ROUNDS)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--impute", choices=["none", "median"], default="none",
                        help="numeric imputation in the spec (none: LightGBM's own handling)")
    args = parser.parse_args()
    data = frame(args.rows)
    pipelines, bares = [], []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as folder:
            data.to_parquet(Path(folder) / "frame.parquet", index=False)
            elapsed, [train_rows] = pipeline_s(Path(folder), args.threads, args.impute)
        pipelines.append(elapsed)
        bares.append(bare_s(data, train_rows, args.threads))
    pipeline, bare = statistics.median(pipelines), statistics.median(bares)
    print(f"{host.platform()}, Python {host.python_version()}, {args.rows:,} x {COLUMNS}, "
          f"{ROUNDS} rounds, {args.threads} threads, impute {args.impute}, "
          f"median of {REPEATS} runs")
    print(f"bare lightgbm.train on the training rows  {bare:7.2f} s")
    print(f"bankml train (whole pipeline)             {pipeline:7.2f} s")
    print(f"ratio                                     {pipeline / bare:7.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
