"""The decision log's writer: group commit, one Merkle root per batch, one audit event.

A decision leaves the service only once its record is durable. Requests hand their records
to one writer thread per process and wait; the writer commits whatever has arrived since
its last commit in one transaction (the records, the batch with its Merkle root, and one
`decisions.logged` audit event), so concurrent requests share a commit and its fsync
instead of queueing on the chain's head one by one. A caller about to wait anyway may
commit on its own thread when no commit is under way (`submit(here=True)`). If the commit
fails, every waiting request gets UnavailableError and no decision is answered.

Idempotency keys are settled in the same transaction: a key the endpoint has seen returns
the decision made under it. Two processes racing on one key meet the unique index; the
batch is then retried, and finds the other's decision.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bankml.core.canonical import utc_timestamp
from bankml.core.decisions import DecisionBatch, DecisionRecord
from bankml.core.errors import BankmlError, ConflictError, UnavailableError
from bankml.core.identity import SYSTEM
from bankml.core.merkle import merkle_root
from bankml.core.ports import MetadataStore, Transaction
from bankml.core.proofs import LOGGED, batch_subject

MAX_BATCH = 512  # records per commit; more wait for the next one
RETRIES = 3  # a batch that met another process's idempotency key is tried again


@dataclass(slots=True)
class _Pending:
    records: list[DecisionRecord]
    keys: list[str | None]
    done: Future[list[DecisionRecord]] = field(default_factory=Future)


@dataclass(frozen=True, slots=True, kw_only=True)
class Committed:
    batch_id: int
    records: int
    merkle_root: str


Answer = list[DecisionRecord] | BankmlError  # what the log holds for a request, or why not


def check_same_request(known: DecisionRecord, request_json: str, pseudonym: str) -> None:
    """A key that comes back must come with the same request: else it is refused (409),
    never answered with another customer's or another application's decision."""
    if known.request_json != request_json or known.customer_pseudo_id != pseudonym:
        raise ConflictError("This Idempotency-Key was used for another request; a retry "
                            "sends the same request with its key, a new request a new key.",
                            field="Idempotency-Key", rule="decision.idempotency_reused")


class DecisionLogWriter:
    """Writes decision records durably, in batches, from a thread of its own."""

    def __init__(self, metadata: MetadataStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                 max_batch: int = MAX_BATCH) -> None:
        self._metadata, self._clock, self._max_batch = metadata, clock, max_batch
        self._listeners: list[Callable[[Committed], None]] = []
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._committing = threading.Lock()  # one commit at a time, on whichever thread

    def write(self, records: Sequence[DecisionRecord],
              keys: Sequence[str | None] | None = None) -> list[DecisionRecord]:
        """Block until `records` are durable; returns what the log holds for each (the
        earlier decision, where an idempotency key was seen before). Through the writer,
        so everything submitted before is durable too (not `here`: the writer may hold a
        group it has taken and not yet committed)."""
        return self.submit(records, keys).result()

    def submit(self, records: Sequence[DecisionRecord],
               keys: Sequence[str | None] | None = None, *,
               here: bool = False) -> Future[list[DecisionRecord]]:
        """Hand `records` to the writer; the future resolves once they are durable.

        With `here`, for a caller about to wait on the future anyway: if no commit is
        under way, the caller's own thread commits them, with whatever is queued, and
        skips the two hand-overs to the writer thread and back. Else the writer commits
        them with the others, as without."""
        pending = _Pending(list(records), list(keys or [None] * len(records)))
        if here and self._committing.acquire(blocking=False):
            try:
                self._commit(self._group(pending))
            finally:
                self._committing.release()
            return pending.done
        self._start()
        self._queue.put(pending)
        return pending.done

    def on_commit(self, listener: Callable[[Committed], None]) -> None:
        """Call `listener` after every commit (metrics)."""
        self._listeners.append(listener)

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="decision-log",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            with self._committing:
                self._commit(self._group(first))

    def _group(self, first: _Pending) -> list[_Pending]:
        """`first` and whatever arrived while the last commit ran, up to `max_batch`."""
        group, size = [first], len(first.records)
        while size < self._max_batch:
            try:
                following = self._queue.get_nowait()
            except queue.Empty:
                break
            if following is None:
                self._queue.put(None)  # close after this group
                break
            group.append(following)
            size += len(following.records)
        return group

    def _commit(self, group: list[_Pending]) -> None:
        for attempt in range(1, RETRIES + 1):
            try:
                with self._metadata.transaction() as tx:
                    stored, committed = self._write_group(tx, group)
                break
            except ConflictError as conflict:  # mostly another process's idempotency key
                if attempt == RETRIES:
                    self._fail(group, UnavailableError(
                        f"The decision log met a conflicting write {RETRIES} times "
                        f"({conflict}); nothing was decided.", rule="decision.log_writable"))
                    return
            except BankmlError as error:
                self._fail(group, UnavailableError(
                    f"The decision log cannot be written ({error}); no decision was made.",
                    rule="decision.log_writable"))
                return
            except Exception as error:  # any failure answers 503, never a guessed decision
                self._fail(group, UnavailableError(
                    f"The decision log cannot be written ({type(error).__name__}: {error}); "
                    "no decision was made.", rule="decision.log_writable"))
                return
        if committed is not None:
            for listener in self._listeners:
                listener(committed)
        for pending, answer in zip(group, stored, strict=True):
            if isinstance(answer, BankmlError):
                pending.done.set_exception(answer)
            else:
                pending.done.set_result(answer)

    def _write_group(self, tx: Transaction, group: list[_Pending]
                     ) -> tuple[list[Answer], Committed | None]:
        """Settle idempotency keys, then store the new records as one batch."""
        answers: list[Answer] = []
        new: list[DecisionRecord] = []
        new_keys: list[str | None] = []
        claimed: dict[tuple[str, str], DecisionRecord] = {}
        for pending in group:
            answer: list[DecisionRecord] = []
            try:
                for record, key in zip(pending.records, pending.keys, strict=True):
                    known = None
                    if key is not None and record.endpoint is not None:
                        slot = (record.endpoint, key)
                        known = claimed.get(slot) or tx.decisions.by_idempotency_key(*slot)
                        if known is None:
                            claimed[slot] = record
                        else:
                            check_same_request(known, record.request_json,
                                               record.customer_pseudo_id)
                    answer.append(known or record)
            except ConflictError as reused:  # this request alone is refused
                answers.append(reused)
                continue
            for record, key, answered in zip(pending.records, pending.keys, answer,
                                             strict=True):
                if answered is record:
                    new.append(record)
                    new_keys.append(key)
            answers.append(answer)
        if not new:
            return answers, None
        leaves = tuple(record.record_sha256 for record in new)
        root = merkle_root(leaves)
        batch = DecisionBatch(batch_id=0, committed_at=utc_timestamp(self._clock()),
                              records=len(new), merkle_root=root,
                              first_decided_at=min(r.decided_at for r in new),
                              last_decided_at=max(r.decided_at for r in new), leaves=leaves)
        batch_id = tx.decisions.add_batch(batch, new, new_keys)
        tx.audit.record(SYSTEM.name, LOGGED, batch_subject(batch_id), {
            "records": len(new), "merkle_root": root,
            "endpoints": sorted({r.endpoint or "" for r in new}),
            "first_decided_at": batch.first_decided_at,
            "last_decided_at": batch.last_decided_at})
        return answers, Committed(batch_id=batch_id, records=len(new), merkle_root=root)

    @staticmethod
    def _fail(group: list[_Pending], error: BankmlError) -> None:
        for pending in group:
            pending.done.set_exception(error)
