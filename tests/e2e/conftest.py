"""People with tokens for end-to-end runs of commands that change state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.identity import Role
from support.people import admins, person

TokenFor = Callable[[Path, Role], str]


@pytest.fixture(scope="session")
def token_for() -> TokenFor:
    """A token of a person holding `role` in the home (its first admin is created if needed)."""

    def issue(home: Path, role: Role) -> str:
        with Platform.open(home) as platform:
            first, _ = admins(platform)
            username = f"e2e-{role.replace('_', '-')}"
            if username not in {u.name for u in platform.identity.users(first)}:
                person(platform, username, role)
            return platform.identity.create_token(first, username, days=1).plaintext

    return issue
