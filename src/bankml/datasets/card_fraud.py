"""A seeded table of scored card payments with a fraud label, for fraud model examples.

Unlike the transaction stream in `card_transactions` (built for windowed features), each
row here already carries what a payment-time fraud model reads: the amount, the hour,
whether the card was present, the merchant category, the distance from the cardholder's
home and the card's recent activity. The label follows a logistic model of those inputs,
so a model has real skill; the cardholder's age is kept for fairness testing only and
does not enter the label. Amounts are log-normal with the ULB card-fraud data's median
(about 22). See docs/datasets.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

START = datetime(2024, 1, 1, tzinfo=UTC)
SECONDS = 366 * 86_400  # one year of payments, so that an out-of-time split has room
FRAUD_RATE = 0.03
CATEGORIES = {  # name: (share of payments, log-odds of fraud added)
    "grocery": (0.30, -0.6), "fuel": (0.15, -0.3), "restaurant": (0.20, -0.2),
    "online_retail": (0.15, 0.8), "electronics": (0.08, 0.9), "travel": (0.07, 0.5),
    "cash_advance": (0.05, 1.1)}
COLUMNS = ["transaction_id", "transaction_time", "amount", "hour", "card_present",
           "merchant_category", "distance_km", "transactions_24h", "age_years", "is_fraud"]


def synthesize_card_fraud(rows: int = 6_000, *, fraud_rate: float = FRAUD_RATE,
                          seed: int = 7) -> pd.DataFrame:
    """Card payments sorted by time with a 0/1 `is_fraud`; the same arguments give the same
    frame."""
    from scipy import optimize, special  # noqa: PLC0415 - loads on first use
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(0, SECONDS, rows).round())
    times = pd.Timestamp(START) + pd.to_timedelta(seconds, unit="s")
    hour = times.hour.to_numpy()
    amount = np.round(np.clip(np.exp(rng.normal(np.log(22.0), 1.3, rows)), 0.5, 10_000), 2)
    card_present = (rng.random(rows) < 0.7).astype(np.int64)
    names = list(CATEGORIES)
    category = rng.choice(len(names), rows, p=[CATEGORIES[n][0] for n in names])
    distance = np.round(np.exp(rng.normal(np.log(8.0), 1.2, rows)), 1)
    recent = rng.poisson(2.0, rows)
    age = np.clip(np.round(18 + rng.gamma(4.0, 8.0, rows)), 18, 95).astype(np.int64)
    # log-odds of fraud from the inputs alone; the intercept is solved for the fraud rate
    logit = (0.7 * np.log(amount / 22.0) + 1.3 * (1 - card_present)
             + 0.5 * np.log1p(distance / 8.0) + 0.25 * (recent - 2)
             + 0.9 * (hour < 6) + np.array([CATEGORIES[n][1] for n in names])[category])
    intercept = optimize.brentq(lambda b: special.expit(logit + b).mean() - fraud_rate,
                                -30.0, 30.0)
    fraud = (rng.random(rows) < special.expit(logit + intercept)).astype(np.int64)
    return pd.DataFrame({
        "transaction_id": np.arange(1, rows + 1), "transaction_time": times,
        "amount": amount, "hour": hour.astype(np.int64), "card_present": card_present,
        "merchant_category": np.array(names)[category], "distance_km": distance,
        "transactions_24h": recent.astype(np.int64), "age_years": age, "is_fraud": fraud,
    })[COLUMNS]
