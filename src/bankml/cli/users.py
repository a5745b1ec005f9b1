"""`bankml users` and `bankml tokens`: people, roles and the tokens they act with."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.identity import Role, parse_roles
from bankml.governance.identity import DEFAULT_TOKEN_DAYS

users_app = new_group("People and their roles (admins only, except listing).")
tokens_app = new_group("API tokens: create (shown once), list, revoke.")
Username = Annotated[str, typer.Argument(help="The person's username.")]
RoleArgument = Annotated[Role, typer.Argument(help="A role.")]


@users_app.command("add")
def add(username: Username,
        role: Annotated[list[str], typer.Option("--role", help="A role; repeat for more.")],
        name: Annotated[str, typer.Option(help="Display name.")] = "",
        home: HomeOption = None, token: TokenOption = None) -> None:
    """Add a person with one or more roles."""
    with open_platform(home) as platform:
        by = acting_user(platform, token)
        user = platform.identity.add_user(by, username, roles=parse_roles(role),
                                          display_name=name)
    console.print(f"Added {user.username} with roles {', '.join(sorted(user.roles))}. "
                  f"They get a token with: bankml tokens create --user {user.username}")


@users_app.command("list")
def list_users(home: HomeOption = None, token: TokenOption = None) -> None:
    """Everyone, with their roles."""
    with open_platform(home) as platform:
        acting_user(platform, token)
        people = platform.identity.users()
    table = Table(title="Users")
    for column in ("username", "name", "roles", "active"):
        table.add_column(column)
    for user in people:
        table.add_row(user.username, user.display_name, ", ".join(sorted(user.roles)),
                      "yes" if user.active else "no")
    console.print(table)


@users_app.command("grant")
def grant(username: Username, role: RoleArgument, home: HomeOption = None,
          token: TokenOption = None) -> None:
    """Give a person a role."""
    with open_platform(home) as platform:
        user = platform.identity.grant(acting_user(platform, token), username, role)
    console.print(f"{user.username} now has: {', '.join(sorted(user.roles))}")


@users_app.command("revoke")
def revoke(username: Username, role: RoleArgument, home: HomeOption = None,
           token: TokenOption = None) -> None:
    """Take a role from a person."""
    with open_platform(home) as platform:
        user = platform.identity.revoke(acting_user(platform, token), username, role)
    console.print(f"{user.username} now has: {', '.join(sorted(user.roles)) or 'no role'}")


@users_app.command("deactivate")
def deactivate(username: Username, home: HomeOption = None, token: TokenOption = None) -> None:
    """Stop a person from acting at all; their history stays."""
    with open_platform(home) as platform:
        platform.identity.deactivate(acting_user(platform, token), username)
    console.print(f"{username} is deactivated.")


@tokens_app.command("create")
def create(user: Annotated[str | None, typer.Option(help="Whose token (admins only; "
                                                          "default: yours).")] = None,
           days: Annotated[int, typer.Option(help="Lifetime in days.")] = DEFAULT_TOKEN_DAYS,
           description: Annotated[str, typer.Option(help="What it is for.")] = "",
           home: HomeOption = None, token: TokenOption = None) -> None:
    """Create a token; it is printed once and never again."""
    with open_platform(home) as platform:
        by = acting_user(platform, token)
        new = platform.identity.create_token(by, user, days=days, description=description)
    console.print(f"Token {new.token.token_id} for {new.token.username}, valid until "
                  f"{new.token.expires_at}. It is shown only now:")
    console.print(new.plaintext, markup=False, highlight=False, soft_wrap=True)


@tokens_app.command("list")
def list_tokens(user: Annotated[str | None, typer.Option(help="Whose tokens.")] = None,
                home: HomeOption = None, token: TokenOption = None) -> None:
    """Tokens of a person (default: yours), without their secrets."""
    with open_platform(home) as platform:
        by = acting_user(platform, token)
        tokens = platform.identity.tokens(user or by.username)
    table = Table(title=f"Tokens of {user or by.username}")
    for column in ("id", "created", "expires", "revoked", "description"):
        table.add_column(column)
    for item in tokens:
        table.add_row(item.token_id, item.created_at[:19], item.expires_at[:19],
                      (item.revoked_at or "")[:19], item.description)
    console.print(table)


@tokens_app.command("revoke")
def revoke_token(token_id: Annotated[str, typer.Argument(help="The token's id.")],
                 home: HomeOption = None, token: TokenOption = None) -> None:
    """Revoke a token at once."""
    with open_platform(home) as platform:
        platform.identity.revoke_token(acting_user(platform, token), token_id)
    console.print(f"Token {token_id} is revoked.")
