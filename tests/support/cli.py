"""Running `bankml` as a user does: a fresh process, none of the developer's settings."""

from __future__ import annotations

import os
import subprocess
import sys


def bankml(*args: str, token: str | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bankml ARGS` with a wide terminal, acting with `token` when given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BANKML_")}
    extra = {"COLUMNS": "200", **(env or {})}
    if token:
        extra["BANKML_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "bankml", *args], capture_output=True,
                          text=True, env={**clean, **extra}, check=False)
