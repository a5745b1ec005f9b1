"""A bankml home with a decision endpoint shaped like the serving benchmarks' workload.

The model is a LightGBM classifier (200 trees x 31 leaves by default) on 30 inputs: 20
read from the online store through a feature view (`bureau@1:b0..b19`) and 10 sent with
each request (`r0..r9`). The endpoint decides approve / refer / decline with cut-offs that
decline about one application in four, and gives the top 4 reasons of a catalogue that
covers every input. Used by `decisions.py` (in process) and `serve_http.py` (over HTTP).

Setting up takes the lifecycle's internal door to prod (as governance does once the gates
of a request hold): the benchmarks measure serving, not approvals.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import create_engine, make_url, text

from bankml import Entity, FeatureView, Field, FileSource, Float64, Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.identity import Principal, Role
from bankml.core.registry import ModelVersion, Stage
from bankml.registry.lifecycle import move

ENDPOINT = "bench-credit"
ONLINE, REQUEST = 20, 10
START = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Shape:
    customers: int = 10_000
    applications: int = 20_000
    trees: int = 200
    leaves: int = 31


@dataclass(frozen=True)
class BenchHome:
    engineer: Principal  # may make decisions and apply endpoints
    app: Principal  # a service account scoped to the endpoint
    token: str  # the service account's token
    requests: list[dict[str, Any]]  # requests of known customers, values seen in training


def build(platform: Platform, folder: Path, shape: Shape = Shape()) -> BenchHome:
    """People, a feature view materialised online, the trained model in prod, the endpoint."""
    rng = np.random.default_rng(7)
    admin = _people(platform)
    eli = platform.identity.user("eli")
    profiles, applications = _data(rng, shape)
    profiles.to_parquet(folder / "bureau.parquet")
    applications.to_parquet(folder / "applications.parquet")
    view = FeatureView(
        name="bureau", entities=(Entity(name="customer", join_keys=("customer_id",)),),
        source=FileSource(path=str(folder / "bureau.parquet")),
        schema=tuple(Field(name=f"b{i}", dtype=Float64) for i in range(ONLINE)),
        owner="bench", description="Bureau attributes per customer")
    platform.features.apply(eli, [view])
    platform.features.materialize(eli, end=datetime.now(UTC))

    version = add_endpoint(platform, folder, ENDPOINT, shape)
    app = platform.identity.add_service_account(admin, "bench-app", scopes=frozenset({ENDPOINT}))
    token = platform.identity.create_token(admin, "bench-app").plaintext
    ranges = {spec.name: (spec.minimum, spec.maximum) for spec in version.signature.inputs}
    requests = [{"customer_id": row["customer_id"],
                 **{f"r{i}": float(row[f"r{i}"]) for i in range(REQUEST)}}
                for row in applications.tail(2_000).to_dict(orient="records")
                if all(low <= row[f"r{i}"] <= high  # the endpoint refuses values never seen
                       for i in range(REQUEST) for low, high in [ranges[f"r{i}"]])]
    return BenchHome(engineer=eli, app=app, token=token, requests=requests)


def add_endpoint(platform: Platform, folder: Path, name: str, shape: Shape,
                 seed: int = 7) -> ModelVersion:
    """A model of its own trained on the home's data (with `seed`), taken to prod, and
    an endpoint `name` deciding with it; returns the champion."""
    eli, model = platform.identity.user("eli"), f"{name}-pd"
    spec = folder / f"{name}.yaml"
    spec.write_text(yaml.safe_dump(_spec(shape, model=model, seed=seed)))
    version = platform.training.train(platform.identity.user("dana"), spec)
    for stage in (Stage.STAGING, Stage.PROD):
        with platform.metadata.transaction() as tx:
            move(tx, version.ref, stage, actor="bench", moment=utc_timestamp(datetime.now(UTC)),
                 reason="benchmark setup")
    platform.registry.set_alias(eli, version.name, "champion", version.number)
    catalogue = folder / f"{name}-reasons.yaml"
    catalogue.write_text(yaml.safe_dump({"name": f"{name}-reasons", "reasons": [
        {"code": f"R{i:02d}", "text": f"Input {input_name} weighs against the application",
         "features": [input_name]} for i, input_name in enumerate(version.inputs)]}))
    definition = folder / f"{name}-endpoint.yaml"
    definition.write_text(yaml.safe_dump({
        "name": name, "model": version.name, "entity": ["customer_id"],
        "policy": {"kind": "approve_refer_decline", "approve_below": 0.35,
                   "decline_from": 0.6},
        "reasons": {"catalogue": str(catalogue), "top": 4}, "mode": "automatic",
        "missing_entity": "refuse"}))
    platform.endpoints.apply(eli, definition)
    return version


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """`url` with a search_path of a new PostgreSQL schema, dropped afterwards, so that a
    benchmark shares no table with anything else on the server."""
    engine = create_engine(url)
    schema = f"bankml_bench_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _people(platform: Platform) -> Principal:
    platform.identity.bootstrap_admin("bench-admin")
    admin = platform.identity.user("bench-admin")
    platform.identity.add_user(admin, "dana", roles=frozenset({Role.DATA_SCIENTIST}))
    platform.identity.add_user(admin, "eli", roles=frozenset({Role.ML_ENGINEER,
                                                             Role.AUDITOR}))
    return admin


def _data(rng: np.random.Generator, shape: Shape) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = np.array([f"c-{i:06d}" for i in range(shape.customers)])
    bureau = rng.normal(size=(shape.customers, ONLINE))
    profiles = pd.DataFrame(bureau, columns=[f"b{i}" for i in range(ONLINE)])
    profiles.insert(0, "customer_id", ids)
    profiles.insert(1, "event_timestamp", pd.Timestamp(START - timedelta(days=30)))
    who = rng.integers(0, shape.customers, shape.applications)
    request = rng.normal(size=(shape.applications, REQUEST))
    logit = bureau[who, :5].sum(axis=1) + request[:, :3].sum(axis=1) - 1.0
    applications = pd.DataFrame(request, columns=[f"r{i}" for i in range(REQUEST)])
    applications.insert(0, "customer_id", ids[who])
    applications.insert(1, "application_id", np.arange(shape.applications))
    days = np.sort(rng.integers(0, 365, shape.applications))
    applications.insert(2, "applied_at", pd.Timestamp(START) + pd.to_timedelta(days, "D"))
    applications["default"] = (rng.random(shape.applications)
                               < 1 / (1 + np.exp(-logit))).astype(int)
    return profiles, applications


def _spec(shape: Shape, *, model: str, seed: int) -> dict[str, Any]:
    return {
        "model": {"name": model, "domain": "credit", "risk_tier": 2, "owner": "bench",
                  "developer": "dana"},
        "source": {"path": "applications.parquet", "entity": ["customer_id", "application_id"],
                   "event_timestamp": "applied_at", "label": "default"},
        "inputs": [f"r{i}" for i in range(REQUEST)],
        "features": [f"bureau:b{i}" for i in range(ONLINE)],
        "split": {"out_of_time": {"test_from": "2025-11-01"}, "holdout": {"share": 0.2}},
        "preprocessing": {"numeric": {"impute": "median", "scale": False}},
        "estimator": {"kind": "lightgbm",
                      "params": {"n_estimators": shape.trees, "num_leaves": shape.leaves,
                                 "learning_rate": 0.05}},
        "decision_policy": {"kind": "approve_refer_decline", "approve_below": 0.35,
                            "decline_from": 0.6},
        "seed": seed, "threads": 2,
    }


__all__ = ["ENDPOINT", "BenchHome", "Shape", "add_endpoint", "build", "fresh_schema"]
