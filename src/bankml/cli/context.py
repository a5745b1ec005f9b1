"""Opening the platform for a command, from the settings or a --home given on the line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bankml.platform import Platform
from bankml.settings import load_settings

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="bankml home folder (default: BANKML_HOME).")]


def open_platform(home: Path | None) -> Platform:
    overrides = {"home": home} if home is not None else {}
    return Platform.from_settings(load_settings(**overrides))
