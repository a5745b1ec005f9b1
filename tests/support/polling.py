"""Waiting on what another process or thread does, where nothing can be waited on but its
state: poll, with a deadline, and fail naming what never came."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(check: Callable[[], Any], what: str, *, deadline_s: float = 60.0,
          poll_s: float = 0.05) -> Any:
    """What `check` returns once it is truthy; AssertionError naming `what` after
    `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {deadline_s:g} s waiting for {what}")
