"""People, roles, API tokens and what each role may do.

Tokens look like ``bml_<id>_<secret>``. Only the sha256 of the secret is stored: the
secret has 256 bits of randomness, so a fast hash is enough and no salt is needed.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bankml.core.canonical import sha256_hex
from bankml.core.errors import BankmlError, InvalidInputError

USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,62}")
TOKEN = re.compile(r"bml_([0-9a-f]{16})_([0-9A-Za-z_-]{43})")


class Role(StrEnum):
    DATA_SCIENTIST = "data_scientist"
    VALIDATOR = "validator"
    MODEL_RISK = "model_risk"
    ML_ENGINEER = "ml_engineer"
    BUSINESS_OWNER = "business_owner"
    AUDITOR = "auditor"  # reads everything, changes nothing
    ADMIN = "admin"  # users and settings only; never approves models


class Permission(StrEnum):
    """Every mutating operation, by name; reading needs any active user."""

    USERS_MANAGE = "users.manage"
    TOKENS_MANAGE_OWN = "tokens.manage_own"
    FEATURES_APPLY = "features.apply"
    FEATURES_MATERIALIZE = "features.materialize"
    MODEL_REGISTER = "model.register"
    MODEL_ALIAS = "model.alias"
    TRANSITION_REQUEST = "transition.request"
    TRANSITION_APPROVE = "transition.approve"
    VALIDATION_RECORD = "validation.record"
    FINDING_RECORD = "finding.record"
    FINDING_CLOSE = "finding.close"
    EXCEPTION_GRANT = "exception.grant"
    ALERT_MANAGE = "alert.manage"
    DECISION_MAKE = "decision.make"
    AUDIT_EXPORT = "audit.export"


GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.USERS_MANAGE: frozenset({Role.ADMIN}),
    Permission.TOKENS_MANAGE_OWN: frozenset(Role),
    Permission.FEATURES_APPLY: frozenset({Role.DATA_SCIENTIST, Role.ML_ENGINEER}),
    Permission.FEATURES_MATERIALIZE: frozenset({Role.ML_ENGINEER}),
    Permission.MODEL_REGISTER: frozenset({Role.DATA_SCIENTIST, Role.ML_ENGINEER}),
    Permission.MODEL_ALIAS: frozenset({Role.ML_ENGINEER}),
    Permission.TRANSITION_REQUEST: frozenset({Role.DATA_SCIENTIST, Role.ML_ENGINEER}),
    Permission.TRANSITION_APPROVE: frozenset({Role.VALIDATOR, Role.MODEL_RISK,
                                              Role.BUSINESS_OWNER}),
    Permission.VALIDATION_RECORD: frozenset({Role.VALIDATOR}),
    Permission.FINDING_RECORD: frozenset({Role.VALIDATOR, Role.MODEL_RISK}),
    Permission.FINDING_CLOSE: frozenset({Role.VALIDATOR, Role.MODEL_RISK}),
    Permission.EXCEPTION_GRANT: frozenset({Role.MODEL_RISK}),
    Permission.ALERT_MANAGE: frozenset({Role.ML_ENGINEER, Role.MODEL_RISK}),
    Permission.DECISION_MAKE: frozenset({Role.ML_ENGINEER}),
    Permission.AUDIT_EXPORT: frozenset({Role.AUDITOR, Role.MODEL_RISK, Role.ADMIN}),
}


class AuthenticationError(BankmlError):
    """No valid token: missing, malformed, unknown, expired, revoked, or its user inactive."""

    rule = "auth.token_valid"


class PermissionDeniedError(BankmlError):
    """The user is known but no role of theirs grants the operation."""

    rule = "auth.role_grants"

    def __init__(self, username: str, permission: Permission, roles: frozenset[Role]) -> None:
        self.permission = permission
        needed = ", ".join(sorted(GRANTS[permission]))
        held = ", ".join(sorted(roles)) or "no role"
        super().__init__(f"{username} ({held}) may not {permission}: it needs one of the "
                         f"roles {needed}.")


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    username: str
    display_name: str
    roles: frozenset[Role]
    active: bool = True

    def can(self, permission: Permission) -> bool:
        return self.active and bool(self.roles & GRANTS[permission])


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiToken:
    """A stored token: its id, owner and lifetime; never the secret."""

    token_id: str
    username: str
    secret_sha256: str
    created_at: str
    expires_at: str
    revoked_at: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token as created: the plaintext exists only here, to be shown once."""

    token: ApiToken
    plaintext: str


def authorize(user: User, permission: Permission) -> None:
    """Raise PermissionDeniedError unless one of the user's roles grants `permission`."""
    if not user.can(permission):
        raise PermissionDeniedError(user.username, permission, user.roles)


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise InvalidInputError("username", f"{username!r} must be 2-63 characters: a lower-"
                                "case letter, then letters, digits, '.', '_' or '-'",
                                rule="users.username_format")
    return username


def parse_roles(names: list[str]) -> frozenset[Role]:
    known = {role.value for role in Role}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInputError("role", f"unknown role(s) {', '.join(unknown)}; roles are "
                                f"{', '.join(sorted(known))}", rule="users.role_known")
    return frozenset(Role(name) for name in names)


def mint_token() -> tuple[str, str, str]:
    """A fresh (token id, plaintext token, sha256 of its secret)."""
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return token_id, f"bml_{token_id}_{secret}", sha256_hex(secret)


def split_token(plaintext: str) -> tuple[str, str]:
    """(token id, sha256 of the secret); AuthenticationError if it is not a bankml token."""
    match = TOKEN.fullmatch(plaintext.strip())
    if match is None:
        raise AuthenticationError("The token is malformed: bankml tokens look like "
                                  "bml_<16 hex>_<43 characters>.")
    return match.group(1), sha256_hex(match.group(2))


def secrets_match(stored_sha256: str, offered_sha256: str) -> bool:
    return hmac.compare_digest(stored_sha256, offered_sha256)
