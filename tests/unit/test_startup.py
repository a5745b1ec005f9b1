"""Heavy libraries load when first needed: `import bankml`, `bankml --help` and
`bankml --version` load none of them (what they cost is in benchmarks/startup.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


LOADED_WITH_THEIR_WORK = ("matplotlib", "reportlab", "redis", "scipy", "sklearn", "lightgbm",
                          "shap")


def test_opening_the_platform_loads_no_renderer_statistics_trainer_or_redis_client(
        tmp_path: Path) -> None:
    """Every command and worker opens the platform: reports (matplotlib, reportlab) load
    when one is written, SciPy when a statistical test runs, scikit-learn and LightGBM
    when a model is trained or loaded, Redis when a Redis store is opened; Alembic only
    when the schema is behind (the home here was created, and migrated, beforehand)."""
    opened = f"from bankml import Platform; Platform.open({str(tmp_path / 'home')!r}).close()"
    subprocess.run([sys.executable, "-c", opened], check=True)

    assert _loaded_after(opened, (*LOADED_WITH_THEIR_WORK, "alembic")) == []
