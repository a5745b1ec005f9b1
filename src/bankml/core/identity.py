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
from bankml.core.errors import AuthenticationError, InvalidInputError, PermissionDeniedError

USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,62}")
TOKEN = re.compile(r"bml_([0-9a-f]{16})_([0-9A-Za-z_-]{43})")
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365


class Role(StrEnum):
    DATA_SCIENTIST = "data_scientist"
    VALIDATOR = "validator"
    MODEL_RISK = "model_risk"
    ML_ENGINEER = "ml_engineer"
    BUSINESS_OWNER = "business_owner"
    AUDITOR = "auditor"  # reads everything, changes nothing
    ADMIN = "admin"  # people and access only; never registers, validates or approves


class PrincipalKind(StrEnum):
    PERSON = "person"
    SERVICE = "service"  # an application calling decision endpoints with its own token
    SYSTEM = "system"  # bankml itself: executing approved requests, schedules, controllers
    AUTOMATION = "automation"  # bankml retraining a model on a red alert (closing the loop)


class Permission(StrEnum):
    """Every operation that changes something or reads personal data or evidence, by name."""

    USERS_MANAGE = "users.manage"
    USERS_READ = "users.read"
    TOKENS_MANAGE_OWN = "tokens.manage_own"
    FEATURES_APPLY = "features.apply"
    FEATURES_MATERIALIZE = "features.materialize"
    FEATURES_READ = "features.read"  # online values of an entity: personal data
    MODEL_REGISTER = "model.register"
    MODEL_ALIAS = "model.alias"
    EVIDENCE_READ = "evidence.read"  # versions, manifests, runs, cards, requests, inventory
    TRANSITION_REQUEST = "transition.request"
    TRANSITION_APPROVE = "transition.approve"
    VALIDATION_RUN = "validation.run"
    VALIDATION_RECORD = "validation.record"
    FINDING_RECORD = "finding.record"
    FINDING_CLOSE = "finding.close"
    EXCEPTION_GRANT = "exception.grant"
    ALERT_MANAGE = "alert.manage"
    LABELS_INGEST = "labels.ingest"  # outcomes that arrive after the decision
    MONITORING_RUN = "monitoring.run"
    ENDPOINT_APPLY = "endpoint.apply"
    ROLLOUT_DEPLOY = "rollout.deploy"  # start a challenger's rollout on an endpoint
    ROLLOUT_PAUSE = "rollout.pause"  # hold a rollout at its step, and resume it
    ROLLOUT_PROMOTE = "rollout.promote"  # make the challenger champion before its plan ends
    ROLLOUT_ROLLBACK = "rollout.rollback"  # send every decision back to the champion
    DECISION_MAKE = "decision.make"
    DECISION_READ = "decision.read"  # a decision's inputs: personal data
    DECISION_REPLAY = "decision.replay"
    DECISION_OVERRIDE = "decision.override"
    AUDIT_READ = "audit.read"
    AUDIT_EXPORT = "audit.export"
    ARTIFACTS_COLLECT = "artifacts.collect"  # remove what no record refers to


