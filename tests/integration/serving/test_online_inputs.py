"""A model trained on request fields and feature-store refs decides with both: the request
carries the first, the online store gives the second, through the definitions training
used; unknown customers are refused or decided on defaults; verify rebuilds the features
offline and names any skew.

The workload is the decision benchmarks' (benchmarks/serving_home.py), at a small size.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bankml import Platform
from bankml.core.endpoints import MissingEntity
from bankml.core.errors import InvalidInputError
from support.people import staff

sys.path.insert(0, str(Path(__file__).parents[3] / "benchmarks"))
from serving_home import ENDPOINT, ONLINE, BenchHome, Shape, build

SMALL = Shape(customers=300, applications=3_000, trees=20, leaves=7)


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, BenchHome]]:
    folder = tmp_path_factory.mktemp("bureau")
    with Platform.open(folder / "home") as platform:
        yield platform, build(platform, folder, SMALL)


def decide(platform: Platform, home: BenchHome, requests: list[dict[str, Any]],
           endpoint: str = ENDPOINT) -> list[Any]:
    return platform.decisions.decide(home.app if endpoint == ENDPOINT else home.engineer,
                                     endpoint, requests)


def profile(folder: Path, customer: str) -> dict[str, float]:
    rows = pd.read_parquet(folder / "bureau.parquet")
    row = rows[rows["customer_id"] == customer].sort_values("event_timestamp").iloc[-1]
    return {f"b{i}": float(row[f"b{i}"]) for i in range(ONLINE)}


def test_the_online_store_gives_what_the_request_does_not(
        bureau: tuple[Platform, BenchHome]) -> None:
    """The record holds the request's fields, the online values by pinned ref, and the
    model's inputs: both together."""
    platform, home = bureau
    request = home.requests[0]

    [record] = decide(platform, home, [request])

    folder = Path(platform.settings.home).parent
    online = profile(folder, request["customer_id"])
    features = json.loads(record.features_json)
    assert features["values"] == {f"bureau@1:{name}": value for name, value in online.items()}
    assert features["found"] == {"bureau@1": True}
    assert not features["defaults_used"]
    assert json.loads(record.request_json) == {k: v for k, v in request.items()
                                               if k != "customer_id"}
    assert json.loads(record.inputs_json) == {**online, **{k: v for k, v in request.items()
                                                           if k != "customer_id"}}


def test_a_request_may_not_send_what_the_store_holds(bureau: tuple[Platform, BenchHome]) -> None:
    """An online feature in the request is an unknown field: the store's value decides."""
    platform, home = bureau

    with pytest.raises(InvalidInputError, match="b0: is not a field") as refused:
        decide(platform, home, [{**home.requests[0], "b0": 0.0}])
    assert refused.value.rule == "decision.field_known"


def test_an_unknown_customer_is_refused_and_nothing_is_logged(
        bureau: tuple[Platform, BenchHome]) -> None:
    platform, home = bureau
    with platform.metadata.reading() as tx:
        before = tx.decisions.count()

    with pytest.raises(InvalidInputError, match="customer_id: .* not in the online store"
                       ) as refused:
        decide(platform, home, [{**home.requests[0], "customer_id": "c-nobody"}])

    assert refused.value.rule == "decision.entity_known"
    with platform.metadata.reading() as tx:
        assert tx.decisions.count() == before


def test_defaults_decide_for_an_unknown_customer_and_say_so(
        bureau: tuple[Platform, BenchHome]) -> None:
    """With `missing_entity: defaults` the declared values stand in, and the record says so."""
    platform, home = bureau
    endpoint = platform.endpoints.version(f"{ENDPOINT}@1").endpoint
    defaults = {f"b{i}": 0.0 for i in range(ONLINE)}
    lenient = replace(endpoint, name="bench-credit-lenient",
                      missing_entity=MissingEntity.DEFAULTS, defaults=defaults)
    platform.endpoints.apply(home.engineer, lenient)

    [record] = decide(platform, home, [{**home.requests[0], "customer_id": "c-nobody"}],
                      endpoint=lenient.name)

    features = json.loads(record.features_json)
    assert features["defaults_used"]
    assert features["found"] == {"bureau@1": False}
    assert features["values"] == {f"bureau@1:{k}": v for k, v in defaults.items()}


def test_verify_rebuilds_the_features_and_names_skew(bureau: tuple[Platform, BenchHome]) -> None:
    """Offline, as of each decision's time, the features are the ones decided on; once the
    offline data holds a newer value the online store never got, verify names it."""
    platform, home = bureau
    auditor = staff(platform, "eli")
    decide(platform, home, home.requests[1:11])

    clean = platform.decisions.verify(auditor, endpoint=ENDPOINT, recompute_features=True)
    assert clean.checked >= 10
    assert clean.mismatches == []

    folder = Path(platform.settings.home).parent
    stale = home.requests[1]["customer_id"]
    rows = pd.read_parquet(folder / "bureau.parquet")
    newer = rows[rows["customer_id"] == stale].assign(
        event_timestamp=pd.Timestamp("2025-06-01", tz="UTC"), b0=99.0)
    pd.concat([rows, newer]).to_parquet(folder / "bureau.parquet")

    skewed = platform.decisions.verify(auditor, endpoint=ENDPOINT, recompute_features=True)
    assert ("feature bureau@1:b0", 99.0) in {(m.what, m.now) for m in skewed.mismatches}


def test_a_monitoring_attribute_is_recorded_and_never_scored(
        bureau: tuple[Platform, BenchHome]) -> None:
    """Declared under `monitoring.attributes`, a request field lands in the record for
    fairness in production; it is not a model input, and may not be one."""
    platform, home = bureau
    endpoint = platform.endpoints.version(f"{ENDPOINT}@1").endpoint
    watched = replace(endpoint, name="bench-credit-watched", monitoring_attributes=("sex",))
    platform.endpoints.apply(home.engineer, watched)

    [record] = decide(platform, home, [{**home.requests[0], "sex": "female"}],
                      endpoint=watched.name)

    assert json.loads(record.request_json)["sex"] == "female"
    assert "sex" not in json.loads(record.inputs_json)
    with pytest.raises(InvalidInputError, match="r0 is an input") as refused:
        platform.endpoints.apply(home.engineer, replace(endpoint, name="bench-credit-bad",
                                                        monitoring_attributes=("r0",)))
    assert refused.value.rule == "endpoint.attribute_not_input"
