"""The layers hold for packages not written yet: core imports the standard library alone,
and a new package that reaches for the stores, or sits in no layer, breaks `make lint`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import bankml

SOURCE = Path(bankml.__file__).parent
PROJECT = SOURCE.parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_core_imports_the_standard_library_alone() -> None:
    """Beyond the contract's list of frameworks: no third-party import at run time."""
    graph = grimp.build_graph("bankml", include_external_packages=True,
                              exclude_type_checking_imports=True, cache_dir=None)
    outside = {
        imported.split(".")[0]
        for module in graph.find_descendants("bankml.core") | {"bankml.core"}
        for imported in graph.find_modules_directly_imported_by(module)
        if not imported.startswith("bankml.")
    }

    assert outside - sys.stdlib_module_names == set()


@pytest.mark.slow
@pytest.mark.parametrize(("probe", "broken"), [
    ("from bankml.stores.sql import tables\n", "is not allowed to import bankml.stores"),
    ("import sqlalchemy\n", "is not allowed to import sqlalchemy"),
    ("", "must be declared as a layer"),
], ids=["stores", "sqlalchemy", "unplaced"])
def test_a_new_package_is_held_to_the_layers(tmp_path: Path, probe: str, broken: str) -> None:
    """A copy of the source with a package no contract names: lint breaks, saying why."""
    shutil.copytree(SOURCE, tmp_path / "bankml", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "bankml" / "monitoring_probe").mkdir()
    (tmp_path / "bankml" / "monitoring_probe" / "__init__.py").write_text(probe)
    shutil.copy(PROJECT / "pyproject.toml", tmp_path / "pyproject.toml")

    linted = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, text=True,
                            capture_output=True, env={"PYTHONPATH": str(tmp_path)}, check=False)

    assert linted.returncode == 1, linted.stdout
    assert broken in linted.stdout
