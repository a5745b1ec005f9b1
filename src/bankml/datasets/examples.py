"""The built-in example datasets a pipeline spec names as `source.dataset`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bankml.core.errors import InvalidInputError
from bankml.datasets.aml_reviews import load_aml
from bankml.datasets.bank_marketing import load_bank_marketing
from bankml.datasets.card_fraud import synthesize_card_fraud
from bankml.datasets.card_fraud_ulb import load_card_fraud_ulb
from bankml.datasets.german_credit import ExampleData, load_german_credit


def _card_fraud(_: Path | None) -> ExampleData:
    return ExampleData(synthesize_card_fraud(), "synthetic",
                       "synthetic card fraud payments (6,000 rows, seed 7)")


def _aml(_: Path | None) -> ExampleData:
    return load_aml()  # synthetic wherever it runs: no real AML data is public


# name -> loader given the public datasets folder (None: the synthetic twin)
EXAMPLE_LOADERS: dict[str, Callable[[Path | None], ExampleData]] = {
    "german_credit": load_german_credit, "card_fraud": _card_fraud, "aml": _aml,
    "bank_marketing": load_bank_marketing, "card_fraud_ulb": load_card_fraud_ulb}


def load_example(name: str, datasets_dir: Path | None) -> ExampleData:
    """The example `name`: the real public file under `datasets_dir` where one exists,
    else its seeded synthetic twin."""
    try:
        loader = EXAMPLE_LOADERS[name]
    except KeyError:
        raise InvalidInputError("source.dataset", f"{name!r} is not a built-in example; use "
                                f"one of {', '.join(EXAMPLE_LOADERS)}",
                                rule="pipeline.spec") from None
    return loader(datasets_dir)
