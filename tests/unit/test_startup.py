"""Heavy libraries load when first needed: `import bankml`, `bankml --help` and
`bankml --version` load none of them (what they cost is in benchmarks/startup.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("lightgbm", "sklearn", "pandas", "numpy", "sqlalchemy", "alembic", "duckdb", "shap",
         "matplotlib", "scipy", "pyarrow", "fastapi")
LOADED = "import sys; {run}; print('loaded:', *(m for m in {heavy} if m in sys.modules))"


@pytest.mark.parametrize("run", [
    "import bankml",
    "import bankml.client",
    "from bankml.cli.main import app; app(['--help'], standalone_mode=False)",
], ids=["import", "client", "help"])
def test_nothing_heavy_loads_before_it_is_needed(run: str) -> None:
    assert _loaded_after(run) == []


def test_the_platform_still_loads_on_first_use() -> None:
    assert "sqlalchemy" in _loaded_after("import bankml; bankml.Platform")


def _loaded_after(run: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of the `heavy` libraries a fresh interpreter holds after running `run`."""
    printed = subprocess.run([sys.executable, "-c", LOADED.format(run=run, heavy=heavy)],
                             capture_output=True, text=True, check=True).stdout
    return printed.splitlines()[-1].split()[1:]


def test_the_platform_loads_no_renderer_and_no_redis_client_until_used() -> None:
    """Every command and worker imports the platform: reports (matplotlib, reportlab) load
    when one is written, Redis when a Redis store is opened."""
    assert _loaded_after("import bankml.platform", ("matplotlib", "reportlab", "redis")) == []
