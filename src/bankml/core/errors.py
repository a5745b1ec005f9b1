"""Every error bankml raises on purpose, by what it means to the caller.

Seven kinds, each answered one way by every interface (the CLI prints message and rule;
the HTTP API picks its status from the kind alone):

| kind                     | means                                          | HTTP |
|--------------------------|------------------------------------------------|------|
| `InvalidInputError`      | the input breaks a stated rule; nothing changed | 422  |
| `NotFoundError`          | what was named does not exist                   | 404  |
| `ConflictError`          | valid, but the current state forbids it         | 409  |
| `AuthenticationError`    | no valid credentials                            | 401  |
| `PermissionDeniedError`  | known caller, not allowed (role, four eyes)     | 403  |
| `UnavailableError`       | a store cannot serve now; try again later        | 503  |
| `IntegrityError`         | stored evidence does not hold; never served     | 500  |

Every error carries the `rule` it enforces and, where one input is at fault, its `field`.
Messages make sense wherever they are read: command hints are the CLI's to add.
"""

from __future__ import annotations


class BankmlError(Exception):
    """Root of every error we raise on purpose."""

    rule: str = "bankml"  # shown by the CLI and in problem+json
    field: str | None = None  # the input at fault, when there is one
    audited: bool = False  # set once the refusal is on the audit trail

    def __init__(self, message: str, *, rule: str | None = None,
                 field: str | None = None) -> None:
        if rule is not None:
            self.rule = rule
        if field is not None:
            self.field = field
        super().__init__(message)


class InvalidInputError(BankmlError):
    """Input that breaks a stated rule; nothing was changed."""

    rule = "input.valid"

    def __init__(self, field: str, message: str, *, rule: str | None = None) -> None:
        super().__init__(f"{field}: {message}", rule=rule, field=field)


class NotFoundError(BankmlError):
    """Something asked for by name or digest does not exist."""

    rule = "reference.exists"

    def __init__(self, kind: str, key: str, hint: str = "", *,
                 field: str | None = None) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"No {kind} {key!r}." + (f" {hint}" if hint else ""), field=field)


class ConflictError(BankmlError):
    """A valid request the current state does not allow (or another writer got there first)."""

    rule = "state.conflict"


class AuthenticationError(BankmlError):
    """No valid token: missing, malformed, unknown, expired, revoked, or its owner inactive."""

    rule = "auth.token_valid"


class PermissionDeniedError(BankmlError):
    """The caller is known, but may not do this: no role grants it, or four eyes forbid it."""

    rule = "auth.role_grants"


class UnavailableError(BankmlError):
    """A store cannot serve the request now (unreachable, busy, behind on migrations)."""

    rule = "store.reachable"


class IntegrityError(BankmlError):
    """Stored evidence does not hold (tampered or corrupt); nothing was served from it."""

    rule = "record.intact"


# --- specific errors, each a kind above ---------------------------------------------------


class SettingsError(InvalidInputError):
    """A setting is missing, misspelt or has a value it cannot take."""

    rule = "settings.valid"

    def __init__(self, problems: list[tuple[str, str]], *, rule: str | None = None) -> None:
        self.problems = problems
        lines = "\n".join(f"  {name}: {message}" for name, message in problems)
        BankmlError.__init__(self, f"bankml cannot start with these settings:\n{lines}",
                             rule=rule, field=problems[0][0] if problems else None)


class ArtifactIntegrityError(IntegrityError):
    """An artifact's bytes no longer hash to the digest it was stored under."""

    rule = "artifact.digest_matches"

    def __init__(self, expected: str, actual: str, location: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(
            f"Artifact {expected} at {location} is corrupt or was tampered with: its bytes "
            f"hash to {actual}. It was not loaded. Restore it from a backup or re-register "
            f"the model."
        )


class UntrustedArtifactError(InvalidInputError):
    """An artifact would construct types that are not on the allowlist."""

    rule = "artifact.trusted_types"

    def __init__(self, digest: str, types: list[str]) -> None:
        self.types = types
        BankmlError.__init__(
            self, f"Artifact {digest} contains types outside the trusted allowlist and was "
            f"not loaded: {', '.join(types)}.", field="artifact")


class ArtifactFormatError(InvalidInputError):
    """Bytes that are not an artifact of their flavour: nothing was loaded from them."""

    rule = "artifact.format"

    def __init__(self, digest: str, problem: str) -> None:
        self.digest = digest
        BankmlError.__init__(self, f"Artifact {digest} cannot be read as a model: {problem}. "
                             "It was not loaded.", field="artifact")


class IllegalTransitionError(ConflictError):
    """A lifecycle move the state machine forbids."""

    rule = "lifecycle.transition"


class AliasTargetError(ConflictError):
    """An alias may point only at a live (not archived) version."""

    rule = "registry.alias_live"


class DuplicateError(ConflictError):
    """Something with this identity exists already; identities are never reused."""

    rule = "identity.unique"


class SpecError(InvalidInputError):
    """A file that cannot be used as declared: each problem names its line and field."""

    rule = "pipeline.spec"

    def __init__(self, source: str, problems: list[str], *, rule: str | None = None,
                 kind: str = "a pipeline spec") -> None:
        self.source, self.problems = source, problems
        listed = "\n".join(f"  {problem}" for problem in problems)
        BankmlError.__init__(self, f"{source} cannot be used as {kind}:\n{listed}",
                             rule=rule, field=source)


class StoreUnavailableError(UnavailableError):
    """A configured store cannot be reached."""

    rule = "store.reachable"


class StoreBusyError(UnavailableError):
    """A store did not answer within its time limit (a lock held by another writer)."""

    rule = "store.busy"


class SchemaOutdatedError(UnavailableError):
    """The metadata database is behind the code's migrations."""

    rule = "metadata.schema_current"


class ReadOnlyError(ConflictError):
    """A write was attempted through a read-only view of a store."""

    rule = "metadata.read_only"
