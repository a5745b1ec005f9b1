"""Concurrent single decisions decided together, on the event loop.

Much of a decision's cost is per call, not per request: the online store's read, the
model's predict, the reasons' kernel, the hand-over to the log writer. So the requests
that wait together are decided together: the first to arrive starts a flush a couple of
loop turns later (no timer: a lone request waits for nothing), and every request of the
same caller and endpoint that is queued by then joins its batch. The batch is decided on
the event loop itself, in a few milliseconds (an online store's read included: a round
trip for Redis); the requests that arrive meanwhile wait in their sockets and form the
next batch. Deciding on a thread beside the loop, so that the loop read requests while
the model, the kernel and the store ran without the GIL, made fewer decisions: the
hand-overs between the two threads and their turns at the GIL cost more than the overlap
bought (docs/serving.md has the figures). A server uses more cores with more workers. The
log commits a batch as one group, on its own thread, and each request is answered with
its own record once that group is durable, exactly as when decided alone.

A request the batch cannot decide (bad input, an unknown customer) must get its own
problem, with its own field: when deciding a batch raises, each of its requests is
decided again alone, so the good ones are answered and each bad one gets the error it
would have got alone. What concerns the endpoint rather than one request (it is stopped,
unknown) and a failure of the log are every request's answer. A caller who may not
decide on the endpoint is not batched: the service refuses, and audits, each request.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from bankml.core.decisions import DecisionRecord
from bankml.core.errors import NotFoundError, PermissionDeniedError, UnavailableError
from bankml.core.identity import Permission, Principal
from bankml.serving.decisions import DecisionService

MAX_BATCH = 64  # requests per service call; a larger queue is decided in several calls
TURNS = 2  # loop turns a flush waits, for the requests read in the same turn to queue
# what fails a whole batch alike (the endpoint, not one request): not tried again alone
GROUP_WIDE = (NotFoundError, PermissionDeniedError, UnavailableError)


@dataclass(slots=True)
class _Queued:
    fields: Mapping[str, Any]
    answer: asyncio.Future[DecisionRecord]


@dataclass(slots=True)
class _Group:
    by: Principal
    endpoint: str
    queued: list[_Queued] = field(default_factory=list)


# requests and what became of them: the log's future, or the error that refused them
_Outcome = tuple[list[_Queued], "Future[list[DecisionRecord]] | Exception"]


class DecisionBatcher:
    """Decides the single decisions that wait together, one service call per batch."""

    def __init__(self, decisions: DecisionService, *, max_batch: int = MAX_BATCH) -> None:
        self._decisions, self._max_batch = decisions, max_batch
        self._groups: dict[tuple[Principal, str], _Group] = {}
        self._flushing: asyncio.Task[None] | None = None  # held: the loop holds tasks weakly

    async def decide(self, by: Principal, endpoint: str, fields: Mapping[str, Any]
                     ) -> DecisionRecord:
        """The decision on `fields`, once its record is durable."""
        if not (by.can(Permission.DECISION_MAKE) and by.may_call(endpoint)):
            [record] = await self._decisions.decide_async(by, endpoint, [fields])
            return record  # (not reached: the service refuses)
        loop = asyncio.get_running_loop()
        group = self._groups.get((by, endpoint))
        if group is None:
            group = self._groups[(by, endpoint)] = _Group(by, endpoint)
        queued = _Queued(fields, loop.create_future())
        group.queued.append(queued)
        if self._flushing is None:
            self._flushing = loop.create_task(self._flush())
        return await queued.answer

    async def _flush(self) -> None:
        try:
            for _ in range(TURNS):
                await asyncio.sleep(0)
        finally:  # nothing queues while the batch is decided: the loop is deciding it
            self._flushing = None
        groups, self._groups = list(self._groups.values()), {}
        try:
            outcomes = self._decide(groups)
        except BaseException as error:  # the server is stopping: nothing decided
            for group in groups:
                for one in group.queued:
                    _settle_error(one, error)
            raise
        for queued, logged in outcomes:
            if isinstance(logged, Exception):
                for one in queued:
                    _settle_error(one, logged)
            else:
                asyncio.wrap_future(logged).add_done_callback(
                    functools.partial(_settle, queued))

    def _decide(self, groups: list[_Group]) -> list[_Outcome]:
        """Each group in batches of at most `max_batch`."""
        outcomes: list[_Outcome] = []
        for group in groups:
            for start in range(0, len(group.queued), self._max_batch):
                self._submit(group, group.queued[start:start + self._max_batch], outcomes)
        return outcomes

    def _submit(self, group: _Group, queued: list[_Queued], outcomes: list[_Outcome]
                ) -> None:
        try:
            outcomes.append((queued, self._decisions.submit(
                group.by, group.endpoint, [one.fields for one in queued])))
        except Exception as error:  # settled per request by the loop
            if len(queued) == 1 or isinstance(error, GROUP_WIDE):
                outcomes.append((queued, error))
                return
            for one in queued:  # each alone: its own answer, or its own problem
                self._submit(group, [one], outcomes)


def _settle(queued: list[_Queued], done: asyncio.Future[list[DecisionRecord]]) -> None:
    error = asyncio.CancelledError() if done.cancelled() else done.exception()
    if error is not None:
        for one in queued:
            _settle_error(one, error)
        return
    for one, record in zip(queued, done.result(), strict=True):
        if not one.answer.done():  # its caller may have gone
            one.answer.set_result(record)


def _settle_error(one: _Queued, error: BaseException) -> None:
    if not one.answer.done():
        one.answer.set_exception(error)


__all__ = ["DecisionBatcher"]
