"""People with tokens for end-to-end runs of commands that change state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.identity import Role

TokenFor = Callable[[Path, Role], str]


@pytest.fixture(scope="session")
def token_for() -> TokenFor:
    """A token of a person holding `role` in the home (its first admin is created if needed)."""

    def issue(home: Path, role: Role) -> str:
        with Platform.open(home) as platform:
            identity = platform.identity
            identity.bootstrap_admin("admin")
            admin = next(u for u in identity.users() if Role.ADMIN in u.roles)
            username = f"e2e-{role.replace('_', '-')}"
            if username not in {u.username for u in identity.users()}:
                identity.add_user(admin, username, roles=frozenset({role}))
            return identity.create_token(admin, username, days=1).plaintext

    return issue
