"""`bankml serve` under the peer benchmark's serving load, beside the peers, in one run.

    .venv/bin/python benchmarks/serve_http.py --bench PATH/TO/bench [--workers 1 2]
        [--repeats 3] [--duration 20] [--peers fastapi mlserver-pw0]

The load is the peer harness's W4 (`bench/peers/w4_serving.py`, whose pieces this
imports): Debian's wrk, one thread, 16 connections, one first request (each server's
first answer; bankml has loaded its endpoints at start-up), a 3 s warm-up then 20 s, single
decisions cycling over 1,000 request bodies. The peers run unchanged from their pinned
environments (`bench/peers/setup.sh`; data from `bench/data.py`): a bare FastAPI app
calling `booster.predict` and MLServer. W4's wrk script sends no Authorization header,
and bankml answers nothing without a token, so bankml runs under the same script with
one header added: its service account's bearer token.

bankml does the whole decision on every request: it authenticates the token, checks the
request against the model's signature, reads 20 features from the online store (SQLite),
scores a LightGBM of the same size as W4's (200 trees x 31 leaves, 30 inputs; trained by
`bankml train` on `serving_home.py`'s data), applies the policy, computes the top 4
reasons of every decline (about one in four), writes the record to the durable log and
answers only then. After each run the log is counted: every 200 answered is a logged
decision (the few more logged were in flight when wrk stopped), with the decisions per
log commit beside it.

Targets (issue 12): more decisions/s than MLServer tuned and at least 0.75x the bare
FastAPI endpoint, in one run, p99 under 30 ms. Servers run one at a time, in an order
that rotates with each repeat; medians over the repeats are reported.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from serving_home import ENDPOINT, Shape, build

from bankml import Platform

READY_TIMEOUT_S = 120
DECISIONS_PATH = f"/v1/endpoints/{ENDPOINT}/decisions"


def load_driver(bench: Path) -> Any:
    """The peer harness's W4 driver module (wrk, its Lua script, adapters, stop)."""
    sys.path[:0] = [str(bench), str(bench / "peers")]
    return importlib.import_module("w4_serving")


class Server:
    """One server under test: how to start it, what to send, and checks after a run."""

    name: str

    def start(self, work: Path) -> tuple[list[str], dict[str, str], str, str, int]:
        raise NotImplementedError

    def bodies(self) -> list[str]:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    def after(self, answered: int) -> str:
        return ""


class Peer(Server):
    """A peer's own adapter from the harness, serving W4's model on W4's request rows."""

    def __init__(self, adapter: Any, rows: list[list[float]], model: Path) -> None:
        self._adapter, self._rows, self._model = adapter, rows, model
        self.name = adapter.name

    def start(self, work: Path) -> tuple[list[str], dict[str, str], str, str, int]:
        return self._adapter.start(work, self._model)

    def bodies(self) -> list[str]:
        return [self._adapter.body(row) for row in self._rows]


class Bankml(Server):
    """`bankml serve` on a home built by serving_home.py, as its service account."""

    def __init__(self, home: Path, token: str, requests: list[dict[str, Any]],
                 workers: int) -> None:
        self._home, self._token, self._requests = home, token, requests
        self._workers = workers
        self.name = f"bankml-w{workers}"

    def start(self, work: Path) -> tuple[list[str], dict[str, str], str, str, int]:
        from w4_serving import free_port  # noqa: PLC0415 - the harness is on sys.path

        port = free_port()
        argv = [sys.executable, "-m", "bankml", "serve", "--home", str(self._home),
                "--port", str(port), "--workers", str(self._workers)]
        env = {**os.environ, "BANKML_HOME": str(self._home)}
        return argv, env, f"http://127.0.0.1:{port}/v2/health/ready", DECISIONS_PATH, port

    def bodies(self) -> list[str]:
        return [json.dumps(request) for request in self._requests]

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def logged(self) -> tuple[int, int]:
        """Decisions and batches (one per log commit) in the log."""
        with Platform.open(self._home) as platform, platform.metadata.reading() as tx:
            return tx.decisions.count(), len(tx.decisions.batches())


