"""Opening the platform for a command, and who the command acts as."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bankml.core.identity import Principal

if TYPE_CHECKING:
    from bankml.platform import Platform

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="bankml home folder (default: BANKML_HOME).")]
TokenOption = Annotated[
    str | None, typer.Option("--token", help="API token to act with (default: BANKML_TOKEN).",
                             show_default=False)]


def open_platform(home: Path | None, **overrides: Any) -> Platform:
    """The platform the settings (and --home) name; `overrides` are applied after the
    settings are checked, so a wrong BANKML_* variable is still named."""
    # Imported here: `--help` and `--version` need none of what the platform loads.
    from bankml.platform import Platform  # noqa: PLC0415
    from bankml.settings import load_settings  # noqa: PLC0415

    settings = load_settings(**({"home": home} if home is not None else {}))
    return Platform.from_settings(settings.model_copy(update=overrides))


def acting_user(platform: Platform, token: str | None) -> Principal:
    """The principal behind `--token`, else behind BANKML_TOKEN; AuthenticationError if none.

    The CLI decides nothing: the services check what this principal may do.
    """
    configured = platform.settings.token
    plaintext = token or (configured.get_secret_value() if configured else None)
    return platform.identity.authenticate(plaintext)
