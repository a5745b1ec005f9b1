"""The synthetic card fraud payments: seeded, a few percent fraud, and learnable."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from bankml.datasets import synthesize_card_fraud


def test_same_seed_gives_the_same_frame() -> None:
    """Two calls with one seed are equal; another seed differs."""
    pd.testing.assert_frame_equal(synthesize_card_fraud(seed=3), synthesize_card_fraud(seed=3))
    assert not synthesize_card_fraud(seed=3).equals(synthesize_card_fraud(seed=4))


def test_fraud_rate_is_near_the_asked_rate() -> None:
    """About 3 % of payments are fraud by default, within sampling error."""
    frame = synthesize_card_fraud(rows=20_000)
    assert abs(frame["is_fraud"].mean() - 0.03) < 0.005


def test_label_depends_on_the_inputs_not_on_age() -> None:
    """Card-not-present payments rank fraud well; the protected age does not."""
    frame = synthesize_card_fraud(rows=20_000)
    assert roc_auc_score(frame["is_fraud"], 1 - frame["card_present"]) > 0.6
    assert abs(roc_auc_score(frame["is_fraud"], frame["age_years"]) - 0.5) < 0.03


def test_payments_are_sorted_by_time_within_one_year() -> None:
    """Times rise over 2024 (UTC), so an out-of-time split has later rows."""
    times = synthesize_card_fraud()["transaction_time"]
    assert times.is_monotonic_increasing
    assert times.min() >= pd.Timestamp("2024-01-01", tz="UTC")
    assert times.max() < pd.Timestamp("2025-01-01", tz="UTC")
    assert np.array_equal(synthesize_card_fraud()["hour"], times.dt.hour)
