"""`source.weight` refused when it cannot weigh the metrics: named with its line and rule,
and nothing registered, staged or audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.errors import SpecError
from bankml.datasets import synthesize_german_credit
from support.people import staff
from support.trail import audit_events

SPEC = Path(__file__).parents[3] / "examples" / "german_credit_pd.yaml"


@pytest.fixture
def bankml(tmp_path: Path) -> Iterator[Platform]:
    with Platform.open(tmp_path / "home") as opened:
        yield opened


def weighted_spec(tmp_path: Path, weights: list[float], *, weight: str = "weight",
                  extra_input: str = "") -> Path:
    frame = synthesize_german_credit()
    frame["weight"] = (weights * len(frame))[: len(frame)]
    frame.to_csv(tmp_path / "applications.csv", index=False)
    text = SPEC.read_text().replace("dataset: german_credit ", "path: applications.csv ")
    text = text.replace("  label: default\n", f"  label: default\n  weight: {weight}\n")
    text = text.replace("  - telephone\n", f"  - telephone\n{extra_input}")
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


CASES = {  # name: (weights, the weight column, an extra input line, message, rule)
    "an-input": ([1.0, 2.0], "weight", "  - weight\n", "'weight' is an input or the label",
                 "pipeline.weight_apart"),
    "the-label": ([1.0, 2.0], "default", "", "'default' is an input or the label",
                  "pipeline.weight_apart"),
    "a-zero-weight": ([1.0, 0.0], "weight", "",
                      "'weight' must hold positive finite numbers", "pipeline.weight_valid"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_weight_that_cannot_weigh_is_refused(bankml: Platform, tmp_path: Path,
                                               case: str) -> None:
    weights, weight, extra_input, message, rule = CASES[case]
    spec = weighted_spec(tmp_path, weights, weight=weight, extra_input=extra_input)
    line = spec.read_text().splitlines().index(f"  weight: {weight}") + 1
    dev = staff(bankml, "dev")
    before = audit_events(bankml)

    with pytest.raises(SpecError, match=rf"line {line}, source.weight: {message}") as caught:
        bankml.training.train(dev, spec)

    assert caught.value.rule == rule
    assert bankml.registry.versions() == []
    assert audit_events(bankml) == before
