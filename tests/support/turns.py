"""A writer's turn held by another process, for the writer-turn tests (top-level, so a
spawned process can import it)."""

from __future__ import annotations

from multiprocessing.synchronize import Event
from pathlib import Path

from bankml.stores.sql.writer_turns import WriterTurns


def hold_turn(database: Path, holding: Event, release: Event) -> None:
    """Take the file's writer turn, say so, and keep it until `release` is set."""
    turns = WriterTurns(database, timeout_s=30.0, location=str(database))
    with turns.turn():
        holding.set()
        release.wait()
    turns.close()
