"""Every error bankml raises on purpose: what failed, the value, the rule, what next."""

from __future__ import annotations


class BankmlError(Exception):
    """Root of every error we raise on purpose."""

    rule: str | None = None  # shown by the CLI and in problem+json


class InvalidInputError(BankmlError):
    """Input that breaks a stated rule; nothing was changed."""

    rule = "input.valid"

    def __init__(self, field: str, message: str, *, rule: str | None = None) -> None:
        self.field = field
        if rule is not None:
            self.rule = rule
        super().__init__(f"{field}: {message}")


class SettingsError(BankmlError):
    """A setting is missing, misspelt or has a value it cannot take."""

    rule = "settings.valid"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {name}: {message}" for name, message in problems)
        super().__init__(f"bankml cannot start with these settings:\n{lines}")


class NotFoundError(BankmlError):
    """Something asked for by name or digest does not exist."""

    rule = "reference.exists"

    def __init__(self, kind: str, key: str, hint: str = "") -> None:
        self.kind, self.key = kind, key
        super().__init__(f"No {kind} {key!r}." + (f" {hint}" if hint else ""))


class ArtifactIntegrityError(BankmlError):
    """An artifact's bytes no longer hash to the digest it was stored under."""

    rule = "artifact.digest_matches"

    def __init__(self, expected: str, actual: str, location: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(
            f"Artifact {expected} at {location} is corrupt or was tampered with: its bytes "
            f"hash to {actual}. It was not loaded. Restore it from a backup or re-register "
            f"the model."
        )


class UntrustedArtifactError(BankmlError):
    """An artifact would construct types that are not on the allowlist."""

    rule = "artifact.trusted_types"

    def __init__(self, digest: str, types: list[str]) -> None:
        self.types = types
        super().__init__(
            f"Artifact {digest} contains types outside the trusted allowlist and was not "
            f"loaded: {', '.join(types)}."
        )


class IllegalTransitionError(BankmlError):
    """A lifecycle move the state machine forbids."""

    rule = "lifecycle.transition"


class AliasTargetError(BankmlError):
    """An alias may point only at a live (not archived) version."""

    rule = "registry.alias_live"


class SpecError(BankmlError):
    """A pipeline spec that cannot run: each problem names its line and field."""

    rule = "pipeline.spec"

    def __init__(self, source: str, problems: list[str], *, rule: str | None = None) -> None:
        self.source, self.problems = source, problems
        if rule is not None:
            self.rule = rule
        listed = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{source} cannot be used as a pipeline spec:\n{listed}")


class StoreUnavailableError(BankmlError):
    """A configured store cannot be reached."""

    rule = "store.reachable"


class SchemaOutdatedError(BankmlError):
    """The metadata database is behind the code's migrations."""

    rule = "metadata.schema_current"


class DuplicateError(BankmlError):
    """Something with this identity exists already; identities are never reused."""

    rule = "identity.unique"
