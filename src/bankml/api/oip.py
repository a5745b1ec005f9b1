"""The Open Inference Protocol (KServe and Triton's "v2"), so standard clients work as is.

An endpoint is a v2 model: its inputs are the request fields (entity keys as BYTES), one
value per row; `infer` makes one logged decision per row through the same decision path
as /v1, and answers the score, the decision and the decision id as output tensors.
"""

from __future__ import annotations

import struct
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bankml import __version__
from bankml.api.context import Served, platform_of, served
from bankml.core.errors import InvalidInputError, NotFoundError
from bankml.platform import Platform
from bankml.serving import LoadedEndpoint

router = APIRouter(prefix="/v2", tags=["open inference protocol"])
NUMPY = {"FP64": "<f8", "FP32": "<f4", "FP16": "<f2", "INT64": "<i8", "INT32": "<i4",
         "INT16": "<i2", "INT8": "<i1", "UINT64": "<u8", "UINT32": "<u4", "UINT16": "<u2",
         "UINT8": "<u1", "BOOL": "?"}
NUMBERS = set(NUMPY) - {"BOOL"}
BINARY_HEADER = "inference-header-content-length"
INFER_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "required": ["inputs"], "properties": {
        "id": {"type": "string"},
        "inputs": {"type": "array", "items": {"type": "object", "required": [
            "name", "shape", "datatype"], "properties": {
            "name": {"type": "string"}, "shape": {"type": "array", "items": {
                "type": "integer"}}, "datatype": {"type": "string"},
            "data": {"type": "array", "items": {}}}}}}}}}}}
DATATYPE = {"float64": "FP64", "float32": "FP32", "int64": "INT64", "int32": "INT32",
            "bool": "BOOL"}


class Tensor(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Any] | None = None
    data: list[Any] = []


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    inputs: list[Tensor] = Field(min_length=1)


@router.get("/health/live")
def live() -> dict[str, bool]:
    return {"live": True}


@router.get("/health/ready")
def ready(platform: Annotated[Platform, Depends(platform_of)]) -> dict[str, bool]:
    with platform.metadata.reading() as tx:  # the store answers, or this is a 503
        tx.endpoints.all()
    return {"ready": True}


@router.get("")
def server() -> dict[str, Any]:
    return {"name": "bankml", "version": __version__, "extensions": []}


@router.get("/models/{name}")
@router.get("/models/{name}/versions/{version}")
def model(name: str, context: Annotated[Served, Depends(served)],
          version: str | None = None) -> dict[str, Any]:
    loaded = _served(context, name, version)
    inputs = [{"name": key, "datatype": "BYTES", "shape": [-1]}
              for key in loaded.endpoint.entity]
    inputs += [{"name": spec.name, "shape": [-1],
                "datatype": "BYTES" if spec.categories is not None
                else DATATYPE.get(spec.dtype, "FP64")} for spec in loaded.schema.fields]
    return {"name": name, "versions": [str(loaded.model_version.number)],
            "platform": "bankml", "inputs": inputs,
            "outputs": [{"name": "score", "datatype": "FP64", "shape": [-1]},
                        {"name": "decision", "datatype": "BYTES", "shape": [-1]},
                        {"name": "decision_id", "datatype": "BYTES", "shape": [-1]}]}


@router.get("/models/{name}/ready")
@router.get("/models/{name}/versions/{version}/ready")
def model_ready(name: str, context: Annotated[Served, Depends(served)],
                version: str | None = None) -> dict[str, Any]:
    _served(context, name, version)
    return {"name": name, "ready": True}


