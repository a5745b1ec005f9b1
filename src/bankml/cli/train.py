"""`bankml train SPEC.yaml`: run a pipeline spec and register the version it builds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from bankml.cli.app import console
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform


def train(
    spec: Annotated[Path, typer.Argument(help="The pipeline spec (YAML).")],
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Train a model from a pipeline spec and register it as the model's next version."""
    started = time.perf_counter()
    with open_platform(home) as platform, console.status("starting") as status:
        by = acting_user(platform, token)

        def progress(step: str) -> None:
            console.log(step)
            status.update(step)

        version = platform.training.train(by, spec, progress=progress)
    headline = ", ".join(f"{name} {value:.3f}" for name, value in version.metrics.items()
                         if name.startswith("test.") and ".share." not in name)
    console.print(f"Registered [bold]{version.ref}[/] ({version.stage}) in "
                  f"{time.perf_counter() - started:.1f} s: artifact "
                  f"{version.artifact_sha256[:16]}, {headline}")