EVERY_ROLE = frozenset(Role)
GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.USERS_MANAGE: frozenset({Role.ADMIN}),
    Permission.USERS_READ: frozenset({Role.ADMIN, Role.AUDITOR, Role.MODEL_RISK}),
    Permission.TOKENS_MANAGE_OWN: EVERY_ROLE,
    Permission.FEATURES_APPLY: frozenset({Role.DATA_SCIENTIST, Role.ML_ENGINEER}),
    Permission.FEATURES_MATERIALIZE: frozenset({Role.ML_ENGINEER}),
    Permission.FEATURES_READ: frozenset({Role.DATA_SCIENTIST, Role.ML_ENGINEER,
                                         Role.AUDITOR}),
    Permission.MODEL_REGISTER: frozenset({Role.DATA_SCIENTIST, Role.ML_ENGINEER}),
    Permission.MODEL_ALIAS: frozenset({Role.ML_ENGINEER}),
    Permission.EVIDENCE_READ: EVERY_ROLE,
    Permission.TRANSITION_REQUEST: frozenset({Role.DATA_SCIENTIST, Role.ML_ENGINEER}),
    Permission.TRANSITION_APPROVE: frozenset({Role.VALIDATOR, Role.MODEL_RISK,
                                              Role.BUSINESS_OWNER}),
    Permission.VALIDATION_RUN: frozenset({Role.VALIDATOR}),
    Permission.VALIDATION_RECORD: frozenset({Role.VALIDATOR}),
    Permission.FINDING_RECORD: frozenset({Role.VALIDATOR, Role.MODEL_RISK}),
    Permission.FINDING_CLOSE: frozenset({Role.VALIDATOR, Role.MODEL_RISK}),
    Permission.EXCEPTION_GRANT: frozenset({Role.MODEL_RISK}),
    Permission.ALERT_MANAGE: frozenset({Role.ML_ENGINEER, Role.MODEL_RISK}),
    Permission.LABELS_INGEST: frozenset({Role.ML_ENGINEER}),
    Permission.MONITORING_RUN: frozenset({Role.ML_ENGINEER, Role.MODEL_RISK}),
    Permission.ENDPOINT_APPLY: frozenset({Role.ML_ENGINEER}),
    Permission.ROLLOUT_DEPLOY: frozenset({Role.ML_ENGINEER}),
    Permission.ROLLOUT_PAUSE: frozenset({Role.ML_ENGINEER, Role.MODEL_RISK}),
    Permission.ROLLOUT_PROMOTE: frozenset({Role.ML_ENGINEER}),
    Permission.ROLLOUT_ROLLBACK: frozenset({Role.ML_ENGINEER}),
    Permission.DECISION_MAKE: frozenset({Role.ML_ENGINEER}),
    Permission.DECISION_READ: frozenset({Role.ML_ENGINEER, Role.VALIDATOR, Role.MODEL_RISK,
                                         Role.AUDITOR}),
    Permission.DECISION_REPLAY: frozenset({Role.ML_ENGINEER, Role.VALIDATOR, Role.MODEL_RISK,
                                           Role.AUDITOR}),
    # a person takes another outcome than the model's, on the record (the business decides)
    Permission.DECISION_OVERRIDE: frozenset({Role.BUSINESS_OWNER}),
    Permission.AUDIT_READ: frozenset({Role.AUDITOR, Role.MODEL_RISK, Role.ADMIN}),
    Permission.AUDIT_EXPORT: frozenset({Role.AUDITOR, Role.MODEL_RISK, Role.ADMIN}),
    Permission.ARTIFACTS_COLLECT: frozenset({Role.ML_ENGINEER}),
}
# What an application's service account may do, within the endpoints of its scopes.
SERVICE_GRANTS = frozenset({Permission.DECISION_MAKE, Permission.DECISION_READ})
# What bankml does on its own: execute approved requests, raise alerts, run controllers.
SYSTEM_GRANTS = frozenset({Permission.ALERT_MANAGE, Permission.EVIDENCE_READ,
                           Permission.MONITORING_RUN, Permission.ROLLOUT_PROMOTE,
                           Permission.ROLLOUT_ROLLBACK})
# What the retraining automation may do: build, register, run (never record) validation, ask
# for staging, deploy in shadow. It never signs off, approves, grants exceptions or promotes:
# its validation runs are self-tests of its own builds, and people still decide.
AUTOMATION_GRANTS = frozenset({Permission.EVIDENCE_READ, Permission.MODEL_REGISTER,
                               Permission.VALIDATION_RUN, Permission.TRANSITION_REQUEST,
                               Permission.ROLLOUT_DEPLOY})
