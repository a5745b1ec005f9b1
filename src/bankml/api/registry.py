"""Registry routes: models, versions, lineage, stage history, cards, aliases, reproduce."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from bankml.api.routing import Body, Context, calls
from bankml.api.views import aliases_of, reproduction_view, version_summary_view
from bankml.core.identity import Permission
from bankml.presenters import lineage_view, model_view, stage_change_view, version_view

router = APIRouter(tags=["models"])
VERSION = "/v1/models/{name}/versions/{number}"
CARD_TYPES = {"markdown": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


class AliasBody(Body):
    version: int = Field(ge=1, description="The version number the alias points at.")
    reason: str = Field("", max_length=2_000, description="Why; kept on the audit trail.")


@router.get("/v1/models", summary="Every model and its versions", openapi_extra=calls(None))
def list_models(context: Context) -> dict[str, Any]:
    registry = context.platform.registry
    return {"models": [{**model_view(model),
                        "versions": [{"ref": v.ref, "stage": str(v.stage)}
                                     for v in registry.versions(model.name)]}
                       for model in registry.models()]}


@router.get("/v1/models/{name}", summary="A model: who answers for it, its aliases",
            openapi_extra=calls(None))
def show_model(name: str, context: Context) -> dict[str, Any]:
    registry = context.platform.registry
    model = registry.model(name)
    return {**model_view(model), "aliases": registry.aliases(name),
            "versions": [{"ref": v.ref, "stage": str(v.stage)}
                         for v in registry.versions(name)]}


@router.get("/v1/models/{name}/versions", summary="A model's versions, oldest first",
            openapi_extra=calls(None))
def list_versions(name: str, context: Context) -> dict[str, Any]:
    registry = context.platform.registry
    registry.model(name)  # an unknown model is a 404, not an empty list
    aliases = registry.aliases(name)
    return {"versions": [version_summary_view(v, aliases) for v in registry.versions(name)]}


@router.get(VERSION, summary="A version: signature, metrics, manifest, aliases",
            openapi_extra=calls(None))
def show_version(name: str, number: int, context: Context) -> dict[str, Any]:
    registry = context.platform.registry
    version = registry.get(f"{name}@{number}")
    return version_view(version, model=registry.model(name),
                        aliases=aliases_of(version, registry.aliases(name)))


@router.get(f"{VERSION}/lineage", summary="What made a version: dataset, features, spec",
            openapi_extra=calls(None))
def lineage(name: str, number: int, context: Context) -> dict[str, Any]:
    found = context.platform.registry.lineage(f"{name}@{number}")
    return lineage_view(found.version, siblings=found.siblings_on_dataset)


@router.get("/v1/models/{name}/history", summary="Every stage change of a model's versions",
            openapi_extra=calls(None))
def history(name: str, context: Context) -> dict[str, Any]:
    registry = context.platform.registry
    registry.model(name)
    return {"model": name, "history": [stage_change_view(c) for c in registry.history(name)]}


@router.get(f"{VERSION}/card", summary="A version's model card, Markdown or HTML",
            response_class=Response, openapi_extra={
                **calls(None), "responses": {"200": {"content": {
                    kind: {"schema": {"type": "string"}} for kind in CARD_TYPES.values()}}}})
def card(name: str, number: int, context: Context,
         format: Literal["markdown", "html"] = "markdown") -> Response:
    found = context.platform.registry.card(f"{name}@{number}")
    text = found.html() if format == "html" else found.markdown()
    return Response(text, media_type=CARD_TYPES[format])


@router.put("/v1/models/{name}/aliases/{alias}", summary="Point an alias at a version",
            openapi_extra=calls(Permission.MODEL_ALIAS))
def set_alias(name: str, alias: str, body: AliasBody, context: Context) -> dict[str, Any]:
    previous = context.platform.registry.set_alias(context.principal, name, alias,
                                                   body.version, reason=body.reason)
    return {"model": name, "alias": alias, "version": body.version, "previous": previous}


@router.delete("/v1/models/{name}/aliases/{alias}", summary="Remove an alias",
               openapi_extra=calls(Permission.MODEL_ALIAS))
def remove_alias(name: str, alias: str, context: Context, reason: str = "") -> dict[str, Any]:
    previous = context.platform.registry.set_alias(context.principal, name, alias, None,
                                                   reason=reason)
    return {"model": name, "alias": alias, "version": None, "previous": previous}


@router.post(f"{VERSION}/reproduce",
             summary="Rebuild a version from its manifest and compare (takes a while)",
             openapi_extra=calls(Permission.EVIDENCE_READ))
def reproduce(name: str, number: int, context: Context) -> dict[str, Any]:
    """Identical means the same artifact bytes and bit-equal predictions; otherwise the
    verdict names the recorded inputs that differ. The spec is the recorded one: a server
    reads no file a caller names."""
    return reproduction_view(context.platform.training.reproduce(context.principal,
                                                                  f"{name}@{number}"))
