"""`bankml serve` as a real process on loopback, for tests that talk HTTP to it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

START_TIMEOUT_S = 60.0
POLL_S = 0.05


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[str]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)


@contextmanager
def serving(home: Path, *, workers: int = 1, env: dict[str, str] | None = None
            ) -> Iterator[Server]:
    """Start `bankml serve` on a free port of 127.0.0.1, wait until it is live (it answers
    its health check: no sleeping), and stop it afterwards."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BANKML_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bankml", "serve", "--home", str(home), "--port", str(port),
         "--workers", str(workers)],
        env={**clean, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)  # its own process group: workers die with it
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_live(url, process)
        yield Server(url=url, process=process)
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL if it lingers; its pipes are read to the end and closed."""
    if process.poll() is None:
        process.terminate()
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        kill(process)


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL the server and its workers at once, as a crash would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _wait_until_live(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                _, errors = process.communicate()
                raise RuntimeError(f"bankml serve exited with {process.returncode}: {errors}")
            try:
                if client.get(f"{url}/v2/health/live").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(POLL_S)  # not listening yet: ask again shortly
    raise TimeoutError(f"bankml serve did not come up at {url} within {START_TIMEOUT_S} s")
