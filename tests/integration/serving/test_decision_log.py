"""The decision log: group commit, batch proofs, failures answered as unavailable, and
verification that names what was tampered with, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Connection, text

from bankml import Platform
from bankml.core.decisions import DecisionRecord
from bankml.core.errors import IntegrityError, StoreUnavailableError, UnavailableError
from bankml.core.merkle import merkle_root
from bankml.serving import DecisionLogWriter, verify
from support.people import staff
from support.served import applications, credit_endpoint, credit_in_prod
from support.trail import audit_events


@pytest.fixture
def served(platform: Platform) -> Platform:
    credit_in_prod(platform)
    credit_endpoint(platform)
    return platform


def decide(platform: Platform, count: int, *, start: int = 800) -> list[DecisionRecord]:
    version = platform.registry.get("german-credit-pd@champion")
    return platform.decisions.decide(staff(platform, "ops"), "credit-pd",
                                     applications(version, count, start=start))


class _HeldFirstCommit:
    """A metadata store whose first write waits until the test lets it go: requests that
    arrive meanwhile must share the next commit."""

    def __init__(self, inner: Any) -> None:
        self._inner, self._first = inner, True
        self.entered, self.release = threading.Event(), threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        if self._first:
            self._first = False
            self.entered.set()
            assert self.release.wait(30)
        with self._inner.transaction() as tx:
            yield tx


def test_requests_that_wait_share_one_commit(served: Platform) -> None:
    """While one commit runs, the records that arrive are committed together, under one
    batch and one audit event."""
    [decided] = decide(served, 1)
    made = [_copy(decided, n) for n in range(6)]
    held = _HeldFirstCommit(served.metadata)
    log = DecisionLogWriter(held)  # type: ignore[arg-type]

    waiting = [log.submit([made[0]])]
    assert held.entered.wait(30)  # the writer is inside its first commit
    waiting += [log.submit([record]) for record in made[1:]]
    held.release.set()
    answers = [future.result(timeout=30) for future in waiting]
    log.close()

    assert [a[0].decision_id for a in answers] == [r.decision_id for r in made]
    batches = [e for e in audit_events(served) if e.action == "decisions.logged"]
    assert [e.payload["records"] for e in batches] == [1, 1, 5]


def test_a_caller_that_waits_commits_on_its_own_thread_when_the_log_is_idle(
        served: Platform) -> None:
    """`here`: no hand-over to the writer thread and back; the record is durable, under a
    batch of its own, when submit returns."""
    [decided] = decide(served, 1)
    log = DecisionLogWriter(served.metadata)
    committed_on: list[str] = []
    log.on_commit(lambda _: committed_on.append(threading.current_thread().name))

    logged = log.submit([_copy(decided, 0)], here=True)

    assert logged.done()
    assert committed_on == [threading.current_thread().name]
    log.close()


def test_a_caller_that_finds_a_commit_under_way_joins_the_next_group(
        served: Platform) -> None:
    """`here` never waits for another commit: the records queue for the writer, which
    commits them together once the commit under way is done."""
    [decided] = decide(served, 1)
    made = [_copy(decided, n) for n in range(6)]
    held = _HeldFirstCommit(served.metadata)
    log = DecisionLogWriter(held)  # type: ignore[arg-type]
    waiting = [log.submit([made[0]])]
    assert held.entered.wait(30)
    later: list[Any] = []
    callers = threading.Thread(target=lambda: later.extend(
        log.submit([record], here=True) for record in made[1:]))

    callers.start()
    callers.join(30)
    assert not callers.is_alive(), "a caller waited for the commit under way"
    assert not any(future.done() for future in later)
    held.release.set()
    answers = [future.result(timeout=30) for future in waiting + later]
    log.close()

    assert [a[0].decision_id for a in answers] == [r.decision_id for r in made]
    batches = [e for e in audit_events(served) if e.action == "decisions.logged"]
    assert [e.payload["records"] for e in batches] == [1, 1, 5]


def _copy(record: DecisionRecord, n: int) -> DecisionRecord:
    """The n-th copy under an id of its own, never the original's: ids are random hex, and
    the fixed suffixes 00 to 05 this used matched the original's in one run in 43."""
    suffix = (int(record.decision_id[-2:], 16) + 1 + n) % 256
    return replace(record, decision_id=f"{record.decision_id[:-2]}{suffix:02x}")


