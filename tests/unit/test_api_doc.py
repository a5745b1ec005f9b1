"""docs/api.md lists every route the HTTP service has, with the permission it declares."""

from __future__ import annotations

import re
from pathlib import Path

from bankml.api.app import create_app

DOC = Path(__file__).parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| (GET|POST|PUT|DELETE) \| `([^`]+)` \| ([^|]+) \|", re.MULTILINE)


def test_the_doc_lists_every_route_with_its_permission() -> None:
    """Each operation of the OpenAPI document has one row, naming the permission its
    service checks where the operation declares one."""
    documented = {(method, path): permission.strip()
                  for method, path, permission in ROW.findall(DOC.read_text())}
    operations = {(method.upper(), path): operation
                  for path, item in create_app().openapi()["paths"].items()
                  for method, operation in item.items()}

    assert set(documented) == set(operations)
    for key, operation in operations.items():
        if "x-permission" in operation:
            assert documented[key].startswith(operation["x-permission"]), key
