"""A credit model trained from a CSV file, fresh rows for its retraining, and traffic that
drifts: the small case closing the loop is tested on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bankml.core.registry import ModelVersion
from bankml.datasets import load_german_credit
from support.served import SPEC, requests_from


def file_spec(folder: Path, *, tier: int) -> tuple[Path, Path]:
    """The example spec reading its rows from a CSV file, at `tier`; and a fresh file of
    rows (nine in ten of them, as a later extract would hold) for the retraining."""
    frame = load_german_credit(None).frame
    frame.to_csv(folder / "applications.csv", index=False)
    frame.sample(frac=0.9, random_state=3).sort_index().to_csv(folder / "fresh.csv",
                                                              index=False)
    text = SPEC.read_text().replace("dataset: german_credit", "path: applications.csv")
    spec = folder / "spec.yaml"
    spec.write_text(text.replace("risk_tier: 2", f"risk_tier: {tier}"))
    return spec, folder / "fresh.csv"


def drifted(version: ModelVersion, count: int = 400) -> list[dict[str, Any]]:
    """Applications whose duration and amount take the development sample's largest values."""
    requests = requests_from(load_german_credit(None).frame, version, count, start=0,
                             entity=("customer_id", "row_id"))
    for name in ("duration_months", "credit_amount"):
        high = sorted(r[name] for r in requests)[-40:]
        for i, request in enumerate(requests):
            request[name] = high[i % len(high)]
    return requests
