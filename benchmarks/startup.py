"""Start-up cost: `bankml --version`, `bankml --help`, `import bankml`, and what a worker
pays to open the platform, each in a fresh interpreter.

    .venv/bin/python benchmarks/startup.py [--runs N]

Run with PYTHONPATH=OTHER/src to measure another checkout (an earlier commit, say).

Targets (issue: service layer): `--version` and `--help` under 1 s, `import bankml` under
100 MiB. Each figure is the median wall time of N runs and the largest peak RSS among them.
"""

from __future__ import annotations

import argparse
import os
import platform as host
import statistics
import subprocess
import sys
import tempfile
import time


def commands(home: str) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "bankml --version": [python, "-m", "bankml", "--version"],
        "bankml --help": [python, "-m", "bankml", "--help"],
        "import bankml": [python, "-c", "import bankml"],
        "import bankml.client": [python, "-c", "import bankml.client"],
        "open a platform": [python, "-c", f"import bankml; bankml.Platform.open({home!r}).close()"],
    }


def measure(command: list[str], runs: int) -> tuple[float, float]:
    """Median seconds and peak MiB of `command` run `runs` times, one at a time."""
    seconds, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL,  # noqa: S603 - fixed argv
                                 env={**os.environ, "COLUMNS": "100"})
        _, status, usage = os.wait4(child.pid, 0)
        seconds.append(time.perf_counter() - started)
        if status != 0:
            raise SystemExit(f"{' '.join(command)} failed ({status})")
        peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
    return statistics.median(seconds), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{host.node()} · {os.cpu_count()} cores · Python {host.python_version()} · "
          f"load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as home:
        timed = commands(home)
        measure(timed["open a platform"], 1)  # migrate once, outside the timing
        print(f"{'command':<22} {'median s':>9} {'peak MiB':>9}")
        for name, command in timed.items():
            median, peak = measure(command, args.runs)
            print(f"{name:<22} {median:>9.2f} {peak:>9.0f}")


if __name__ == "__main__":
    main()
