"""Consistent tampering, as someone with the database's rights and no key could do it: the
chain is changed and every later hash and the head recomputed, so the chain alone still
verifies. Takes a `dba` connection (guards removed)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from bankml.core.audit import GENESIS_HASH, event_hash


def rewrite(dba: Connection, sequence: int, payload_json: str) -> None:
    """Give event `sequence` a new payload and re-chain it and every event after it."""
    rows = dba.execute(text(
        "SELECT sequence, recorded_at, actor, action, subject, payload_json FROM audit_events "
        "WHERE sequence >= :sequence ORDER BY sequence"), {"sequence": sequence}).all()
    previous = _hash_of(dba, sequence - 1)
    for row in rows:
        payload = payload_json if row.sequence == sequence else row.payload_json
        digest = event_hash(sequence=row.sequence, recorded_at=row.recorded_at,
                            actor=row.actor, action=row.action, subject=row.subject,
                            payload_json=payload, prev_hash=previous)
        dba.execute(text("UPDATE audit_events SET payload_json = :payload, prev_hash = :prev, "
                         "hash = :hash WHERE sequence = :sequence"),
                    {"payload": payload, "prev": previous, "hash": digest,
                     "sequence": row.sequence})
        previous = digest
    _set_head(dba, rows[-1].sequence, previous)


def cut(dba: Connection, keep: int) -> None:
    """Delete every event after `keep` (all of them for 0) and move the head back to it."""
    dba.execute(text("DELETE FROM audit_events WHERE sequence > :keep"), {"keep": keep})
    _set_head(dba, keep, _hash_of(dba, keep))


def _hash_of(dba: Connection, sequence: int) -> str:
    if sequence == 0:
        return GENESIS_HASH
    return str(dba.execute(text("SELECT hash FROM audit_events WHERE sequence = :sequence"),
                           {"sequence": sequence}).scalar_one())


def _set_head(dba: Connection, sequence: int, digest: str) -> None:
    dba.execute(text("UPDATE audit_head SET sequence = :sequence, hash = :hash WHERE id = 1"),
                {"sequence": sequence, "hash": digest})
    dba.commit()
