"""The `bankml` entry point, in process."""

from __future__ import annotations

import gc

import pytest

from bankml.cli import main


def test_start_up_objects_are_frozen_before_a_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Full garbage-collector sweeps skip what start-up imported, from the first command on."""
    frozen_at_command: list[int] = []
    monkeypatch.setattr(main, "app", lambda: frozen_at_command.append(gc.get_freeze_count()))
    gc.unfreeze()
    try:
        main.run()
    finally:
        gc.unfreeze()

    assert frozen_at_command[0] > 0
