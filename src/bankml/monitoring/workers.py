"""Measuring endpoints in worker processes, for a run over many endpoints on many cores.

Each worker process (spawned: nothing of the parent's state is inherited) opens the
installation's monitor once, from the settings the parent was opened with, through the
picklable `WorkerOpener` the composition root hands the monitor, and measures and stores
one endpoint's window at a time, exactly as the parent would: the same reads, points,
alerts and audit events, in a transaction of its own that checks the same principal's
permission again. Only settings, the principal, names, the window and the policy cross to
a worker; the stored run and the ids of the alerts it raised come back. Delivering those
alerts and the after-run hooks stay with the parent, in endpoint order.

Workers write at once only rows of different endpoints (a run is unique per endpoint and
window, an unresolved alert per endpoint and metric; the audit chain's head is locked by
the appending transaction), and on SQLite each write waits for the other's lock up to the
store's busy timeout (`BANKML_LOCK_TIMEOUT_S`). A BankmlError raised in a worker reaches
the parent as the same error (class, message, rule, field), with the worker's traceback as
its cause.
"""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bankml.core.errors import BankmlError, InvalidInputError, UnavailableError
from bankml.core.identity import Principal
from bankml.core.monitoring import MonitoringRun

if TYPE_CHECKING:
    from concurrent.futures import Future

    from bankml.monitoring.policy import MonitoringPolicy
    from bankml.monitoring.runs import Monitor

MAX_WORKERS = 64  # each holds one endpoint's window in memory (hundreds of MB at 200k)


class WorkerOpener(Protocol):
    """Opens, inside a worker process, a monitor on the same stores and settings as the
    parent's (the composition root's to build); picklable, to be sent to the worker."""

    def __call__(self) -> AbstractContextManager[Monitor]: ...


@dataclass(frozen=True, slots=True)
class Stored:
    """An endpoint's run as stored, and the alerts it opened or made red (to deliver)."""

    run: MonitoringRun
    raised: list[int]


def check_workers(workers: int) -> int:
    """`workers` if it is a number of processes a run may use."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not (
            1 <= workers <= MAX_WORKERS):
        raise InvalidInputError("workers", f"{workers!r} is not a number of worker processes "
                                f"from 1 (measure in this process) to {MAX_WORKERS}",
                                rule="monitoring.workers")
    return workers


def measure_in_workers(opener: WorkerOpener, by: Principal, names: Sequence[str], *,
                       start: str, end: str, policy: MonitoringPolicy,
                       workers: int) -> list[Stored | Exception]:
    """Each endpoint's stored run, or the error that stopped it, in the order of `names`.
    After the first error no endpoint that has not started is begun; those already under
    way finish (their runs are stored, so the caller follows them up)."""
    import multiprocessing  # noqa: PLC0415 - loaded by runs over several endpoints only
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415 - likewise

    context = multiprocessing.get_context("spawn")
    found: list[Stored | Exception] = []
    with ProcessPoolExecutor(max_workers=min(workers, len(names)),
                             mp_context=context) as pool:
        futures = [pool.submit(_measure, opener, by, name, start=start, end=end,
                               policy=policy) for name in names]
        for name, future in zip(names, futures, strict=True):
            if future.cancelled():
                continue
            outcome = _outcome(future, name)
            if isinstance(outcome, Exception) and not any(
                    isinstance(f, Exception) for f in found):
                for later in futures:
                    later.cancel()  # only those not yet started
            found.append(outcome)
    return found


def _outcome(future: Future[Stored | _Failure], name: str) -> Stored | Exception:
    from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415 - as above

    try:
        outcome = future.result()
    except BrokenProcessPool as died:  # killed, or out of memory: the pool is gone
        error = UnavailableError(
            f"A monitoring worker process ended abruptly (killed, or out of memory?) "
            f"before {name} was measured; the runs already stored stand. Run again, with "
            "fewer workers if memory is short.", rule="monitoring.worker_alive")
        error.__cause__ = died
        return error
    except Exception as crashed:  # not one of ours (a bug): as it is
        return crashed
    return outcome.rebuilt() if isinstance(outcome, _Failure) else outcome


# -- inside a worker process ---------------------------------------------------------------

_opened: dict[str, Monitor] = {}  # this process's monitor, opened on its first endpoint


def _measure(opener: WorkerOpener, by: Principal, name: str, *, start: str, end: str,
             policy: MonitoringPolicy) -> Stored | _Failure:
    try:
        monitor = _opened.get("monitor") or _open(opener)
        # the monitor's own step, as the parent takes it in a run of one process
        run, raised = monitor._store_run(by, name, start, end, policy)
    except BankmlError as error:
        return _Failure.of(error)
    return Stored(run=run, raised=raised)


def _open(opener: WorkerOpener) -> Monitor:
    from multiprocessing.util import Finalize  # noqa: PLC0415 - in a worker process only

    stack = ExitStack()
    monitor = stack.enter_context(opener())
    # closed when the pool ends the process: SQLite checkpoints, connections returned
    Finalize(None, stack.close, exitpriority=10)
    _opened["monitor"] = monitor
    return monitor


@dataclass(frozen=True, slots=True)
class _Failure:
    """A BankmlError on its way back to the parent. Pickled as it is, most would not come
    back: unpickling calls the class with the message alone, and most take more."""

    kind: type[BankmlError]
    args: tuple[Any, ...]
    state: dict[str, Any]
    trace: str

    @classmethod
    def of(cls, error: BankmlError) -> _Failure:
        state = {key: value for key, value in vars(error).items() if _picklable(value)}
        return cls(kind=type(error), args=error.args, state=state,
                   trace="".join(traceback.format_exception(error)))

    def rebuilt(self) -> BankmlError:
        error = self.kind.__new__(self.kind, *self.args)
        error.args = self.args
        vars(error).update(self.state)
        error.__cause__ = WorkerError(self.trace)
        return error


class WorkerError(Exception):
    """The traceback, in the worker process, of an error raised there: set as the rebuilt
    error's cause, so `--debug` shows where it happened."""

    def __str__(self) -> str:
        return f"\n\nin the monitoring worker process:\n{self.args[0]}"


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:  # whatever cannot travel stays behind
        return False
    return True


__all__ = ["MAX_WORKERS", "Stored", "WorkerError", "WorkerOpener", "check_workers",
           "measure_in_workers"]
