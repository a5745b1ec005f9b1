"""Reason codes for one decision against LightGBM's own contributions call.

    .venv/bin/python benchmarks/explain.py [--decisions N] [--trees N] [--features N]

A 200-tree LightGBM on 30 features (20,000 synthetic rows). One decision = one applicant
as a one-row frame. Timed per decision, p50 and p99 over `--decisions` applicants, median
of 3 runs:

- LightGBM's own call, `model.predict(row, pred_contrib=True)` (scikit-learn API, as a
  caller holding a frame would make it), and the Booster's call on a numpy row, with its
  default threads and with one thread (what bankml passes: for one row, waking OpenMP
  workers costs more than the work, the more so on a busy machine);
- bankml's reason codes: `explainer.explain(row)` with the `lightgbm` method, then
  `adverse_reasons(...)` against a 30-reason catalogue (top 4);
- for the record, the same with the `tree` method (interventional TreeSHAP over a
  100-row background), whose baseline is the background's.

Target: the reason codes are no slower than LightGBM's own contributions call.
"""

from __future__ import annotations

import argparse
import os
import platform as host
import statistics
import time
from collections.abc import Callable

import lightgbm as lgb
import numpy as np
import pandas as pd

from bankml.explain import (
    Explainer,
    adverse_reasons,
    explainer_for,
    load_catalogue,
    sample_background,
)

REPEATS = 3


def percentiles(work: Callable[[int], object], decisions: int) -> tuple[float, float]:
    """Median over REPEATS runs of the per-decision p50 and p99, in milliseconds."""
    p50s, p99s = [], []
    for _ in range(REPEATS):
        times = []
        for i in range(decisions):
            started = time.perf_counter()
            work(i)
            times.append(time.perf_counter() - started)
        p50s.append(float(np.percentile(times, 50)) * 1000)
        p99s.append(float(np.percentile(times, 99)) * 1000)
    return statistics.median(p50s), statistics.median(p99s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=1_000)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--features", type=int, default=30)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    names = [f"x{j:02d}" for j in range(args.features)]
    frame = pd.DataFrame(rng.normal(size=(20_000, args.features)), columns=names)
    risk = frame.iloc[:, :5].sum(axis=1) + frame["x05"] * frame["x06"]
    labels = (rng.random(len(frame)) < 1 / (1 + np.exp(-risk))).astype(int)
    model = lgb.LGBMClassifier(n_estimators=args.trees, verbose=-1, random_state=0)
    model.fit(frame, labels)
    catalogue = load_catalogue("name: bench\nreasons:\n" + "".join(
        f"  - {{code: R{j:02d}, text: Reason about {n}, features: [{n}]}}\n"
        for j, n in enumerate(names)), inputs=names)
    rows = [frame.iloc[[i]] for i in range(args.decisions)]
    arrays = [r.to_numpy() for r in rows]
    native = explainer_for(model, sample_background(frame, rows=100), method="lightgbm")
    tree = explainer_for(model, sample_background(frame, rows=100), method="tree")

    def reasons_with(explainer: Explainer) -> Callable[[int], object]:
        def decide(i: int) -> object:
            explanation = explainer.explain(rows[i])
            return adverse_reasons(explanation.contributions(0), catalogue, n=4)
        return decide

    print(f"{host.processor() or host.machine()}, {os.cpu_count()} cores, "
          f"lightgbm {lgb.__version__}; {args.trees} trees, {args.features} features, "
          f"{args.decisions:,} decisions x {REPEATS} runs (median of runs)")
    cases = [
        ("LightGBM model.predict(row, pred_contrib=True)",
         lambda i: model.predict(rows[i], pred_contrib=True)),
        ("LightGBM booster.predict(numpy row, pred_contrib=True)",
         lambda i: model.booster_.predict(arrays[i], pred_contrib=True)),
        ("LightGBM booster.predict(numpy row, pred_contrib=True, num_threads=1)",
         lambda i: model.booster_.predict(arrays[i], pred_contrib=True, num_threads=1)),
        ("bankml reason codes, lightgbm method (explain + top-4 reasons)",
         reasons_with(native)),
        ("bankml reason codes, tree method, 100-row background", reasons_with(tree)),
    ]
    for label, work in cases:
        p50, p99 = percentiles(work, args.decisions)
        print(f"  {label:<72} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms")


if __name__ == "__main__":
    main()
