"""A bank's portfolio in one `bankml serve`: memory, start-up and a weekly monitoring run.

    PYTHONPATH=src python benchmarks/portfolio.py [--endpoints 50] [--weeks 4]
        [--per-week 150]

Issue 16 asks for the figures at N = 50 (no target). What `bankml demo --portfolio N`
does, on a fresh home: N credit segments (product x region), each with a model of its own
trained from the scorecard spec with the segment's seed, validated, signed off, approved
and behind its endpoint (set-up, timed as a whole). Then one `bankml serve` (one worker)
starts; its start-up is until /v2/health/ready answers; one decision over HTTP on each
endpoint loads them all, and the server's resident memory (VmRSS, peak VmHWM) is read
before and after. Then weeks of traffic on a simulated clock, `--per-week` decisions per
endpoint and week, late outcomes, and each week's monitoring run over every endpoint:
its time is the weekly run's. Prints the figures as JSON with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bankml import Platform
from bankml.cli.demo_steps import governance, portfolio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--per-week", type=int, default=150)
    args = parser.parse_args()
    print(f"{host.node()}: {os.cpu_count()} cores, Python {host.python_version()}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, Platform.open(Path(folder) / "home") as bank:
        people = governance.cast(bank, bank.settings.actor)
        found = portfolio.run(bank, people, args.endpoints, weeks=args.weeks,
                              per_week=args.per_week)
    figures = {"endpoints": len(found.endpoints), "not_signed_off": len(found.refused),
               "setup_s": round(found.setup_s, 1),
               "served": asdict(found.served) if found.served else None,
               "weeks": [asdict(w) for w in found.weeks],
               "total_s": round(time.perf_counter() - started, 1),
               "load_average": os.getloadavg()}
    print(json.dumps(figures))
    if found.served and found.weeks:
        served, last = found.served, found.weeks[-1]
        print(f"{len(found.endpoints)} endpoints: set up in {found.setup_s:.0f} s; bankml serve "
              f"ready in {served.startup_s:.1f} s at {served.rss_ready_mib:.0f} MiB, "
              f"{served.rss_loaded_mib:.0f} MiB with every endpoint loaded (peak "
              f"{served.peak_mib:.0f}); weekly monitoring run over {last.runs} endpoints and "
              f"{last.decisions:,} decisions: {last.monitoring_s:.1f} s (weeks: "
              + ", ".join(f"{w.monitoring_s:.1f}" for w in found.weeks) + " s); load average "
              + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
