"""The one authorisation path: every service checks its caller here, in its own transaction.

Interfaces (CLI, HTTP, web UI) authenticate a token into a `Principal` and pass it on;
they decide nothing. A service opens its transaction with `acting` (changes) or `viewing`
(reads of personal data or evidence): the principal's roles are re-read from the store
inside that transaction, so a role revoked a moment ago no longer counts, and the check,
the change and its audit event commit together. A refusal changes nothing and is audited
in a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import NoReturn

from bankml.core.errors import (
    AuthenticationError,
    BankmlError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)
from bankml.core.identity import SYSTEM, Permission, Principal, PrincipalKind
from bankml.core.ports import MetadataStore, Transaction
from bankml.core.refusals import ALL_SUBJECTS, is_recorded, window_of


@contextmanager
def acting(metadata: MetadataStore, principal: Principal, permission: Permission,
           subject: str) -> Iterator[Transaction]:
    """A write transaction in which `principal` holds `permission` on `subject`.

    A rule the work inside breaks (bad input, a conflict, four eyes, evidence that does
    not hold) rolls the transaction back and is then audited in one of its own.
    """
    with audited_refusals(metadata, principal, subject), metadata.transaction() as tx:
        refusal = _refusal(tx, principal, permission)
        if refusal is None:
            yield tx
            return
    refuse(metadata, principal, refusal, subject, permission=permission)


@contextmanager
def viewing(metadata: MetadataStore, principal: Principal, permission: Permission,
            subject: str) -> Iterator[Transaction]:
    """A read-only view for a principal who holds `permission` on `subject`; a rule the
    read breaks is audited as in `acting`."""
    with audited_refusals(metadata, principal, subject), metadata.reading() as tx:
        refusal = _refusal(tx, principal, permission)
        if refusal is None:
            yield tx
            return
    refuse(metadata, principal, refusal, subject, permission=permission)


def require(metadata: MetadataStore, principal: Principal, permission: Permission,
            subject: str) -> None:
    """Check before long work (a refusal audited as always); the transaction that makes the
    change checks again."""
    with viewing(metadata, principal, permission, subject):
        pass


def current(tx: Transaction, principal: Principal) -> Principal:
    """The principal as the store knows it now; AuthenticationError if gone or inactive."""
    if principal.kind in {PrincipalKind.SYSTEM, PrincipalKind.AUTOMATION}:
        return principal  # bankml itself: no stored user, its grants are fixed in code
    try:
        stored = tx.users.get(principal.name)
    except NotFoundError:
        raise AuthenticationError(f"{principal.name} is not a known user.") from None
    if not stored.active:
        raise AuthenticationError(f"{principal.name} is deactivated.")
    return stored


def refuse(metadata: MetadataStore, principal: Principal, error: BankmlError, subject: str,
           *, permission: Permission | None = None) -> NoReturn:
    """Record the refusal as its own audit event, then raise it."""
    action = ("auth.refused" if isinstance(error, AuthenticationError) else
              "auth.forbidden" if permission is not None else
              "input.refused" if isinstance(error, InvalidInputError) else
              "governance.refused")
    payload: dict[str, object] = {"rule": error.rule, "reason": str(error)}
    if permission is not None:
        payload["permission"] = str(permission)
        payload["roles"] = sorted(principal.roles)
    if error.field is not None:
        payload["field"] = error.field
    with metadata.transaction() as tx:
        if action == "auth.refused":
            record_unauthenticated(tx, principal.name, subject, payload)
        else:
            tx.audit.record(principal.name, action, subject, payload)
    error.audited = True
    raise error


def record_unauthenticated(tx: Transaction, actor: str, subject: str,
                           payload: Mapping[str, object], *,
                           moment: datetime | None = None) -> bool:
    """Record an `auth.refused`, or only count it once its minute has had enough
    (core/refusals.py); returns whether it became an audit event."""
    window = window_of(moment or datetime.now(UTC))
    summarise_refusals(tx, window)
    of_subject = tx.refusals.count(window, subject)
    of_all = tx.refusals.count(window, ALL_SUBJECTS)
    if not is_recorded(of_subject, of_all):
        return False
    tx.audit.record(actor, "auth.refused", subject, payload)
    tx.refusals.mark_recorded(window, subject)
    tx.refusals.mark_recorded(window, ALL_SUBJECTS)
    return True


def summarise_refusals(tx: Transaction, window: str) -> None:
    """One `auth.refused_summary` per subject whose refusals of a minute before `window`
    were not all recorded, then those minutes' counts are dropped."""
    closed = tx.refusals.closed(window)
    for count in closed:
        if count.subject != ALL_SUBJECTS and count.unrecorded:
            tx.audit.record(SYSTEM.name, "auth.refused_summary", count.subject, {
                "minute": count.window, "refused": count.refused,
                "recorded": count.recorded, "not_recorded": count.unrecorded})
    if closed:
        tx.refusals.forget(window)


@contextmanager
def audited_refusals(metadata: MetadataStore, principal: Principal,
                     subject: str) -> Iterator[None]:
    """A BankmlError raised inside is audited as `principal`'s refusal, then raised.

    Not audited: a name that does not exist (a lookup, not a rule broken), a store that
    cannot serve (recording would fail alike), and refusals recorded already.
    """
    try:
        yield
    except (NotFoundError, UnavailableError):
        raise
    except BankmlError as error:
        if error.audited:
            raise
        refuse(metadata, principal, error, subject)


def _refusal(tx: Transaction, principal: Principal,
             permission: Permission) -> BankmlError | None:
    try:
        current(tx, principal).require(permission)
    except BankmlError as error:  # AuthenticationError or RoleDeniedError
        return error
    return None