# Roles whose grant is a control in itself: giving one needs a second admin (four eyes).
CONTROL_ROLES = frozenset(
    role for role in Role
    if role in GRANTS[Permission.TRANSITION_APPROVE] | GRANTS[Permission.VALIDATION_RECORD])


class RoleDeniedError(PermissionDeniedError):
    """The caller is known but no role of theirs grants the operation."""

    rule = "auth.role_grants"

    def __init__(self, name: str, permission: Permission, roles: frozenset[Role]) -> None:
        self.permission = permission
        needed = ", ".join(sorted(GRANTS[permission])) or "no role"
        held = ", ".join(sorted(roles)) or "no role"
        super().__init__(f"{name} ({held}) may not {permission}: it needs one of the roles "
                         f"{needed}.")


class ScopeDeniedError(PermissionDeniedError):
    """A service account called an endpoint outside its scopes."""

    rule = "auth.scope_grants"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who acts: a person, an application's service account, or bankml itself.

    Interfaces authenticate a token into a principal and hand it to the services, which
    check its permission (re-reading its roles) in the transaction of the change.
    """

    name: str
    roles: frozenset[Role] = frozenset()
    display_name: str = ""
    kind: PrincipalKind = PrincipalKind.PERSON
    scopes: frozenset[str] = frozenset()  # service accounts: endpoints they may call
    active: bool = True

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def can(self, permission: Permission) -> bool:
        if not self.active:
            return False
        if self.kind == PrincipalKind.SYSTEM:
            return permission in SYSTEM_GRANTS
        if self.kind == PrincipalKind.AUTOMATION:
            return permission in AUTOMATION_GRANTS
        if self.kind == PrincipalKind.SERVICE:
            return permission in SERVICE_GRANTS
        return bool(self.roles & GRANTS[permission])

    def require(self, permission: Permission) -> None:
        """RoleDeniedError unless the principal may do `permission`."""
        if not self.can(permission):
            raise RoleDeniedError(self.name, permission, self.roles)

    def may_call(self, endpoint: str) -> bool:
        """Service accounts call only the endpoints of their scopes; people are not scoped."""
        if self.kind != PrincipalKind.SERVICE:
            return True
        return "*" in self.scopes or endpoint in self.scopes

    def require_scope(self, endpoint: str) -> None:
        if not self.may_call(endpoint):
            scopes = ", ".join(sorted(self.scopes)) or "none"
            raise ScopeDeniedError(f"{self.name} may call only the endpoints {scopes}, not "
                                   f"{endpoint!r}.", field="endpoint")


SYSTEM = Principal(name="system", display_name="bankml", kind=PrincipalKind.SYSTEM)


def automation(name: str) -> Principal:
    """The retraining automation acting as `name` (the setting `BANKML_AUTOMATION_ACTOR`)."""
    if not USERNAME.fullmatch(name):
        raise InvalidInputError("automation_actor", f"{name!r} is not a user name (lower "
                                "case letters, digits, '.', '_' or '-', 2-63 characters)",
                                rule="identity.username")
    return Principal(name=name, display_name="bankml retraining",
                     kind=PrincipalKind.AUTOMATION)


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


class GrantStatus(StrEnum):
    PENDING = "pending"  # waits for a second admin
    EFFECTIVE = "effective"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleGrant:
    """One role given to one person: by whom, when, and who confirmed it if it needed that."""

    grant_id: int
    username: str
    role: Role
    granted_by: str
    granted_at: str
    status: GrantStatus
    confirmed_by: str | None = None
    confirmed_at: str | None = None

    @property
    def effective_at(self) -> str | None:
        if self.status != GrantStatus.EFFECTIVE:
            return None
        return self.confirmed_at or self.granted_at

    def grantors(self) -> frozenset[str]:
        """Everyone who had a hand in the grant."""
        return frozenset(n for n in (self.granted_by, self.confirmed_by) if n is not None)


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token as created: the plaintext exists only here, to be shown once."""

    token: ApiToken
    plaintext: str


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
