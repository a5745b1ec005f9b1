"""Drift speed: 50 float features, 500,000 reference rows against 500,000 current rows.

    .venv/bin/python benchmarks/drift.py [--rows N] [--features K] [--repeats R]
        [--data FOLDER] [--workers W]

Per feature: PSI on 10 reference-quantile bins and the two-sample KS statistic with its
p-value (SciPy's `ks_2samp`, method "auto"). bankml (`bankml.monitoring.drift`) runs beside
the numpy/SciPy reference of the shared peer harness (sort, quantile bins, `ks_2samp`), in
the same process, on the same frames, interleaved; both are checked against each other.
Target: bankml under 3 s on 2 cores (the harness's run: Evidently 103 s, numpy/SciPy
12.6 s).

With `--data`, the harness's W3 Parquet files (`/tmp/bankml-bench/w3/`, made by its
`data.py w3`) are read; else the same shape is generated here (seeded: f00-f09 shifted by
0.2 sd, f10-f14 scaled, every fifth feature lognormal). As a harness adapter, the W3
driver runs bankml itself:

    PYTHONPATH=src:benchmarks .venv/bin/python /work/shared/bench/peers/w3_drift.py \
        --impl drift:BankmlDrift
"""

from __future__ import annotations

import argparse
import os
import platform as host
import resource
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankml.monitoring.drift import drift_frame


class BankmlDrift:
    """The W3 adapter of the shared peer harness (`--impl drift:BankmlDrift`)."""

    name, tool, role = "bankml", "bankml", "candidate"

    def version(self) -> str:
        from bankml import __version__  # noqa: PLC0415

        return __version__

    def run(self, ref_df: pd.DataFrame, cur_df: pd.DataFrame) -> dict[str, dict[str, Any]]:
        drifts = drift_frame(ref_df, cur_df, list(ref_df.columns))
        return {d.feature: {"psi": d.psi.value,
                            "ks_stat": d.ks.statistic if d.ks else None,
                            "ks_pvalue": d.ks.p_value if d.ks else None} for d in drifts}


def reference(ref_df: pd.DataFrame, cur_df: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The peer harness's numpy/SciPy reference (peers/w3_drift.py NumpyRef), as written."""
    from scipy.stats import ks_2samp  # noqa: PLC0415

    out = {}
    for column in ref_df.columns:
        a = np.sort(ref_df[column].to_numpy(dtype="float64"))
        cur = cur_df[column].to_numpy(dtype="float64")
        b = np.sort(cur)
        edges = np.quantile(a, np.arange(1, 10) / 10)
        rp = np.bincount(np.searchsorted(edges, a, side="right"), minlength=10) / a.size
        cp = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=10) / cur.size
        rp, cp = np.where(rp == 0, 1e-4, rp), np.where(cp == 0, 1e-4, cp)
        test = ks_2samp(a, b)
        out[column] = {"psi": float(np.sum((cp - rp) * np.log(cp / rp))),
                       "ks_stat": float(test.statistic), "ks_pvalue": float(test.pvalue)}
    return out


def generated(rows: int, features: int, seed: int = 303) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    mu, sd = rng.uniform(-5, 5, features), rng.uniform(0.5, 3.0, features)
    shift, scale = np.zeros(features), np.ones(features)
    shift[:10], scale[10:15] = 0.2, [1.5, 1.5, 1.5, 0.6, 0.6][: max(0, min(5, features - 10))]

    def draw(shifted: bool) -> pd.DataFrame:
        columns = {}
        for j in range(features):
            z = rng.standard_normal(rows)
            s, k = (shift[j], scale[j]) if shifted else (0.0, 1.0)
            columns[f"f{j:02d}"] = (np.exp(0.5 * (z * k + s)) if j % 5 == 4
                                    else mu[j] + sd[j] * (z * k + s))
        return pd.DataFrame(columns)

    return draw(False), draw(True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--data", type=Path, default=None,
                        help="folder with the harness's reference.parquet and current.parquet")
    args = parser.parse_args()
    if args.data is not None:
        ref_df = pd.read_parquet(args.data / "reference.parquet")
        cur_df = pd.read_parquet(args.data / "current.parquet")
    else:
        ref_df, cur_df = generated(args.rows, args.features)
    print(f"{len(ref_df):,} x {ref_df.shape[1]} reference vs {len(cur_df):,} current; "
          f"{os.cpu_count()} cores, {host.processor() or host.machine()}, "
          f"Python {host.python_version()}")
    times: dict[str, list[float]] = {"bankml": [], "numpy/SciPy reference": []}
    ours: dict[str, dict[str, Any]] = {}
    theirs: dict[str, dict[str, float]] = {}
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        started = time.perf_counter()
        ours = {d.feature: {"psi": d.psi.value, "ks_stat": d.ks.statistic,
                            "ks_pvalue": d.ks.p_value}
                for d in drift_frame(ref_df, cur_df, list(ref_df.columns),
                                     workers=args.workers) if d.ks}
        times["bankml"].append(time.perf_counter() - started)
        started = time.perf_counter()
        theirs = reference(ref_df, cur_df)
        times["numpy/SciPy reference"].append(time.perf_counter() - started)
    for name, runs in times.items():
        print(f"  {name}: median {statistics.median(runs):.2f} s "
              f"(runs {', '.join(f'{r:.2f}' for r in runs)})")
    ratio = statistics.median(times["numpy/SciPy reference"]) / statistics.median(
        times["bankml"])
    print(f"  reference / bankml: {ratio:.1f}x; target bankml < 3 s")
    for key in ("psi", "ks_stat", "ks_pvalue"):
        worst = max(abs(ours[c][key] - theirs[c][key]) for c in theirs)
        print(f"  max |bankml - reference| {key}: {worst:.3g}")
    flagged = [c for c in theirs if ours[c]["psi"] >= 0.1]
    print(f"  PSI >= 0.10: {', '.join(flagged) or 'none'}")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
