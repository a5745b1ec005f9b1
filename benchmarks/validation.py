"""Validation library speed: fairness on 1,000,000 rows and a battery on 200,000 rows.

    .venv/bin/python benchmarks/validation.py [--fairness-rows N] [--battery-rows N]
        [--skip-fairlearn]

Targets: selection rate, TPR, FPR by 4 groups and the impact ratio on 1,000,000 rows in
under 0.1 s, identical to fairlearn's MetricFrame (timed too, for the record); the
representative battery on 200,000 rows with two fairness attributes well under 60 s.
Figures are the median of 3 runs.
"""

from __future__ import annotations

import argparse
import os
import platform as host
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from bankml.validation import alerting, calibration, discrimination, fairness, stability

REPEATS = 3


def timed(work: Callable[[], object]) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = work()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


def fairness_figures(rows: int, *, with_fairlearn: bool) -> None:
    rng = np.random.default_rng(0)
    group = pd.Series(rng.choice(["a", "b", "c", "d"], rows, p=[0.4, 0.3, 0.2, 0.1]),
                      name="group")
    good = rng.integers(0, 2, rows)
    approve = (rng.random(rows) < 0.45 + 0.2 * good - 0.05 * (group == "d")).astype(int)
    seconds, report = timed(lambda: fairness.fairness_by_group(
        approve, good, group, bootstrap_samples=0))
    print(f"fairness, {rows:,} rows, 4 groups (SR, TPR, FPR, AIR, SPD, EOD, AOD): "
          f"{seconds * 1000:.1f} ms")
    seconds_ci, _ = timed(lambda: fairness.fairness_by_group(
        approve, good, group, bootstrap_samples=1000))
    print(f"  the same with 1,000 bootstrap intervals: {seconds_ci * 1000:.1f} ms")
    if not with_fairlearn:
        return
    from fairlearn.metrics import (  # noqa: PLC0415 - a reference, not a dependency
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    def metric_frame() -> pd.DataFrame:
        frame = MetricFrame(metrics={"sr": selection_rate, "tpr": true_positive_rate,
                                     "fpr": false_positive_rate},
                            y_true=good, y_pred=approve, sensitive_features=group)
        by_group: pd.DataFrame = frame.by_group
        return by_group

    seconds_fl, reference = timed(metric_frame)
    assert isinstance(reference, pd.DataFrame)
    assert isinstance(report, fairness.FairnessReport)
    ours = np.array([[g.selection_rate, g.true_positive_rate, g.false_positive_rate]
                     for g in report.groups])
    difference = float(np.abs(ours - reference[["sr", "tpr", "fpr"]].to_numpy()).max())
    print(f"fairlearn MetricFrame, same metrics: {seconds_fl * 1000:.1f} ms; "
          f"largest difference {difference:.1e}")


def battery_figures(rows: int) -> None:
    rng = np.random.default_rng(1)
    pds = rng.beta(1.5, 12, rows)
    defaults = (rng.random(rows) < pds).astype(int)
    grades = np.digitize(pds, [0.02, 0.05, 0.1, 0.2, 0.35])
    challenger = np.clip(pds + rng.normal(0, 0.03, rows), 0, 1)
    development = rng.beta(1.5, 12, rows)
    protected = pd.DataFrame({"sex": rng.choice(["f", "m"], rows),
                              "age_band": rng.choice(["<25", "25-60", ">60"], rows)})
    approve = (pds < 0.15).astype(int)
    end = np.clip(grades + rng.choice([-1, 0, 0, 1], rows), 0, 5)
    counts = np.bincount(grades, minlength=6)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("AUC + DeLong CI", lambda: discrimination.auc_delong(defaults, pds)),
        ("DeLong test vs challenger", lambda: discrimination.compare_auc(
            defaults, pds, challenger)),
        ("ECB AUC vs initial (grades)", lambda: discrimination.compare_with_initial_auc(
            defaults, -grades, auc_initial=0.75)),
        ("KS", lambda: discrimination.ks_test(defaults, pds)),
        ("CAP curve", lambda: discrimination.cap_curve(defaults, pds)),
        ("Jeffreys per grade", lambda: calibration.jeffreys_test(grades, pds, defaults)),
        ("binomial per grade", lambda: calibration.binomial_test(grades, pds, defaults)),
        ("Hosmer-Lemeshow", lambda: calibration.hosmer_lemeshow(defaults, pds)),
        ("Brier", lambda: calibration.brier_score(defaults, pds)),
        ("PSI", lambda: stability.psi(development, pds)),
        ("migration matrix", lambda: stability.migration_matrix(
            grades, end, grades=list(range(6)))),
        ("Herfindahl test", lambda: stability.herfindahl_test(
            initial=counts[::-1] + 1, current=counts)),
        ("lift by decile", lambda: alerting.lift_table(defaults, pds)),
        ("fairness: 2 attributes + intersection, 1,000 bootstraps",
         lambda: fairness.fairness_report(approve, 1 - defaults, protected)),
        ("group calibration", lambda: fairness.group_calibration(defaults, pds, protected)),
    ]
    total = 0.0
    print(f"battery, {rows:,} rows:")
    for name, work in steps:
        seconds, _ = timed(work)
        total += seconds
        print(f"  {name:<55} {seconds * 1000:8.1f} ms")
    print(f"  {'total':<55} {total:8.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fairness-rows", type=int, default=1_000_000)
    parser.add_argument("--battery-rows", type=int, default=200_000)
    parser.add_argument("--skip-fairlearn", action="store_true")
    arguments = parser.parse_args()
    print(f"{host.platform()}, Python {host.python_version()}, {os.cpu_count()} cpus, "
          f"median of {REPEATS}")
    fairness_figures(arguments.fairness_rows, with_fairlearn=not arguments.skip_fairlearn)
    battery_figures(arguments.battery_rows)


if __name__ == "__main__":
    main()
