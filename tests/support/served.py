"""A credit model in prod behind an endpoint, ready for decisions (for tests of serving)."""

from __future__ import annotations

from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

from bankml import Platform
from bankml.cli.demo_steps.applicants import plain, within
from bankml.core.decisions import PolicyKind
from bankml.core.endpoints import Endpoint
from bankml.core.registry import ModelVersion, Stage
from bankml.datasets import load_german_credit, synthesize_card_fraud
from bankml.serving.endpoint_files import load_endpoint
from support.lifecycle import move_to
from support.models import register_tiny
from support.people import staff

EXAMPLES = Path(str(files("bankml") / "examples"))
SPEC = EXAMPLES / "german_credit_pd.yaml"
ENDPOINT = EXAMPLES / "german_credit_pd_endpoint.yaml"


def credit_in_prod(platform: Platform, spec: Path = SPEC) -> ModelVersion:
    """The German credit example trained, taken to prod and made champion."""
    version = platform.training.train(staff(platform, "dana"), spec)
    move_to(platform, version.ref, Stage.STAGING, Stage.PROD)
    platform.registry.set_alias(staff(platform, "ops"), version.name, "champion",
                                version.number)
    return platform.registry.get(version.ref)


def credit_endpoint(platform: Platform, **changes: Any) -> Endpoint:
    """The example endpoint (with `changes`), applied by an ML engineer."""
    endpoint = replace(load_endpoint(ENDPOINT), **changes)
    platform.endpoints.apply(staff(platform, "ops"), endpoint)
    return endpoint


def tiny_endpoint(platform: Platform, name: str = "pd-decisions") -> Endpoint:
    """register_tiny's model (input `x0`) in prod as champion, behind an approve / refer /
    decline endpoint keyed by `customer_id`, applied by an ML engineer."""
    version = register_tiny(platform, staff(platform, "dev"))
    move_to(platform, version.ref, Stage.STAGING, Stage.PROD)
    platform.registry.set_alias(staff(platform, "ops"), version.name, "champion",
                                version.number)
    endpoint = Endpoint(name=name, model=version.name, entity=("customer_id",),
                        policy_kind=PolicyKind.APPROVE_REFER_DECLINE,
                        cutoffs={"approve_below": 0.2, "decline_from": 0.8})
    platform.endpoints.apply(staff(platform, "ops"), endpoint)
    return endpoint


def applications(version: ModelVersion, count: int, *, start: int = 800) -> list[dict[str, Any]]:
    """Requests of real-looking applicants whose values the model saw in training."""
    return requests_from(load_german_credit(None).frame, version, count, start=start,
                         entity=("customer_id", "row_id"))


def payments(version: ModelVersion, count: int, *, start: int = 0) -> list[dict[str, Any]]:
    """Requests of card payments whose values the fraud model saw in training."""
    return requests_from(synthesize_card_fraud(), version, count, start=start,
                         entity=("card_id", "transaction_id"))


def requests_from(frame: pd.DataFrame, version: ModelVersion, count: int, *, start: int,
                  entity: tuple[str, str]) -> list[dict[str, Any]]:
    key, column = entity
    requests = []
    for row in frame.iloc[start:].to_dict(orient="records"):
        request = {key: f"id-{row[column]}",
                   **{name: plain(row[name]) for name in version.inputs}}
        if within(request, version):
            requests.append(request)
        if len(requests) == count:
            return requests
    raise AssertionError(f"only {len(requests)} rows fit the signature of {version.ref}")


