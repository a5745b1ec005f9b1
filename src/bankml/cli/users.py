"""`bankml users` and `bankml tokens`: people, roles and the tokens they act with."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.identity import (
    DEFAULT_TOKEN_DAYS,
    GrantStatus,
    PrincipalKind,
    Role,
    RoleGrant,
    parse_roles,
)

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
        pending = platform.identity.grants(by, username=username, pending_only=True)
    console.print(f"Added {user.name} with roles {', '.join(sorted(user.roles)) or 'none'}. "
                  f"They get a token with: bankml tokens create --user {user.name}")
    _print_pending(pending)


@users_app.command("add-service")
def add_service(name: Username,
                scope: Annotated[list[str], typer.Option(
                    "--scope", help="An endpoint the application may call (* for all); "
                                    "repeat for more.")],
                display: Annotated[str, typer.Option("--name", help="Display name.")] = "",
                home: HomeOption = None, token: TokenOption = None) -> None:
    """Add an application's service account, scoped to the endpoints it may call."""
    with open_platform(home) as platform:
        account = platform.identity.add_service_account(
            acting_user(platform, token), name, scopes=frozenset(scope), display_name=display)
    console.print(f"Added service account {account.name} for {', '.join(sorted(account.scopes))}"
                  f". Give it a token with: bankml tokens create --user {account.name}")


@users_app.command("list")
def list_users(home: HomeOption = None, token: TokenOption = None) -> None:
    """Everyone, with their roles."""
    with open_platform(home) as platform:
        people = platform.identity.users(acting_user(platform, token))
    table = Table(title="Users")
    for column in ("username", "name", "kind", "roles or scopes", "active"):
        table.add_column(column)
    for user in people:
        held = user.scopes if user.kind == PrincipalKind.SERVICE else user.roles
        table.add_row(user.name, user.display_name, str(user.kind), ", ".join(sorted(held)),
                      "yes" if user.active else "no")
    console.print(table)


@users_app.command("grant")
def grant(username: Username, role: RoleArgument, home: HomeOption = None,
          token: TokenOption = None) -> None:
    """Give a person a role; a role that validates or approves waits for a second admin."""
    with open_platform(home) as platform:
        given = platform.identity.grant(acting_user(platform, token), username, role)
    if given.status == GrantStatus.PENDING:
        _print_pending([given])
    else:
        console.print(f"{username} now holds {role} (grant #{given.grant_id}).")


@users_app.command("confirm")
def confirm(grant_id: Annotated[int, typer.Argument(help="The grant's number.")],
            home: HomeOption = None, token: TokenOption = None) -> None:
    """Confirm another admin's grant as the second admin; the role takes effect now."""
    with open_platform(home) as platform:
        given = platform.identity.confirm_grant(acting_user(platform, token), grant_id)
    console.print(f"{given.username} now holds {given.role} (grant #{given.grant_id}, asked "
                  f"by {given.granted_by}, confirmed by {given.confirmed_by}).")


@users_app.command("grants")
def grants(username: Annotated[str | None, typer.Option("--user", help="Only this person.")]
           = None,
           pending: Annotated[bool, typer.Option(help="Only grants awaiting a second admin.")]
           = False,
           home: HomeOption = None, token: TokenOption = None) -> None:
    """Every role grant: to whom, by whom, when, and who confirmed it."""
    with open_platform(home) as platform:
        found = platform.identity.grants(acting_user(platform, token), username=username,
                                         pending_only=pending)
    console.print(grants_table(found))


def grants_table(found: list[RoleGrant]) -> Table:
    table = Table(title="Role grants")
    for column in ("#", "user", "role", "granted by", "at (UTC)", "status", "confirmed by"):
        table.add_column(column)
    for given in found:
        table.add_row(str(given.grant_id), given.username, str(given.role), given.granted_by,
                      given.granted_at[:19].replace("T", " "), str(given.status),
                      given.confirmed_by or "")
    return table


def _print_pending(pending: list[RoleGrant]) -> None:
    for given in pending:
        console.print(f"Grant #{given.grant_id} of {given.role} to {given.username} waits for "
                      f"a second admin: bankml users confirm {given.grant_id}")


@users_app.command("revoke")
def revoke(username: Username, role: RoleArgument, home: HomeOption = None,
           token: TokenOption = None) -> None:
    """Take a role from a person."""
    with open_platform(home) as platform:
        user = platform.identity.revoke(acting_user(platform, token), username, role)
    console.print(f"{user.name} now has: {', '.join(sorted(user.roles)) or 'no role'}")


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
        tokens = platform.identity.tokens(by, user)
    table = Table(title=f"Tokens of {user or by.name}")
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
