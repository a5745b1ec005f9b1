"""A real `bankml serve` on the demo's home, for the steps that call it over HTTP as a
bank's applications do, and the token such an application calls it with."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bankml.core.errors import UnavailableError
from bankml.platform import Platform

HOST = "127.0.0.1"  # loopback: nothing outside this machine reaches the demo's server
READY_TIMEOUT_S = 300.0
POLL_S = 0.05  # between readiness probes, spent waiting on the server's exit
STOP_TIMEOUT_S = 30.0
STDERR_SHOWN = 2_000  # the tail of the server's stderr an error quotes


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    """A `bankml serve` that answered ready."""

    url: str
    port: int
    pid: int
    startup_s: float  # from the start of the process until /v2/health/ready answered 200


@contextmanager
def served(home: Path, *, ready_timeout_s: float = READY_TIMEOUT_S) -> Iterator[Server]:
    """`bankml serve` on `home` and a free loopback port, once it answers ready; it is
    stopped (and waited on) when the block ends, also on an error.

    Raises UnavailableError, with what the server wrote to stderr, if it stops or is not
    ready within `ready_timeout_s`.
    """
    port = _free_port()
    # a file, not a pipe: a server that writes much to a pipe nobody reads would block
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "bankml", "serve", "--home", str(home), "--host", HOST,
             "--port", str(port)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=stderr, start_new_session=True)  # a Ctrl-C reaches the demo, which stops it
        try:
            url = f"http://{HOST}:{port}"
            startup_s = _ready(process, url, started, ready_timeout_s, stderr)
            yield Server(url=url, port=port, pid=process.pid, startup_s=startup_s)
        finally:
            _stop(process)


def app_token(platform: Platform, name: str, *, scopes: frozenset[str], display_name: str,
              description: str) -> str:
    """A one-day token of the service account `name` (added by the first admin, with
    `scopes`, if it is not there yet): an application's credentials."""
    identity = platform.identity
    admin = identity.user(platform.settings.actor.lower())
    if name not in {user.name for user in identity.users(admin)}:
        identity.add_service_account(admin, name, scopes=scopes, display_name=display_name)
    return identity.create_token(admin, name, days=1, description=description).plaintext


def _ready(process: subprocess.Popen[bytes], url: str, started: float, timeout_s: float,
           stderr: IO[bytes]) -> float:
    """Seconds from `started` until the server answers ready."""
    import httpx  # noqa: PLC0415 - HTTP only for the steps that serve

    deadline = started + timeout_s
    with httpx.Client(timeout=5.0) as probe:
        while time.perf_counter() < deadline:
            try:
                if probe.get(f"{url}/v2/health/ready").status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass  # not listening yet
            try:  # the pause between probes, cut short if the server stops
                process.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                continue
            raise UnavailableError(f"bankml serve stopped (exit {process.returncode}) before "
                                   f"it was ready: {_tail(stderr)}", rule="demo.serve_ready")
    raise UnavailableError(f"bankml serve was not ready on {url} within {timeout_s:.0f} s: "
                           f"{_tail(stderr)}", rule="demo.serve_ready")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the server finishes its log's last batch), SIGKILL if it does not stop."""
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(stderr: IO[bytes]) -> str:
    """The end of what the server wrote; read in place, as the server shares the offset."""
    written = os.pread(stderr.fileno(), os.fstat(stderr.fileno()).st_size, 0)
    return written.decode(errors="replace").strip()[-STDERR_SHOWN:] or "(nothing on stderr)"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port
