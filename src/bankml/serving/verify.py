"""Checking the decision log at scale: every batch's proof (`bankml.core.proofs`), then
every decision made again.

The log is read once, in batch order, as plain rows (no record is built for a row): each
batch's proof is checked, from digests taken straight from the rows, as soon as its last
row is read. Meanwhile the rows in the window are re-scored a chunk at a time on a worker
thread (`Rescoring`): parsing the inputs (Arrow) and scoring (LightGBM) release the
interpreter lock, so they run beside the reading and hashing instead of after them.

Re-scoring: records are scored again in bulk, one frame per model version and chunk, from
the inputs they hold (parsed by Arrow a chunk at a time, `bankml.columns`), through the
model's own `predict_proba` (the general path, as replay), and decided again under the
policy they name, its bands looked up for all the scores at once.
With `recompute_features`, each record's online feature values are rebuilt from the
offline store as of the decision time, which shows train-serve skew after the fact.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import chain, groupby
from operator import itemgetter
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from bankml.arrays import FloatArray
from bankml.columns import parse_objects, series
from bankml.core.decisions import (
    DIGEST_FIELDS,
    DecisionRecord,
    digest_of_fields,
    policy_from_description,
)
from bankml.core.ports import LoggedRow, Transaction
from bankml.core.proofs import (
    LOGGED,
    ProofProblem,
    batch_of_subject,
    batch_problems,
    batch_subject,
    digest_problems,
)
from bankml.core.replay import REPLAY_TOLERANCE

PARSE_CHUNK = 20_000  # records whose inputs are parsed at once
READ_CHUNK = 5_000  # rows fetched from the log at once
RESCORE_CHUNK = 5_000  # rows of one model version re-scored at once
AHEAD = 2  # chunks being re-scored or waiting to be, at most, while the log is read on


def _position(name: str) -> int:
    """Where a record's field is in a `LoggedRow` (after the batch number and place)."""
    return 2 + DIGEST_FIELDS.index(name)


