"""Endpoint routes: what is served, and the request schema each takes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from bankml.api.context import Served, served
from bankml.core.registry import InputField
from bankml.serving import LoadedEndpoint

router = APIRouter(tags=["endpoints"])


def field_view(spec: InputField) -> dict[str, Any]:
    view: dict[str, Any] = {"name": spec.name, "dtype": spec.dtype}
    if spec.categories is not None:
        view["categories"] = list(spec.categories)
    if spec.minimum is not None or spec.maximum is not None:
        view["range"] = [spec.minimum, spec.maximum]
    return view


def endpoint_view(loaded: LoadedEndpoint) -> dict[str, Any]:
    endpoint, version = loaded.endpoint, loaded.version
    return {"name": version.name, "version": version.number, "digest": version.digest,
            "description": endpoint.description, "owner": endpoint.owner,
            "mode": str(endpoint.mode), "model": loaded.model_version.ref,
            "policy": {"kind": str(endpoint.policy_kind), **endpoint.cutoffs},
            "outcomes": [str(o) for o in loaded.policy.outcomes],
            "reasons": None if endpoint.reasons is None else {
                "top": endpoint.reasons.top, "catalogue_sha256": endpoint.reasons.sha256},
            "request": {"entity": list(endpoint.entity),
                        "fields": [field_view(spec) for spec in loaded.schema.fields]},
            "features": loaded.features, "missing_entity": str(endpoint.missing_entity)}


@router.get("/v1/endpoints", summary="Every endpoint's latest version")
def list_endpoints(context: Annotated[Served, Depends(served)]) -> dict[str, Any]:
    versions = context.platform.endpoints.latest()
    return {"endpoints": [{"name": v.name, "version": v.number, "digest": v.digest,
                           "model": v.spec["model"], "mode": v.spec["mode"]}
                          for v in versions]}


@router.get("/v1/endpoints/{name}", summary="An endpoint, its champion and its request schema")
def show_endpoint(name: str, context: Annotated[Served, Depends(served)]) -> dict[str, Any]:
    return endpoint_view(context.platform.decisions.runtime.endpoint(name))
