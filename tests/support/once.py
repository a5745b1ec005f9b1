"""Costly test worlds built once per test run, shared by the modules (and the xdist
workers) that ask, each of which works on a copy."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def built_once(factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], dict[str, Any]]) -> tuple[Path, dict[str, Any]]:
    """The folder `build` filled for `name` in this run, and what it said of it (JSON).
    The first to ask builds it; xdist workers share the run's folder, so the others wait
    on its lock and read it back."""
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, described = root / name, root / f"{name}.json"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not described.is_file():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed half way
            folder.mkdir()
            described.write_text(json.dumps(build(folder)))
    return folder, json.loads(described.read_text())


def copy_of(folder: Path, factory: pytest.TempPathFactory, name: str) -> Path:
    """A copy of a built home in a folder of its own, for a module that may change it."""
    home = factory.mktemp(name) / "home"
    shutil.copytree(folder, home)
    return home