_ID, _ENDPOINT, _DECIDED_AT = map(_position, ("decision_id", "endpoint", "decided_at"))
_MODEL, _VERSION, _INPUTS = map(_position, ("model_name", "model_version", "inputs_json"))
_SCORE, _OUTCOME, _POLICY = map(_position, ("score", "outcome", "policy_json"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    """A decision made again that came out otherwise than logged."""

    decision_id: str
    what: str  # score, decision or feature
    logged: Any
    now: Any


@dataclass(slots=True, kw_only=True)
class VerifyReport:
    checked: int = 0
    bitwise: int = 0  # scores equal to the last bit
    proofs_checked: int = 0
    proof_problems: list[ProofProblem] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def is_intact(self) -> bool:
        return not self.proof_problems and not self.mismatches

    @property
    def rate_per_s(self) -> float:
        return self.checked / self.seconds if self.seconds else 0.0

    def add(self, part: VerifyReport) -> None:
        """Count a chunk's re-scoring in."""
        self.checked += part.checked
        self.bitwise += part.bitwise
        self.mismatches += part.mismatches


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """Which decisions are made again (and whose batches are checked); all by default."""

    endpoint: str | None = None
    since: str | None = None  # canonical UTC text
    until: str | None = None

    @property
    def whole_log(self) -> bool:
        return self.endpoint is None and self.since is None and self.until is None

    def holds(self, row: LoggedRow) -> bool:
        return ((self.endpoint is None or row[_ENDPOINT] == self.endpoint)
                and (self.since is None or row[_DECIDED_AT] >= self.since)
                and (self.until is None or row[_DECIDED_AT] < self.until))


# The model and its inputs of a model ref (`NAME@VERSION`).
Resolve = Callable[[str], tuple[Any, list[str]]]


class Rescoring:
    """The window's rows, re-scored a chunk of one model version at a time on one worker
    thread while the log is read on; `finish` counts every chunk in, in the order of the
    rows (model versions in the order first met, as one frame per version would)."""

    def __init__(self, resolve: Resolve, *, keep: bool = False) -> None:
        self._resolve = resolve
        self._models: dict[str, tuple[Any, list[str]]] = {}  # the worker's alone
        self._waiting: dict[str, list[LoggedRow]] = {}
        self._parts: dict[str, list[Future[VerifyReport]]] = {}
        self._running: deque[Future[VerifyReport]] = deque()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify")
        self.kept: dict[str, list[LoggedRow]] | None = {} if keep else None

    def __enter__(self) -> Rescoring:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=kind is not None)

    def add(self, row: LoggedRow) -> None:
        ref = f"{row[_MODEL]}@{row[_VERSION]}"
        waiting = self._waiting.get(ref)
        if waiting is None:
            waiting = self._waiting[ref] = []
            self._parts.setdefault(ref, [])
        waiting.append(row)
        if self.kept is not None:
            self.kept.setdefault(ref, []).append(row)
        if len(waiting) >= RESCORE_CHUNK:
            self._start(ref)

    def finish(self, report: VerifyReport) -> None:
        for ref in list(self._waiting):
            self._start(ref)
        for parts in self._parts.values():
            for part in parts:
                report.add(part.result())

    def _start(self, ref: str) -> None:
        rows = self._waiting.pop(ref)
        while len(self._running) >= AHEAD:  # bounded: the log is not all held at once
            wait([self._running.popleft()])  # a failure is raised by `finish`
        part = self._pool.submit(self._rescore, ref, rows)
        self._parts[ref].append(part)
        self._running.append(part)

    def _rescore(self, ref: str, rows: list[LoggedRow]) -> VerifyReport:
        if ref not in self._models:
            self._models[ref] = self._resolve(ref)
        model, inputs = self._models[ref]
        part = VerifyReport()
        rescore(rows, model=model, inputs=inputs, report=part)
        return part


def check_log(tx: Transaction, report: VerifyReport, window: Window,
              rescoring: Rescoring) -> None:
    """Read the log once, in batch order: check each batch holding a decision in the
    window (every batch, for the whole log) against its audit event as soon as it is read,
    and hand each decision in the window to `rescoring`."""
    vouched: dict[int, dict[str, Any]] = {}
    for event in tx.audit.events(action=LOGGED):
        vouched[batch_of_subject(event.subject)] = event.payload
    stored = tx.decisions.batches()
    found: dict[int | None, list[ProofProblem]] = {}
    for batch_id, rows in _batches(tx.decisions.rows_in_batch_order(chunk=READ_CHUNK)):
        chosen = [row for row in rows if window.holds(row)]
        for row in chosen:
            rescoring.add(row)
        if window.whole_log or chosen:
            found[batch_id] = _problems(batch_id, rows, vouched, stored)
    if window.whole_log:  # batches whose every record is gone
        for batch_id in (set(vouched) | set(stored)) - set(found):
            found[batch_id] = _problems(batch_id, [], vouched, stored)
    for batch_id in sorted(found, key=lambda b: -1 if b is None else b):
        report.proofs_checked += batch_id is not None
        report.proof_problems += found[batch_id]


def _batches(chunks: Iterable[list[LoggedRow]]) -> Iterator[tuple[int | None, list[LoggedRow]]]:
    """Each batch's rows (those in no batch together, under None), across chunks."""
    for batch_id, rows in groupby(chain.from_iterable(chunks), key=itemgetter(0)):
        yield batch_id, list(rows)


def _problems(batch_id: int | None, rows: Sequence[LoggedRow],
              vouched: dict[int, dict[str, Any]], stored: dict[int, Any]) -> list[ProofProblem]:
    return digest_problems(batch_id, [row[_ID] for row in rows],
                           (digest_of_fields(row[2:]) for row in rows),
                           None if batch_id is None else vouched.get(batch_id),
                           None if batch_id is None else stored.get(batch_id))


def record_problems(tx: Transaction, decision_id: str) -> list[ProofProblem]:
    """What is wrong with the proof of `decision_id`: its batch checked against its event,
    keeping the problems that concern this record (an edited neighbour does not)."""
    batch_id, stored, records = tx.decisions.batch_of(decision_id)
    if batch_id is None:
        return batch_problems(None, [r for r in records if r.decision_id == decision_id],
                              None, None)
    events = list(tx.audit.events(subject=batch_subject(batch_id)))
    vouching = next((e.payload for e in events if e.action == LOGGED), None)
    return [problem for problem in batch_problems(batch_id, records, vouching, stored)
            if problem.whole_batch or problem.decision_id == decision_id]


def rescore(rows: Sequence[LoggedRow], *, model: Any, inputs: list[str],
            report: VerifyReport) -> None:
    """Score `rows` of one model version again in one frame; note every difference."""
    if not rows:
        return
    frame = inputs_frame([row[_INPUTS] for row in rows], inputs)
    scores = np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)
    logged = np.fromiter((row[_SCORE] for row in rows), dtype=np.float64, count=len(rows))
    report.checked += len(rows)
    report.bitwise += int(np.count_nonzero(scores == logged))
    with np.errstate(invalid="ignore"):  # a NaN differs by nothing, as abs() > says
        off = np.abs(scores - logged) > REPLAY_TOLERANCE
    outcomes = decided_again([row[_POLICY] for row in rows], scores)
    otherwise = outcomes != np.array([str(row[_OUTCOME]) for row in rows], dtype=object)
    for position in np.flatnonzero(off | otherwise).tolist():  # in row order
        row = rows[position]
        if off[position]:
            report.mismatches.append(Mismatch(decision_id=row[_ID], what="score",
                                              logged=row[_SCORE],
                                              now=float(scores[position])))
        if otherwise[position]:
            report.mismatches.append(Mismatch(decision_id=row[_ID], what="decision",
                                              logged=str(row[_OUTCOME]),
                                              now=str(outcomes[position])))


