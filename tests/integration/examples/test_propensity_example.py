"""examples/propensity end to end: train on the twin (or the real file), serve, offer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.decisions import Outcome
from bankml.core.registry import ModelVersion
from bankml.datasets import load_bank_marketing
from bankml.training.evaluation import top_decile_lift
from support.examples import EXAMPLES, requests_of, serve_example
from support.people import staff

SPEC = EXAMPLES / "propensity" / "take_up_model.yaml"
ENDPOINT = EXAMPLES / "propensity" / "endpoint.yaml"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, ModelVersion]]:
    with Platform.open(tmp_path_factory.mktemp("propensity") / "home") as platform:
        yield platform, serve_example(platform, SPEC, ENDPOINT)


def test_the_model_lifts_the_top_decile(served: tuple[Platform, ModelVersion]) -> None:
    """Out of time the top tenth takes up more than the average, and the offer cut-off is
    the holdout's top-decile score; duration is not an input."""
    _, version = served

    assert version.metrics["test.top_decile_lift"] > 1.5
    assert version.metrics["holdout.share.offer"] == pytest.approx(0.10, abs=0.002)
    assert "duration" not in version.inputs


def test_the_endpoint_offers_from_its_cutoff(served: tuple[Platform, ModelVersion]) -> None:
    """Clients scoring at or above offer_from get the offer, the others not; the lift of
    the served scores is the one computed by hand from them."""
    platform, version = served
    frame = load_bank_marketing(None).frame
    rows, requests = requests_of(frame[frame["contact_date"] >= "2009-07-01"].head(300),
                                 version, key="client_id", extra=("age_band", "marital"))

    records = platform.decisions.decide(staff(platform, "ops"), "term-deposit-offer",
                                        requests)

    assert [r.outcome for r in records] == [
        Outcome.OFFER if r.score >= 0.12 else Outcome.NO_OFFER for r in records]
    assert {Outcome.OFFER, Outcome.NO_OFFER} <= {r.outcome for r in records}
    labels = rows["subscribed"].to_numpy()
    scores = [r.score for r in records]
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])[: -(-len(scores) // 10)]
    by_hand = labels[ranked].mean() / labels.mean()
    assert top_decile_lift(labels, scores) == pytest.approx(by_hand)


def test_the_real_file_trains_out_of_time(real_datasets: Path, tmp_path: Path) -> None:
    """On the real 2008-2010 contacts the example trains, lifts and decides."""
    with Platform.open(tmp_path / "home", datasets=real_datasets) as platform:
        version = serve_example(platform, SPEC, ENDPOINT)
        frame = load_bank_marketing(real_datasets).frame
        _, requests = requests_of(frame.tail(50), version, key="client_id")
        records = platform.decisions.decide(staff(platform, "ops"), "term-deposit-offer",
                                            requests)

    assert version.manifest is not None
    assert version.manifest.data_source.origin == "real"
    assert version.metrics["rows.test"] == 4_249
    assert version.metrics["test.top_decile_lift"] > 1.3
    assert records
