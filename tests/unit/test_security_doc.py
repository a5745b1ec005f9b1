"""docs/security.md and README.md say what the code does; the tests security.md cites exist."""

from __future__ import annotations

import re
from pathlib import Path

from bankml.settings import ENV_PREFIX, Settings
from bankml.stores.sql.roles import runtime_grants

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "security.md"
FILE_BULLET = re.compile(r"^- `(tests/[\w/]+\.py)`")
TEST_NAME = re.compile(r"`(test_\w+)`")
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)


def cited_tests() -> dict[str, set[str]]:
    """Test names by file, from bullets that start with a test file's path."""
    cited: dict[str, set[str]] = {}
    current: str | None = None
    for line in DOC.read_text().splitlines():
        bullet = FILE_BULLET.match(line)
        if bullet is not None:
            current = bullet.group(1)
        elif not line.startswith("  "):
            current = None
        if current is not None:
            cited.setdefault(current, set()).update(TEST_NAME.findall(line))
    return cited


def test_every_cited_test_exists() -> None:
    """Each test the doc cites is defined in the file it is cited under."""
    cited = cited_tests()
    missing = {path: sorted(name for name in names
                            if f"def {name}(" not in (ROOT / path).read_text())
               for path, names in cited.items()}

    assert cited
    assert {path: names for path, names in missing.items() if names} == {}

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
