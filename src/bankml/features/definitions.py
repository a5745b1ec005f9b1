"""Reading definitions from a Python file and rebuilding them from their stored spec."""

from __future__ import annotations

import importlib.util
import inspect
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.errors import InvalidInputError
from bankml.core.features import (
    Aggregation,
    AggregationFunction,
    Definition,
    Dtype,
    DuckDbQuerySource,
    Entity,
    FeatureView,
    Field,
    FileSource,
    OnDemandFeatureView,
    Source,
    SqlTableSource,
)


def load_definitions(path: Path) -> list[Definition]:
    """Every FeatureView and OnDemandFeatureView a Python file defines at module level."""
    if not path.is_file():
        raise InvalidInputError("file", f"{path} does not exist", rule="features.file")
    module_name = f"bankml_definitions_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InvalidInputError("file", f"{path} is not a Python file", rule="features.file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and inspect look modules up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise InvalidInputError("file", f"{path} fails to run: {type(exc).__name__}: {exc}",
                                rule="features.file") from exc
    finally:
        sys.modules.pop(module_name, None)
    found = [value for value in vars(module).values()
             if isinstance(value, FeatureView | OnDemandFeatureView)]
    if not found:
        raise InvalidInputError("file", f"{path} defines no FeatureView or "
                                "OnDemandFeatureView at module level", rule="features.file")
    return found


def function_code(view: OnDemandFeatureView) -> str:
    """The source text of an on-demand view's function: part of its version."""
    try:
        return textwrap.dedent(inspect.getsource(view.function))
    except (OSError, TypeError) as exc:
        raise InvalidInputError(f"on-demand feature view {view.name}", "its function has no "
                                "readable source; define it with `def` in a Python file",
                                rule="features.on_demand_code") from exc


def view_from_spec(spec: dict[str, Any], labels: dict[str, Any]) -> FeatureView:
    """The FeatureView whose `spec()` is `spec`."""
    return FeatureView(
        name=spec["name"],
        entities=tuple(Entity(name=e["name"], join_keys=tuple(e["join_keys"]),
                              dtype=Dtype(e["dtype"])) for e in spec["entities"]),
        source=_source_from_spec(spec["source"]),
        schema=tuple(Field(name=f["name"], dtype=Dtype(f["dtype"])) for f in spec["schema"]),
        ttl=None if spec["ttl_s"] is None else timedelta(seconds=spec["ttl_s"]),
        aggregations=tuple(
            Aggregation(function=AggregationFunction(a["function"]),
                        window=timedelta(seconds=a["window_s"]), column=a["column"],
                        name=a["name"]) for a in spec["aggregations"]),
        owner=labels.get("owner", ""), description=labels.get("description", ""),
        tags=labels.get("tags", {}))


def on_demand_from_spec(spec: dict[str, Any], labels: dict[str, Any]) -> OnDemandFeatureView:
    """Rebuild an on-demand view from stored code whose digest the caller has verified.

    The code runs with `pd` and `np` in scope, as functions written for bankml expect.
    """
    namespace: dict[str, Any] = {"pd": pd, "np": np}
    exec(compile(spec["code"], f"<on-demand view {spec['name']}>", "exec"),  # noqa: S102 - digest-verified definition code
         namespace)
    return OnDemandFeatureView(
        name=spec["name"], sources=tuple(spec["sources"]),
        request_fields=tuple(Field(name=f["name"], dtype=Dtype(f["dtype"]))
                             for f in spec["request_fields"]),
        schema=tuple(Field(name=f["name"], dtype=Dtype(f["dtype"])) for f in spec["schema"]),
        function=namespace[spec["function"]], owner=labels.get("owner", ""),
        description=labels.get("description", ""), tags=labels.get("tags", {}))


def _source_from_spec(spec: dict[str, Any]) -> Source:
    created = spec["created_timestamp_column"]
    if spec["kind"] == "file":
        return FileSource(path=spec["path"], file_format=spec["format"],
                          timestamp_field=spec["timestamp_field"],
                          created_timestamp_column=created)
    if spec["kind"] == "sql":
        return SqlTableSource(url=spec["url"], table=spec["table"],
                              timestamp_field=spec["timestamp_field"],
                              created_timestamp_column=created)
    return DuckDbQuerySource(query=spec["query"], timestamp_field=spec["timestamp_field"],
                             created_timestamp_column=created)
