"""How much the metadata store holds, checked before writing, so that every backend
refuses alike: PostgreSQL rejects a value too long for its column or an integer beyond
its range, SQLite keeps the first and overflows on the second. A test keeps these equal
to the columns in stores/sql/tables.py.
"""

from __future__ import annotations

from bankml.core.errors import InvalidInputError

MAX_INTEGER = 2**31 - 1  # INTEGER: version numbers, grant, request, finding and alert ids

DISPLAY_NAME_CHARS = 200  # users.display_name
TOKEN_DESCRIPTION_CHARS = 200  # api_tokens.description
FINDING_TITLE_CHARS = 500  # findings.title
ALERT_TITLE_CHARS = 500  # alerts.title
GATE_CHARS = 100  # policy_exceptions.gate
PERSON_CHARS = 200  # models.owner, models.developer


def check_integer(field: str, value: int, *, minimum: int = 1) -> int:
    """`value` if the store can hold it and it is at least `minimum`."""
    if not minimum <= value <= MAX_INTEGER:
        raise InvalidInputError(field, f"{value} is outside {minimum}..{MAX_INTEGER}",
                                rule="input.integer_range")
    return value


def check_text(field: str, value: str, chars: int) -> str:
    """`value` if it has at most `chars` characters."""
    if len(value) > chars:
        raise InvalidInputError(field, f"is {len(value):,} characters long; at most {chars} "
                                "are kept", rule="input.text_length")
    return value
