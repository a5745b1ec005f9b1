"""A request fits a version's signature exactly when serving's checks of a request take
its values: the demo and the tests pick applicants with the same rule serving applies."""

from __future__ import annotations

from typing import Any

import pytest

from bankml.core.errors import InvalidInputError
from bankml.core.registry import InputField, ModelVersion, Signature
from bankml.serving.inputs import fits_signature, request_schema

VERSION = ModelVersion(name="pd", number=1, artifact_sha256="a" * 64, flavour="sklearn-skops",
                       created_at="2026-01-01T00:00:00Z", created_by="dana",
                       signature=Signature(inputs=(
                           InputField(name="age", dtype="int64", minimum=18.0, maximum=75.0),
                           InputField(name="income", dtype="float64", minimum=0.0),
                           InputField(name="housing", dtype="category",
                                      categories=("own", "rent")))))
FITS = {"age": 30, "income": 2500.0, "housing": "own"}


@pytest.mark.parametrize(("changes", "fits"), [
    ({}, True),
    ({"age": None, "housing": None}, True),  # gaps the model's imputation was trained for
    ({"age": 18, "income": 1e9}, True),  # a bound is inclusive; no maximum, no limit
    ({"age": 76}, False),
    ({"income": -1.0}, False),  # a minimum alone still holds
    ({"income": float("nan")}, False),
    ({"age": "30"}, False),
    ({"age": True}, False),
    ({"housing": "castle"}, False),
    ({"housing": 1}, False),
])
def test_a_request_fits_the_signature_exactly_when_serving_takes_it(
        changes: dict[str, Any], fits: bool) -> None:
    request = {**FITS, **changes}
    schema = request_schema(VERSION, entity=())
    if fits:
        schema.check(request)
    else:
        with pytest.raises(InvalidInputError):
            schema.check(request)

    assert fits_signature(request, VERSION) is fits


def test_a_request_without_one_of_the_inputs_does_not_fit() -> None:
    assert not fits_signature({"age": 30, "income": 2500.0}, VERSION)