class _Unwritable:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        raise StoreUnavailableError("the disk is full")
        yield  # pragma: no cover


def test_an_unwritable_log_answers_unavailable_and_decides_nothing(served: Platform) -> None:
    """If the log cannot be written, the caller gets UnavailableError (503 over HTTP) and
    no decision leaves the service."""
    [made] = decide(served, 1)
    log = DecisionLogWriter(_Unwritable(served.metadata))  # type: ignore[arg-type]

    with pytest.raises(UnavailableError, match="cannot be written") as refused:
        log.write([_copy(made, 7)])
    log.close()

    assert refused.value.rule == "decision.log_writable"
    with served.metadata.reading() as tx:
        assert tx.decisions.count() == 1


def test_every_batch_proof_holds_on_an_untouched_log(served: Platform) -> None:
    """Verification re-scores every decision and finds every batch's root on the chain."""
    decide(served, 20)
    decide(served, 5, start=600)

    report = served.decisions.verify(staff(served, "aude"))

    assert report.is_intact
    assert (report.checked, report.proofs_checked) == (25, 2)


def _tamper(dba: Connection, statement: str, **values: Any) -> None:
    if dba.dialect.name == "postgresql":
        dba.execute(text("ALTER TABLE decisions DISABLE TRIGGER USER"))
    else:
        dba.execute(text("DROP TRIGGER IF EXISTS decisions_no_update"))
        dba.execute(text("DROP TRIGGER IF EXISTS decisions_no_delete"))
    dba.execute(text(statement), values)
    dba.commit()


def test_an_edited_decision_is_named(served: Platform, dba: Connection) -> None:
    """Moving a decision to another customer is caught: its batch no longer adds up, and
    the stored leaves name the record."""
    records = decide(served, 10)
    _tamper(dba, "UPDATE decisions SET customer_pseudo_id = :other WHERE decision_id = :id",
            other="0" * 64, id=records[3].decision_id)

    report = served.decisions.verify(staff(served, "aude"))

    assert [(p.decision_id, p.problem) for p in report.proof_problems] == [
        (records[3].decision_id, "edited after it was committed")]


