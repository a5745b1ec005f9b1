"""`bankml serve --workers 2` as a real process: each worker listens on a socket of its own,
connections opened together reach both, a worker that dies is replaced, and one that
cannot start stops the service."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from uvicorn.config import STARTUP_FAILURE

from bankml.cli.workers import serve_workers
from support.polling import until
from support.server import Server, serving

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads sockets and processes from /proc")
CONNECTIONS = 16
LISTEN = "0A"  # /proc/net/tcp's state of a listening socket


def two_workers_of(server: Server) -> set[int]:
    """The two serving processes once both listen (empty until then)."""
    found = workers_of(server)
    return found if len(found) == 2 else set()


def workers_of(server: Server) -> set[int]:
    """The serving processes: children of `bankml serve` holding a listening socket."""
    children = {int(pid) for pid in os.listdir("/proc") if pid.isdigit()
                and _parent(int(pid)) == server.process.pid}
    return {pid for pid in children if _sockets(pid, state=LISTEN, port=_port(server))}


def owner_of(server: Server, local_port: int) -> int:
    """The worker holding the server's end of the connection from `local_port`."""
    for pid in workers_of(server):
        if _sockets(pid, remote_port=local_port):
            return pid
    raise AssertionError(f"no worker holds the connection from port {local_port}")


def test_each_worker_listens_on_its_own_socket_and_takes_its_share(tmp_path: Path) -> None:
    with serving(tmp_path / "home", workers=2) as server:
        workers = until(lambda: two_workers_of(server), "two workers listening")
        listening = [_sockets(pid, state=LISTEN, port=_port(server)) for pid in workers]
        opened = [socket.create_connection(("127.0.0.1", _port(server)))
                  for _ in range(CONNECTIONS)]
        try:
            for connection in opened:  # each answered: accepted by a worker
                connection.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
                assert connection.recv(1024).startswith(b"HTTP/1.1 200")
            owners = [owner_of(server, c.getsockname()[1]) for c in opened]
        finally:
            for connection in opened:
                connection.close()

    assert len(set().union(*listening)) == 2  # two sockets, not one shared by both
    # the kernel's hash over two sockets: all 16 on one worker has odds of 1 in 32,768
    assert set(owners) == workers


def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    with serving(tmp_path / "home", workers=2) as server:
        first = until(lambda: two_workers_of(server), "two workers listening")
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        # until two listen again and the victim is not one of them: right after the signal
        # the victim may still be listed, and the survivor alone must not count as done
        again = until(lambda: set() if victim in (found := two_workers_of(server)) else found,
                      "a worker in its place")

    assert len(again - first) == 1  # a new worker
    assert again & first == first - {victim}  # beside the one that went on serving


def test_a_worker_that_cannot_start_stops_the_service() -> None:
    """It would fail the same way again: no endless restarts, a non-zero exit."""
    status = serve_workers({"app": "bankml.no_such_module:app", "log_level": "critical"},
                           host="127.0.0.1", port=0, workers=2)

    assert status == STARTUP_FAILURE


def _port(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _sockets(pid: int, *, state: str | None = None, port: int | None = None,
             remote_port: int | None = None) -> set[int]:
    """Inodes of `pid`'s TCP sockets matching the state, local port or remote port given."""
    try:  # a process that ends meanwhile holds nothing
        held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        tables = [Path(f"/proc/{pid}/net/{t}").read_text() for t in ("tcp", "tcp6")]
    except OSError:
        return set()
    inodes = {int(link[8:-1]) for link in held if link.startswith("socket:[")}
    found = set()
    for table in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()
            local, remote, status, inode = fields[1], fields[2], fields[3], int(fields[9])
            if inode in inodes and (state is None or status == state) \
                    and (port is None or int(local.rsplit(":", 1)[1], 16) == port) \
                    and (remote_port is None or int(remote.rsplit(":", 1)[1], 16) == remote_port):
                found.add(inode)
    return found
