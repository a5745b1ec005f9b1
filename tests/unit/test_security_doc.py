"""docs/security.md names the tests that prove each control; every one of them exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "security.md"
FILE_BULLET = re.compile(r"^- `(tests/[\w/]+\.py)`")
TEST_NAME = re.compile(r"`(test_\w+)`")


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
