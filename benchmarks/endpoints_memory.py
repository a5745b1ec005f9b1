"""Fifty endpoints in one `bankml serve`: start-up time and resident memory.

    .venv/bin/python benchmarks/endpoints_memory.py [--endpoints 50] [--trees 200]

Issue 12 asks for the figures (no target): a bank runs dozens of models behind one
service. Each endpoint decides with a model of its own (`serving_home.py`'s workload, a
LightGBM of 200 trees x 31 leaves on 30 inputs, trained with its own seed), with reason
codes, so each loaded endpoint holds its model, its explainer and its compiled scorer.

A fresh `bankml serve` (one worker) is started; its start-up time is until
/v2/health/ready answers. Endpoints load on their first decision: one decision is made on
each in turn (the time of that first decision is the endpoint's load time), then the
server's resident memory (VmRSS, and the peak VmHWM) is read from /proc.
"""

from __future__ import annotations

import argparse
import os
import platform as host
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from serving_home import ENDPOINT, Shape, add_endpoint, build

from bankml import Platform


def rss_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of `pid` in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=50)
    parser.add_argument("--trees", type=int, default=200)
    args = parser.parse_args()
    print(f"{host.node()}: {os.cpu_count()} cores, Python {host.python_version()}")
    shape = Shape(trees=args.trees)
    with tempfile.TemporaryDirectory() as tmp:
        folder, names = Path(tmp), [ENDPOINT]
        home = folder / "home"
        started = time.perf_counter()
        with Platform.open(home) as platform:
            built = build(platform, folder, shape)
            for index in range(1, args.endpoints):
                names.append(f"{ENDPOINT}-{index}")
                add_endpoint(platform, folder, names[-1], shape, seed=7 + index)
            admin = platform.identity.user("bench-admin")
            platform.identity.add_service_account(admin, "bench-all", scopes=frozenset({"*"}))
            token = platform.identity.create_token(admin, "bench-all").plaintext
        print(f"{len(names)} endpoints, each with a model of its own, set up in "
              f"{time.perf_counter() - started:.0f} s")

        port = free_port()
        started = time.perf_counter()
        server = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "bankml", "serve", "--home", str(home), "--port",
             str(port)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0,
                              headers={"Authorization": f"Bearer {token}"}) as client:
                while True:
                    try:
                        if client.get("/v2/health/ready").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.05)  # the server is starting: nothing to wait on yet
                ready = time.perf_counter() - started
                at_start = rss_mib(server.pid)
                loads = []
                for name in names:
                    began = time.perf_counter()
                    answer = client.post(f"/v1/endpoints/{name}/decisions",
                                         json=built.requests[0])
                    loads.append(time.perf_counter() - began)
                    answer.raise_for_status()
                again = []
                for name in names:
                    began = time.perf_counter()
                    client.post(f"/v1/endpoints/{name}/decisions", json=built.requests[1])
                    again.append(time.perf_counter() - began)
                loaded = rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"start-up until ready: {ready:.2f} s; resident {at_start[0]:.0f} MiB")
    print(f"first decision per endpoint (loads it): median {statistics.median(loads) * 1e3:.0f}"
          f" ms, max {max(loads) * 1e3:.0f} ms, all {len(names)} in {sum(loads):.1f} s")
    print(f"a later decision per endpoint: median {statistics.median(again) * 1e3:.1f} ms")
    print(f"with {len(names)} endpoints loaded: resident {loaded[0]:.0f} MiB (peak "
          f"{loaded[1]:.0f}), {(loaded[0] - at_start[0]) / len(names):.1f} MiB per endpoint")


if __name__ == "__main__":
    main()