@router.post("/models/{name}/infer", openapi_extra=INFER_BODY)
@router.post("/models/{name}/versions/{version}/infer", openapi_extra=INFER_BODY)
async def infer(name: str, request: Request, context: Annotated[Served, Depends(served)],
                version: str | None = None) -> dict[str, Any]:
    """One decision per row. Tensors come as JSON `data`, or in the binary extension
    (`Inference-Header-Content-Length`); outputs are answered as JSON."""
    loaded = _served(context, name, version)
    body = _request(await request.body(), request.headers.get(BINARY_HEADER))
    rows = _rows(body.inputs)
    records = await context.platform.decisions.decide_async(context.principal, name, rows)
    for record in records:
        context.metrics.count_decision(record)
    count = len(records)
    return {"model_name": name, "model_version": str(loaded.model_version.number),
            "id": body.id or records[0].decision_id,
            "outputs": [
                {"name": "score", "datatype": "FP64", "shape": [count],
                 "data": [r.score for r in records]},
                {"name": "decision", "datatype": "BYTES", "shape": [count],
                 "data": [str(r.outcome) for r in records]},
                {"name": "decision_id", "datatype": "BYTES", "shape": [count],
                 "data": [r.decision_id for r in records]}]}


def _served(context: Served, name: str, version: str | None) -> LoadedEndpoint:
    loaded = context.platform.decisions.runtime.endpoint(name)
    if version is not None and version != str(loaded.model_version.number):
        raise NotFoundError("served version", f"{name}/versions/{version}",
                            f"{name} serves version {loaded.model_version.number} (its "
                            "champion).", field="version")
    return loaded


def _request(raw: bytes, header_length: str | None) -> InferRequest:
    """The request, its binary tensors (if any) decoded into `data`."""
    cut = len(raw)
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > len(raw):
            raise InvalidInputError(BINARY_HEADER, f"{header_length!r} is not the length of "
                                    "the JSON part of the body", rule="oip.binary")
        cut = int(header_length)
    try:
        parsed = InferRequest.model_validate_json(raw[:cut])
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        raise InvalidInputError(where, str(problem["msg"]), rule="oip.request") from None
    offset = cut
    for tensor in parsed.inputs:
        size = (tensor.parameters or {}).get("binary_data_size")
        if size is None:
            continue
        chunk = raw[offset:offset + int(size)]
        offset += int(size)
        tensor.data = _binary(tensor, chunk)
    return parsed


def _binary(tensor: Tensor, chunk: bytes) -> list[Any]:
    """A tensor's values from the protocol's binary form (BYTES: 4-byte lengths)."""
    if tensor.datatype == "BYTES":
        values, at = [], 0
        while at < len(chunk):
            (length,) = struct.unpack_from("<I", chunk, at)
            values.append(chunk[at + 4:at + 4 + length].decode("utf-8"))
            at += 4 + length
        return values
    dtype = NUMPY.get(tensor.datatype)
    if dtype is None:
        raise InvalidInputError(f"inputs.{tensor.name}", f"datatype {tensor.datatype} is not "
                                "one the protocol defines", rule="oip.datatype")
    return list(np.frombuffer(chunk, dtype=dtype).tolist())


def _rows(tensors: list[Tensor]) -> list[dict[str, Any]]:
    """One request per row from column tensors of equal length."""
    counts = {len(t.data) for t in tensors}
    if len(counts) != 1:
        raise InvalidInputError("inputs", "every input tensor needs the same number of rows",
                                rule="oip.rows")
    for tensor in tensors:
        if len(tensor.shape) not in (1, 2) or tensor.shape[0] != len(tensor.data):
            raise InvalidInputError(f"inputs.{tensor.name}", f"shape {tensor.shape} does not "
                                    f"hold {len(tensor.data)} values, one per row",
                                    rule="oip.shape")
    [rows] = counts
    return [{t.name: _value(t, t.data[i]) for t in tensors} for i in range(rows)]


def _value(tensor: Tensor, value: Any) -> Any:
    if tensor.datatype == "BYTES":
        return value if isinstance(value, str) else str(value)
    if tensor.datatype == "BOOL":
        return bool(value)
    if tensor.datatype not in NUMBERS:
        raise InvalidInputError(f"inputs.{tensor.name}", f"datatype {tensor.datatype} is not "
                                "one the protocol defines", rule="oip.datatype")
    return value
