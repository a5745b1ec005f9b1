"""docs/security.md and README.md say what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from bankml.settings import ENV_PREFIX, Settings
from bankml.stores.sql.roles import runtime_grants

ROOT = Path(__file__).parents[2]
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)


def test_documented_grants_are_the_runtime_grants() -> None:
    """The SQL a DBA copies from security.md is what runtime_grants gives."""
    [block] = SQL_BLOCK.findall((ROOT / "docs" / "security.md").read_text())
    statements = [line.rstrip(";") for line in block.splitlines()
                  if line and not line.startswith("CREATE ROLE")]

    assert statements == runtime_grants("bankml", "bankml_runtime")


def test_readme_lists_every_setting() -> None:
    """README's settings table has a row for each setting, and none for a setting gone."""
    rows = re.findall(r"^\| `(BANKML_[A-Z0-9_]+)` \|", (ROOT / "README.md").read_text(),
                      re.MULTILINE)

    assert sorted(rows) == sorted(f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields)
