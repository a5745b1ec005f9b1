"""How long work reports how far it is: `progress(what, done)` with a running count."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int], None]
