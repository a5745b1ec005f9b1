"""docs/governance.md states the permission matrix the code enforces."""

from __future__ import annotations

from pathlib import Path

from bankml.core.identity import GRANTS, Permission, Role

DOC = Path(__file__).parents[2] / "docs" / "governance.md"


def test_documented_matrix_equals_the_grants() -> None:
    """Every row of the doc's table lists exactly the roles GRANTS gives that permission."""
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| permission |"))
    roles = [cell.strip() for cell in lines[start].strip("|").split("|")[1:]]
    documented = {}
    for line in lines[start + 2:]:
        if not line.startswith("| `"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        permission = Permission(cells[0].strip("`"))
        documented[permission] = {Role(r) for r, cell in zip(roles, cells[1:], strict=True)
                                  if cell == "yes"}

    assert documented == {permission: set(roles) for permission, roles in GRANTS.items()}