def inputs_frame(texts: Sequence[str], inputs: list[str]) -> pd.DataFrame:
    """The model's inputs of each record, as the frame of the rows' values would be
    (`bankml.columns`: parsed by Arrow a chunk at a time, the same Series)."""
    chunks = [parse_objects(texts[start:start + PARSE_CHUNK], names=inputs)
              for start in range(0, len(texts), PARSE_CHUNK)]
    return pd.DataFrame({name: series([chunk.piece(name) for chunk in chunks])
                         for name in inputs}, columns=inputs)


def decided_again(policies: Sequence[str], scores: FloatArray) -> Any:
    """Each outcome under the policy described (`policies`, JSON text) at its new score:
    the bands of the policy (`DecisionPolicy.bands`, which `decide` looks up), a policy at
    a time."""
    outcomes = np.empty(len(policies), dtype=object)
    under: dict[str, list[int]] = {}
    for position, described in enumerate(policies):
        under.setdefault(described, []).append(position)
    for described, positions in under.items():
        parsed = json.loads(described)
        policy = policy_from_description(parsed)
        if parsed.get("review"):
            outcomes[positions] = str(policy.review)
            continue
        cutoffs, band_outcomes = policy.bands()
        # side="right": a score at a cut-off falls in the band above it, as bisect_right
        bands = np.searchsorted(np.asarray(cutoffs, dtype=np.float64), scores[positions],
                                side="right")
        outcomes[positions] = np.array([str(o) for o in band_outcomes], dtype=object)[bands]
    return outcomes


def compare_features(records: Sequence[DecisionRecord], rebuilt: pd.DataFrame,
                     refs: dict[str, str], report: VerifyReport) -> None:
    """Each record's online values against the offline store's as of its decision."""
    for position, record in enumerate(records):
        logged = json.loads(record.features_json).get("values", {})
        for name, ref in refs.items():
            then, now = logged.get(ref), rebuilt[name].iloc[position]
            now = None if pd.isna(now) else (now.item() if hasattr(now, "item") else now)
            if then != now:
                report.mismatches.append(Mismatch(decision_id=record.decision_id,
                                                  what=f"feature {ref}", logged=then, now=now))


def timed(report: VerifyReport, started: float) -> VerifyReport:
    report.seconds = time.perf_counter() - started
    return report
