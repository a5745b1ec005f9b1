"""People routes: users, service accounts, role grants (with a second admin), tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from bankml.api.routing import Body, Context, calls
from bankml.api.views import grant_view, new_token_view, token_view, user_view
from bankml.core.identity import DEFAULT_TOKEN_DAYS, Permission, Role

router = APIRouter(tags=["people"])
Username = Field(min_length=1, max_length=63)
DisplayName = Field("", max_length=200)


class UserBody(Body):
    username: str = Username
    roles: list[Role] = Field(description="Roles that validate or approve wait for a "
                                          "second admin's confirmation.")
    display_name: str = DisplayName


class ServiceAccountBody(Body):
    name: str = Username
    scopes: list[str] = Field(description="Endpoints the application may call; * for all.")
    display_name: str = DisplayName


class GrantBody(Body):
    role: Role


class TokenBody(Body):
    username: str | None = Field(None, max_length=63,
                                 description="Whose token (default: yours; another's needs "
                                             "users.manage).")
    days: int = Field(DEFAULT_TOKEN_DAYS, description="Lifetime in days (at most 365).")
    description: str = Field("", max_length=200)


@router.get("/v1/users", summary="Everyone, with their roles or scopes",
            openapi_extra=calls(Permission.USERS_READ))
def list_users(context: Context) -> dict[str, Any]:
    return {"users": [user_view(u) for u in context.platform.identity.users(context.principal)]}


@router.post("/v1/users", status_code=201, summary="Add a person with roles",
             openapi_extra=calls(Permission.USERS_MANAGE))
def add_user(body: UserBody, context: Context) -> dict[str, Any]:
    """Roles that take effect at once are in `roles`; the others are in `pending`, each
    waiting for a second admin (POST /v1/grants/{grant_id}/confirm)."""
    identity, by = context.platform.identity, context.principal
    user = identity.add_user(by, body.username, roles=frozenset(body.roles),
                             display_name=body.display_name)
    pending = identity.grants(by, username=user.name, pending_only=True)
    return {**user_view(user), "pending": [grant_view(grant) for grant in pending]}


@router.post("/v1/service-accounts", status_code=201,
             summary="Add an application's service account, scoped to endpoints",
             openapi_extra=calls(Permission.USERS_MANAGE))
def add_service_account(body: ServiceAccountBody, context: Context) -> dict[str, Any]:
    return user_view(context.platform.identity.add_service_account(
        context.principal, body.name, scopes=frozenset(body.scopes),
        display_name=body.display_name))


@router.post("/v1/users/{username}/roles", status_code=201,
             summary="Grant a role; one that validates or approves waits for a second admin",
             openapi_extra=calls(Permission.USERS_MANAGE))
def grant(username: str, body: GrantBody, context: Context) -> dict[str, Any]:
    return grant_view(context.platform.identity.grant(context.principal, username, body.role))


@router.delete("/v1/users/{username}/roles/{role}", summary="Take a role from a person",
               openapi_extra=calls(Permission.USERS_MANAGE))
def revoke(username: str, role: Role, context: Context) -> dict[str, Any]:
    return user_view(context.platform.identity.revoke(context.principal, username, role))


@router.post("/v1/users/{username}/deactivate",
             summary="Stop a person from acting at all; their history stays",
             openapi_extra=calls(Permission.USERS_MANAGE))
def deactivate(username: str, context: Context) -> dict[str, Any]:
    return user_view(context.platform.identity.deactivate(context.principal, username))


@router.get("/v1/grants", summary="Every role grant: to whom, by whom, confirmed by whom",
            openapi_extra=calls(Permission.USERS_READ))
def list_grants(context: Context, username: str | None = None,
                pending: bool = False) -> dict[str, Any]:
    found = context.platform.identity.grants(context.principal, username=username,
                                             pending_only=pending)
    return {"grants": [grant_view(g) for g in found]}


@router.post("/v1/grants/{grant_id}/confirm",
             summary="Confirm another admin's grant as the second admin",
             openapi_extra=calls(Permission.USERS_MANAGE))
def confirm_grant(grant_id: int, context: Context) -> dict[str, Any]:
    return grant_view(context.platform.identity.confirm_grant(context.principal, grant_id))


@router.post("/v1/tokens", status_code=201,
             summary="Create a token; its plaintext is in this response only",
             openapi_extra=calls(Permission.TOKENS_MANAGE_OWN, own=True))
def create_token(body: TokenBody, context: Context) -> dict[str, Any]:
    return new_token_view(context.platform.identity.create_token(
        context.principal, body.username, days=body.days, description=body.description))


@router.get("/v1/tokens", summary="Tokens of a person (default: yours), without secrets",
            openapi_extra=calls(Permission.TOKENS_MANAGE_OWN, own=True))
def list_tokens(context: Context, username: str | None = None) -> dict[str, Any]:
    found = context.platform.identity.tokens(context.principal, username)
    return {"tokens": [token_view(token) for token in found]}


@router.post("/v1/tokens/{token_id}/revoke", summary="Revoke a token at once",
             openapi_extra=calls(Permission.TOKENS_MANAGE_OWN, own=True))
def revoke_token(token_id: str, context: Context) -> dict[str, Any]:
    return token_view(context.platform.identity.revoke_token(context.principal, token_id))
