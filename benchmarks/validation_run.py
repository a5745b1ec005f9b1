"""A full validation run of a LightGBM credit model on 200,000 out-of-time rows.

    .venv/bin/python benchmarks/validation_run.py [--oot-rows N] [--threads T]

Target (issue 5): the whole battery (discrimination with DeLong, calibration per grade,
stability PSI/CSI, concentration, sensitivity, extreme values, monotonicity, global SHAP
on the policy's explain rows, fairness on two protected attributes and their intersection
with bootstrap intervals, storing the result) in under 60 s on 2 cores. The model is
trained once (30 inputs, 200 trees, 2 threads); the figure is the median of 3 runs of
`platform.validation.run`, the model's out-of-time rows rebuilt from its snapshot each time.
"""

from __future__ import annotations

import argparse
import os
import platform as host
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPEATS = 3
COLUMNS = 30
SEED = 7
SPEC = """
model: {name: bench-pd, domain: credit, risk_tier: 3, owner: bench, developer: bench,
        protected_attributes: [sex, age_years]}
source: {path: frame.parquet, entity: [id], event_timestamp: date, label: y}
inputs: [COLUMNS]
split:
  out_of_time: {test_from: 2024-01-01}
  holdout: {share: 0.2}
preprocessing:
  numeric: {impute: median, scale: false}
estimator:
  kind: lightgbm
  params: {n_estimators: 200, learning_rate: 0.05, num_leaves: 31}
decision_policy: {kind: approve_refer_decline, approve_below: 0.1, decline_from: 0.5}
seed: SEED
threads: THREADS
"""


def frame(train_rows: int, oot_rows: int) -> pd.DataFrame:
    rows = train_rows + oot_rows
    rng = np.random.default_rng(SEED)
    values = rng.normal(size=(rows, COLUMNS))
    data = pd.DataFrame(values, columns=[f"x{i}" for i in range(COLUMNS)])
    logit = values[:, :5].sum(axis=1) - 2.0
    data["y"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    data["id"] = np.arange(rows)
    data["sex"] = rng.choice(["female", "male"], size=rows)
    data["age_years"] = rng.integers(18, 80, size=rows)
    start = pd.Timestamp("2022-01-01", tz="UTC")
    days = np.r_[rng.integers(0, 730, train_rows), rng.integers(730, 1095, oot_rows)]
    data["date"] = start + pd.to_timedelta(days, unit="D")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--oot-rows", type=int, default=200_000)
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from bankml import Platform  # noqa: PLC0415 - after the thread limit is set

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        frame(args.train_rows, args.oot_rows).to_parquet(root / "frame.parquet", index=False)
        spec = root / "spec.yaml"
        spec.write_text(SPEC.replace("COLUMNS", ", ".join(f"x{i}" for i in range(COLUMNS)))
                        .replace("SEED", str(SEED)).replace("THREADS", str(args.threads)))
        with Platform.open(root / "home") as bankml:
            version = bankml.training.train(spec, actor="bench")
            times, run = [], None
            for _ in range(REPEATS):
                started = time.perf_counter()
                run = bankml.validation.run(version.ref, actor="bench")
                times.append(time.perf_counter() - started)
            assert run is not None
            result = bankml.validation.result(run)
    print(f"{host.platform()}, Python {host.python_version()}, {os.cpu_count()} cpus, "
          f"{args.threads} threads; LightGBM 200 trees on {COLUMNS} inputs")
    print(f"out-of-time rows {result.scope.out_of_time.rows:,}, tests "
          f"{len(result.tests)}, fairness reports {len(result.out_of_time.fairness)}")
    print(f"validation run: median {statistics.median(times):.1f} s of {REPEATS} "
          f"({', '.join(f'{t:.1f}' for t in times)}) (target < 60 s)")


if __name__ == "__main__":
    main()
