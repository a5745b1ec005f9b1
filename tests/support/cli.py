"""Running `bankml` as a user does: a fresh process, none of the developer's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.once import built_once


def bankml(*args: str, token: str | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bankml ARGS` with a wide terminal, acting with `token` when given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BANKML_")}
    extra = {"COLUMNS": "200", **(env or {})}
    if token:
        extra["BANKML_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "bankml", *args], capture_output=True,
                          text=True, env={**clean, **extra}, check=False)


def demo_quick(factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The home of the run's one `bankml demo --quick` (shared: copy it with
    `support.once.copy_of` before changing it) and what the demo printed."""

    def run(folder: Path) -> dict[str, Any]:
        result = bankml("demo", "--quick", "--home", str(folder / "home"))
        assert result.returncode == 0, result.stderr
        return {"stdout": result.stdout}

    folder, said = built_once(factory, "demo-quick", run)
    return folder / "home", str(said["stdout"])
