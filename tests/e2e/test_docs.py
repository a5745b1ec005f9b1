"""The Python in README.md and docs/ runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bankml import Platform

ROOT = Path(__file__).parents[2]
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_blocks(document: str) -> list[str]:
    return PYTHON_BLOCK.findall((ROOT / document).read_text())


def run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_readme_example_runs(tmp_path: Path) -> None:
    """The README's Python tour adds people, trains, reproduces and verifies the trail."""
    [block] = python_blocks("README.md")

    result = run(block, tmp_path)

    assert result.returncode == 0, result.stderr


@pytest.fixture
def home_with_events(tmp_path: Path) -> Path:
    with Platform.open(tmp_path / ".bankml") as platform, \
            platform.metadata.transaction() as tx:
        for index in range(3):
            tx.audit.record("alice", "model.registered", f"model:pd@{index}",
                            {"name": "Müller", "auc": 0.71})
    return tmp_path


def test_audit_doc_verifies_an_intact_chain(home_with_events: Path) -> None:
    """The doc's stand-alone check agrees with bankml on an intact chain."""
    [block] = python_blocks("docs/audit.md")

    result = run(block, home_with_events)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3 events verified"


def test_audit_doc_catches_an_edit(home_with_events: Path) -> None:
    """The doc's stand-alone check names an edited event."""
    [block] = python_blocks("docs/audit.md")
    tamper = ("import sqlite3\n"
              "db = sqlite3.connect('.bankml/metadata.db')\n"
              "db.execute('DROP TRIGGER audit_events_no_update')\n"
              "db.execute(\"UPDATE audit_events SET actor = 'x' WHERE sequence = 2\")\n"
              "db.commit()\n")
    assert run(tamper, home_with_events).returncode == 0

    result = run(block, home_with_events)

    assert result.returncode == 1
    assert "event 2 was edited" in result.stderr


def test_features_doc_definitions_run(tmp_path: Path) -> None:
    """The feature definitions in docs/features.md are valid as written."""
    definitions = python_blocks("docs/features.md")[0]

    result = run(definitions + "\nprint(card_activity.feature_names)\n", tmp_path)

    assert result.returncode == 0, result.stderr
    assert "amount_sum_24h" in result.stdout


def test_explanations_doc_example_runs(tmp_path: Path) -> None:
    """The explanations guide's example prints the top input and up to four reasons."""
    [block] = python_blocks("docs/explanations.md")

    result = run(block, tmp_path)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("FeatureImportance(")
    assert 1 <= len(lines) - 1 <= 4


def test_registry_doc_example_runs(tmp_path: Path) -> None:
    """The registry doc's example trains, aliases, promotes and reproduces."""
    [block] = python_blocks("docs/registry.md")

    result = run(block, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["open", "identical"]
