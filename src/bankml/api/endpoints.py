"""Endpoint routes: what is served, the request schema each takes, and applying a
definition."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from bankml.api.context import Served, served
from bankml.api.routing import Context, calls
from bankml.api.views import applied_view, endpoint_version_view
from bankml.core.errors import InvalidInputError
from bankml.core.identity import Permission
from bankml.core.registry import InputField
from bankml.documents import load_yaml
from bankml.serving import Applied, LoadedEndpoint
from bankml.serving.endpoint_files import BUILTIN_CATALOGUES, parse_endpoint

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


YAML = "application/yaml"


@router.post("/v1/endpoints", summary="Apply an endpoint definition (YAML in the body)",
             openapi_extra={**calls(Permission.ENDPOINT_APPLY), "requestBody": {
                 "required": True, "content": {YAML: {"schema": {"type": "string"}}}}},
             responses={201: {"description": "A new endpoint version"},
                        200: {"description": "The definition is unchanged: no new version"}})
async def apply_endpoint(request: Request, response: Response,
                         context: Context) -> dict[str, Any]:
    """The file `bankml endpoints apply` takes, sent as the body (JSON, being YAML, works
    too). A changed definition becomes a new version (201); an unchanged one does not
    (200). The reason catalogue must be a builtin one: a server reads no file a caller
    names."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("body", "is not UTF-8 text", rule="endpoint.file") from None
    applied = await run_in_threadpool(_apply, context, text)
    response.status_code = 201 if applied.created else 200
    return applied_view(applied)


@router.get("/v1/endpoints/{name}/versions/{number}",
            summary="A stored endpoint definition, by version", openapi_extra=calls(None))
def show_endpoint_version(name: str, number: int, context: Context) -> dict[str, Any]:
    return endpoint_version_view(context.platform.endpoints.version(f"{name}@{number}"))


def _apply(context: Served, text: str) -> Applied:
    _check_catalogue_is_builtin(text)
    # only builtin catalogues get this far, so no file under `folder` is ever read
    endpoint = parse_endpoint(text, source="body", folder=Path.cwd())
    return context.platform.endpoints.apply(context.principal, endpoint)


def _check_catalogue_is_builtin(text: str) -> None:
    """A catalogue named by path would be read from the server's disk, before the caller's
    permission is checked: over HTTP only the builtin catalogues may be named."""
    try:
        data = load_yaml(text, source="body")
    except (yaml.YAMLError, InvalidInputError):
        return  # parse_endpoint names the problem
    reasons = data.get("reasons") if isinstance(data, dict) else None
    catalogue = reasons.get("catalogue") if isinstance(reasons, dict) else None
    if isinstance(catalogue, str) and catalogue not in BUILTIN_CATALOGUES:
        raise InvalidInputError("reasons.catalogue", f"{catalogue!r}: over HTTP name one of "
                                f"{', '.join(sorted(BUILTIN_CATALOGUES))}; a server reads no "
                                "file a caller names", rule="endpoint.catalogue_builtin")
