"""The reference use cases under examples/: trained, taken to prod and served, as a bank
would run them (for the tests that run each example end to end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from bankml import Platform
from bankml.cli.demo_steps.applicants import plain, within
from bankml.core.registry import ModelVersion, Stage
from bankml.serving.endpoint_files import load_endpoint
from support.lifecycle import move_to
from support.people import staff

EXAMPLES = Path(__file__).parents[2] / "examples"


def serve_example(platform: Platform, spec: Path, endpoint: Path) -> ModelVersion:
    """`spec` trained by a data scientist, taken to prod as champion, and `endpoint`
    applied by an ML engineer."""
    version = platform.training.train(staff(platform, "dana"), spec)
    move_to(platform, version.ref, Stage.STAGING, Stage.PROD)
    platform.registry.set_alias(staff(platform, "ops"), version.name, "champion",
                                version.number)
    platform.endpoints.apply(staff(platform, "ops"), load_endpoint(endpoint))
    return platform.registry.get(version.ref)


def requests_of(rows: pd.DataFrame, version: ModelVersion, *, key: str,
                extra: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The rows whose values the model saw in training (serving refuses the others), and
    one request per row: the entity key, the model's inputs and `extra` fields."""
    requests = {index: {key: f"id-{index}", **{name: plain(row[name])
                                               for name in (*version.inputs, *extra)}}
                for index, row in rows.iterrows()}
    kept = [index for index, request in requests.items() if within(request, version)]
    return rows.loc[kept], [requests[index] for index in kept]


