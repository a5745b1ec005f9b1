"""`bankml serve --workers N`: N processes, each accepting on a listening socket of its own.

Workers that share one listening socket (uvicorn's own `--workers`) race for every new
connection, and the worker that wakes first accepts all the connections waiting: a client
that opens its keep-alive connections together (a gateway, a load test) finds them all on
one worker while the others idle (16 connections split 14 to 2 in a run here, with half
the throughput of an even split). With SO_REUSEPORT each worker listens on a socket of its
own at the same address, and the kernel spreads new connections over them by a hash of
the client's address and port.

The parent holds the address (bound, never listening, so no connection waits on it), starts
the workers, starts again one that dies, and on SIGINT or SIGTERM stops them all, each
finishing what it holds (uvicorn's graceful shutdown: the decision log is flushed). A worker
that fails at start-up stops the service, as it would fail again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

LOG = logging.getLogger("bankml.serve")
SPAWN = multiprocessing.get_context("spawn")
BACKLOG = 2048
CHECK_S = 0.5  # how often the parent looks for a worker that died
STOP_TIMEOUT_S = 60.0


def balanced() -> bool:
    """Whether this system lets several sockets listen on one address (Linux, BSDs)."""
    return hasattr(socket, "SO_REUSEPORT")


def address_socket(host: str, port: int, *, listen: bool) -> socket.socket:
    """A TCP socket bound to `host:port` that others may bind too, listening or not."""
    family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if listen:
            sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def serve_workers(options: dict[str, Any], *, host: str, port: int, workers: int) -> int:
    """Run `workers` uvicorn servers of `options` (uvicorn.Config's) on `host:port` until
    SIGINT or SIGTERM; the exit status (non-zero if a worker could not start)."""
    from uvicorn.config import STARTUP_FAILURE  # noqa: PLC0415 - loads only when serving

    reserved = address_socket(host, port, listen=False)  # a taken address fails here, once
    bound = reserved.getsockname()[1]  # port 0: the one the system chose, for every worker
    stopping = threading.Event()
    status = 0

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    running = [_start(options, host, bound) for _ in range(workers)]
    try:
        while not stopping.wait(CHECK_S):
            for index, process in enumerate(running):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    LOG.error("worker %s could not start; stopping", process.pid)
                    status = STARTUP_FAILURE
                    stopping.set()
                    break
                LOG.warning("worker %s died (exit %s); starting another", process.pid,
                            process.exitcode)
                running[index] = _start(options, host, bound)
    finally:
        _stop_all(running)
        reserved.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


def _start(options: dict[str, Any], host: str, port: int) -> BaseProcess:
    process = SPAWN.Process(target=_worker, args=(options, host, port),
                            name="bankml-serve-worker")
    process.start()
    return process


def _worker(options: dict[str, Any], host: str, port: int) -> None:
    import uvicorn  # noqa: PLC0415 - in the worker process only

    config = uvicorn.Config(**options, host=host, port=port)
    uvicorn.Server(config).run(sockets=[address_socket(host, port, listen=True)])


def _stop_all(running: list[BaseProcess]) -> None:
    for process in running:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
    for process in running:
        process.join(STOP_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join()
