"""Debian's Chromium driven by Playwright, for the browser tests of the web UI.

The browser is the system's (`apt-get install chromium`), never one Playwright downloads.
Without it (or without the playwright package) a local run skips; under CI=true, where
.ci/run installs both, it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
SCREENSHOTS = "UI_SCREENSHOTS"  # an absolute folder to keep the screenshots in (make screenshots)


def chromium() -> str:
    """The path of the system's Chromium, or skip (fail under CI)."""
    found = next((path for path in CANDIDATES if Path(path).is_file()),
                 None) or shutil.which("chromium")
    if found is None:
        _unavailable("Chromium (apt-get install chromium) is not installed")
    try:
        import playwright  # noqa: F401, PLC0415 - only the browser tests need it
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    assert found is not None
    return found


def screenshot_folder(default: Path) -> Path:
    folder = Path(os.environ.get(SCREENSHOTS) or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Headless Chromium for a module's tests (skipped, or failed under CI, without it)."""
    executable = chromium()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - skipped without it

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, headless=True,
                                          args=["--no-sandbox"])
        yield launched
        launched.close()
