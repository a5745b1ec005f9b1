"""Driver errors translated into BankmlErrors at the adapter's edge: none leaks past it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InternalError,
    OperationalError,
    ProgrammingError,
)

from bankml.core.errors import (
    ConflictError,
    InvalidInputError,
    ReadOnlyError,
    StoreBusyError,
    StoreUnavailableError,
)

# PostgreSQL SQLSTATEs with a meaning of their own.
READ_ONLY_TRANSACTION = "25006"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"  # statement_timeout
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
STRING_TOO_LONG = "22001"
NUMBER_OUT_OF_RANGE = "22003"


@contextmanager
def translated_errors(location: str) -> Iterator[None]:
    """Run a unit of work; a driver error leaves it as the BankmlError it means."""
    try:
        yield
    except DBAPIError as exc:
        raise _translate(exc, location) from exc
    except OverflowError as exc:  # the SQLite driver, binding an integer beyond 64 bits
        raise InvalidInputError("value", f"does not fit the store ({exc}); nothing was "
                                "changed", rule="store.value_fits") from exc


def is_busy(exc: DBAPIError) -> bool:
    """A lock or statement timeout: another writer held on for longer than allowed."""
    state = getattr(exc.orig, "sqlstate", None)
    return state in (LOCK_NOT_AVAILABLE, QUERY_CANCELED) or "database is locked" in str(exc.orig)


def _translate(exc: DBAPIError, location: str) -> Exception:  # noqa: PLR0911 - one per kind
    state = getattr(exc.orig, "sqlstate", None)
    reason = " ".join(str(exc.orig).split())
    if state == READ_ONLY_TRANSACTION or "readonly database" in reason:
        return ReadOnlyError(f"A write was attempted in a read-only transaction on {location} "
                             f"({reason}); nothing was written.")
    if is_busy(exc):
        return StoreBusyError(f"The metadata store {location} is busy: another writer holds "
                              f"a lock for longer than the time limit ({reason}). Nothing was "
                              "changed; try again.")
    if state in (SERIALIZATION_FAILURE, DEADLOCK_DETECTED):
        return ConflictError(f"Another writer changed the same rows at the same time "
                             f"({reason}); nothing was changed, try again.",
                             rule="store.concurrent_change")
    if isinstance(exc, IntegrityError):
        return ConflictError(f"The change breaks a rule the store holds ({reason}); nothing "
                             "was changed.", rule="store.constraint")
    if isinstance(exc, DataError) or state in (STRING_TOO_LONG, NUMBER_OUT_OF_RANGE):
        return InvalidInputError("value", f"does not fit the store ({reason}); nothing was "
                                 "changed", rule="store.value_fits")
    if isinstance(exc, OperationalError | InternalError | ProgrammingError):
        return StoreUnavailableError(f"The metadata store {location} failed ({reason}). Check "
                                     "that it is running and migrated.")
    return StoreUnavailableError(f"The metadata store {location} failed ({reason}).")
