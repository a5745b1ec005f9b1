"""The management API: what the CLI does, over HTTP, through the same services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from bankml.api.context import Served, served

router = APIRouter(tags=["management"])


@router.get("/v1/models", summary="Every model and its versions")
def list_models(context: Annotated[Served, Depends(served)]) -> dict[str, Any]:
    registry = context.platform.registry
    return {"models": [{"name": model.name, **model.describe(),
                        "versions": [{"ref": v.ref, "stage": str(v.stage)}
                                     for v in registry.versions(model.name)]}
                       for model in registry.models()]}
