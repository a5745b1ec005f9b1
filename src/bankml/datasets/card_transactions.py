"""A seeded stream of card transactions shaped like the ULB credit-card fraud data.

The ULB file has PCA-anonymised columns, `Time` (seconds over two days), `Amount` and
`Class`, but no card identifiers. The twin keeps what windowed features need and the real
file lacks: a card id and a merchant per transaction. Amounts are log-normal with the real
median (about 22) and mean (about 88); transactions arrive over two days with the real
day/night rhythm; frauds come in bursts of rapid transactions on a few cards, at the real
population rate of 0.17 % unless asked otherwise. See docs/datasets.md.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

START = datetime(2013, 9, 1, tzinfo=UTC)
SECONDS = 2 * 86_400  # the real data spans two days
MERCHANTS = 300
FRAUD_RATE = 0.0017
COLUMNS = ["transaction_id", "card_id", "event_timestamp", "amount", "merchant_id",
           "is_fraud"]


def synthesize_card_transactions(transactions: int = 5_000, *, cards: int = 500,
                                 fraud_rate: float = FRAUD_RATE, seed: int = 7,
                                 start: datetime = START) -> pd.DataFrame:
    """Transactions sorted by time; the same arguments give the same frame."""
    rng = np.random.default_rng(seed)
    # fewer transactions at night: accept times with a day-shaped probability
    seconds = np.empty(0)
    while seconds.size < transactions:
        proposal = rng.uniform(0, SECONDS, transactions * 2)
        hour = (proposal % 86_400) / 3_600
        keep = rng.random(proposal.size) < 0.25 + 0.75 * np.sin(np.pi * hour / 24) ** 2
        seconds = np.concatenate([seconds, proposal[keep]])
    seconds = np.sort(seconds[:transactions].round())
    card = rng.zipf(1.6, transactions) % cards
    amount = np.round(np.exp(rng.normal(np.log(22.0), 1.66, transactions)), 2)
    merchant = rng.integers(0, MERCHANTS, transactions)
    fraud = np.zeros(transactions, dtype=int)
    bursts = max(1, round(transactions * fraud_rate / 3))
    for _ in range(bursts):
        # a stolen card: three to five quick purchases at new merchants
        first = int(rng.integers(0, transactions - 6))
        size = int(rng.integers(3, 6))
        rows = np.arange(first, min(first + size, transactions))
        card[rows] = int(rng.integers(0, cards))
        merchant[rows] = rng.integers(MERCHANTS, MERCHANTS + 50, rows.size)
        amount[rows] = np.round(rng.uniform(200, 1_500, rows.size), 2)
        fraud[rows] = 1
    times = [start + timedelta(seconds=float(s)) for s in seconds]
    return pd.DataFrame({
        "transaction_id": np.arange(1, transactions + 1),
        "card_id": [f"card-{c:04d}" for c in card],
        "event_timestamp": pd.to_datetime(times, utc=True),
        "amount": amount.astype(float),
        "merchant_id": [f"m-{m:03d}" for m in merchant],
        "is_fraud": fraud,
    })[COLUMNS]