def run_one(driver: Any, server: Server, seconds: int, work: Path) -> dict[str, Any]:
    """Start `server`, warm it, load it with wrk, stop it; its figures."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    argv, env, ready_url, path, port = server.start(work)
    with (work / "server.log").open("w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - the harness's or our own argv
            argv, env=env, cwd=str(work), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        tree: list[int] = []
        try:
            _wait_ready(process, ready_url, work)
            startup = time.perf_counter() - started
            _first(server, port, path)
            lua = work / "wrk.lua"
            lua.write_text(_lua(driver, server, path))
            before = _logged(server)
            warm = driver.run_wrk(lua, port, driver.WARMUP_S)
            tree = driver.common.proc_tree(process.pid)
            cpu0 = driver.cpu_seconds(tree)
            summary = driver.run_wrk(lua, port, seconds)
            tree = driver.common.proc_tree(process.pid)
            cpu1 = driver.cpu_seconds(tree)
            rss = driver.common.tree_hwm_mb(process.pid)["sum_mb"]
        finally:
            driver.stop(process, tree or driver.common.proc_tree(process.pid))
    errors = sum(v for k, v in summary.items() if k.startswith("errors_"))
    note = ""
    if isinstance(server, Bankml):  # warm-up and load were all decisions: each is logged
        decisions, batches = server.logged()
        made, commits = decisions - before[0], batches - before[1]
        answered = warm["requests"] + summary["requests"] - errors
        note = (f"{made:,} decisions logged for {answered:,} answered, "
                f"{made / max(commits, 1):.1f} per commit")
    return {"requests_per_s": summary["requests"] / (summary["duration_us"] / 1e6),
            "p50_ms": summary["p50_us"] / 1e3, "p99_ms": summary["p99_us"] / 1e3,
            "cpu_ms_per_request": 1e3 * (cpu1 - cpu0) / max(summary["requests"], 1),
            "errors": errors, "startup_s": startup, "rss_mb": rss, "note": note}


def _logged(server: Server) -> tuple[int, int]:
    return server.logged() if isinstance(server, Bankml) else (0, 0)


def _lua(driver: Any, server: Server, path: str) -> str:
    bodies = ",\n".join("[[" + body + "]]" for body in server.bodies()[:driver.N_BODIES])
    script: str = driver.LUA % {"bodies": bodies, "max_n": driver.MAX_RESPONSES, "path": path}
    headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in server.headers().items())
    return script.replace('wrk.method = "POST"\n', f'wrk.method = "POST"\n{headers}')


def _first(server: Server, port: int, path: str) -> None:
    """One request before the warm-up: bankml loads an endpoint (model, explainer) on its
    first decision, which on a loaded machine can outlast the 3 s warm-up."""
    httpx.post(f"http://127.0.0.1:{port}{path}", content=server.bodies()[0],
               headers={"Content-Type": "application/json", **server.headers()},
               timeout=READY_TIMEOUT_S).raise_for_status()


def _wait_ready(process: subprocess.Popen[bytes], url: str, work: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited ({process.returncode}); see "
                                   f"{work / 'server.log'}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)  # polling a server that is starting: nothing to wait on
    raise RuntimeError(f"not ready within {READY_TIMEOUT_S} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, required=True,
                        help="the peer benchmark folder (its peers/ and common.py)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--peers", nargs="*", default=["fastapi", "mlserver-pw0"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20)
    args = parser.parse_args()
    driver = load_driver(args.bench.resolve())
    import pyarrow.parquet as pq  # noqa: PLC0415

    data = driver.common.DATA_ROOT / "w4"
    rows = pq.read_table(data / "requests.parquet").to_pandas().to_numpy(dtype="float32")
    rows_list = [[float(v) for v in row] for row in rows[:driver.N_BODIES]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        home = folder / "home"
        with Platform.open(home) as platform:
            built = build(platform, folder, Shape())
        servers: list[Server] = [Peer(driver.BUILTIN[name](), rows_list, data / "model.txt")
                                 for name in args.peers]
        servers += [Bankml(home, built.token, built.requests, workers)
                    for workers in args.workers]
        figures: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for repeat in range(args.repeats):
            turn = servers[repeat % len(servers):] + servers[:repeat % len(servers)]
            for server in turn:
                result = run_one(driver, server, args.duration, folder / "work" / server.name)
                figures[server.name].append(result)
                print(f"repeat {repeat + 1} {server.name:<14} "
                      f"{result['requests_per_s']:8,.0f} req/s  p50 {result['p50_ms']:6.2f} ms"
                      f"  p99 {result['p99_ms']:6.2f} ms  CPU {result['cpu_ms_per_request']:.3f}"
                      f" ms/req  errors {result['errors']}  {result['note']}", flush=True)
        _report(figures)


def _report(figures: dict[str, list[dict[str, Any]]]) -> None:
    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in figures[name])

    print(f"\n{'server':<14} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} "
          f"{'RSS MiB':>8} {'vs fastapi':>10} {'vs mlserver':>11}")
    for name in figures:
        rate = median(name, "requests_per_s")
        ratios = [f"{rate / median(peer, 'requests_per_s'):.2f}x" if peer in figures else "-"
                  for peer in ("fastapi", "mlserver-pw0")]
        print(f"{name:<14} {rate:8,.0f} {median(name, 'p50_ms'):7.2f} "
              f"{median(name, 'p99_ms'):7.2f} {median(name, 'cpu_ms_per_request'):10.3f} "
              f"{median(name, 'rss_mb'):8.0f} {ratios[0]:>10} {ratios[1]:>11}")


if __name__ == "__main__":
    main()