def test_edits_are_found_in_a_middle_and_in_the_last_chunk(
        served: Platform, dba: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    """The log is read and re-scored a chunk at a time, with batches across chunk edges:
    an edit in a batch split between two chunks and one in the log's last record are both
    named by the proofs, and each is found again by re-scoring."""
    monkeypatch.setattr(verify, "READ_CHUNK", 3)  # batches of 5 straddle the reads
    monkeypatch.setattr(verify, "RESCORE_CHUNK", 4)
    records = [r for start in range(800, 820, 5) for r in decide(served, 5, start=start)]
    middle, last = records[7], records[-1]
    other = "decline" if str(last.outcome) != "decline" else "approve"
    _tamper(dba, "UPDATE decisions SET "
            "score = CASE WHEN decision_id = :middle THEN :score ELSE score END, "
            "outcome = CASE WHEN decision_id = :last THEN :other ELSE outcome END "
            "WHERE decision_id IN (:middle, :last)", middle=middle.decision_id,
            score=middle.score / 2 + 0.25, last=last.decision_id, other=other)

    report = served.decisions.verify(staff(served, "aude"))

    assert (report.checked, report.proofs_checked) == (20, 4)
    assert [(p.decision_id, p.problem) for p in report.proof_problems] == [
        (middle.decision_id, "edited after it was committed"),
        (last.decision_id, "edited after it was committed")]
    assert [(m.decision_id, m.what) for m in report.mismatches] == [
        (middle.decision_id, "score"), (last.decision_id, "decision")]


def test_a_deleted_decision_is_missed(served: Platform, dba: Connection) -> None:
    records = decide(served, 10)
    _tamper(dba, "DELETE FROM decisions WHERE decision_id = :id", id=records[5].decision_id)

    report = served.decisions.verify(staff(served, "aude"))

    assert not report.is_intact
    assert any("missing" in p.problem for p in report.proof_problems)


def test_a_decision_inserted_without_a_batch_has_no_proof(served: Platform,
                                                          dba: Connection) -> None:
    """A record no batch holds is named: nothing on the audit trail vouches for it."""
    [record] = decide(served, 1)
    dba.execute(text(
        "INSERT INTO decisions (decision_id, decided_at, customer_pseudo_id, model_name, "
        "model_version, artifact_sha256, inputs_json, score, outcome, policy_json, "
        "schema_version, endpoint, endpoint_version) SELECT 'forged', decided_at, "
        "customer_pseudo_id, model_name, model_version, artifact_sha256, inputs_json, 0.01, "
        "'approve', policy_json, 2, endpoint, endpoint_version FROM decisions "
        "WHERE decision_id = :id"), {"id": record.decision_id})
    dba.commit()

    report = served.decisions.verify(staff(served, "aude"))

    [problem] = report.proof_problems
    assert (problem.decision_id, problem.batch_id) == ("forged", None)
    assert [m.what for m in report.mismatches if m.decision_id == "forged"] == ["score",
                                                                                "decision"]


def test_rewritten_leaves_do_not_hide_an_edit(served: Platform, dba: Connection) -> None:
    """Editing a record and its batch's stored leaves and root still breaks against the
    root the audit trail holds."""
    records = decide(served, 4)
    edited = [replace(records[0], score=0.01).record_sha256,
              *(r.record_sha256 for r in records[1:])]
    for table in ("decisions", "decision_batches"):
        if dba.dialect.name == "postgresql":
            dba.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            dba.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
    dba.execute(text("UPDATE decisions SET score = 0.01 WHERE decision_id = :id"),
                {"id": records[0].decision_id})
    dba.execute(text("UPDATE decision_batches SET leaves = :leaves, merkle_root = :root"),
                {"leaves": ",".join(edited), "root": merkle_root(edited)})
    dba.commit()

    report = served.decisions.verify(staff(served, "aude"))

    [problem] = report.proof_problems
    assert problem.decision_id is None
    assert "cannot be told" in problem.problem
    assert [m.what for m in report.mismatches] == ["score"]


def test_a_moved_decision_is_not_replayed(served: Platform, dba: Connection) -> None:
    """Replay checks the record against its batch's proof before scoring it again: the
    decision moved to another customer is refused (and the refusal audited), while its
    untouched neighbour in the same batch replays."""
    records = decide(served, 3)
    _tamper(dba, "UPDATE decisions SET customer_pseudo_id = :other WHERE decision_id = :id",
            other="0" * 64, id=records[1].decision_id)
    auditor = staff(served, "aude")

    with pytest.raises(IntegrityError, match="not what was committed") as refused:
        served.decisions.replay(auditor, records[1].decision_id)

    assert (refused.value.rule, refused.value.field) == ("decision.proof", "decision_id")
    assert audit_events(served)[-1].action == "governance.refused"
    assert served.decisions.replay(auditor, records[0].decision_id).is_identical


def test_deep_audit_verify_names_an_edited_decision(served: Platform, dba: Connection) -> None:
    """`audit verify --deep` checks the decision log against the roots on the chain too:
    intact as the services left it, then naming the record edited beside the chain."""
    records = decide(served, 4)
    auditor = staff(served, "aude")
    assert served.audit.verify(auditor, deep=True).is_intact
    _tamper(dba, "UPDATE decisions SET score = 0.5 WHERE decision_id = :id",
            id=records[2].decision_id)

    report = served.audit.verify(auditor, deep=True)

    assert [(d.table, d.key, d.detail) for d in report.disagreements] == [
        ("decisions", records[2].decision_id, "edited after it was committed")]
