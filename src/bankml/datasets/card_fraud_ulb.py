"""Card fraud (ULB / Worldline, September 2013): the real case-control sample when a
datasets folder is given, else a seeded twin drawn the same way.

The public sample keeps all 492 frauds of the 284,807 transactions and 4,920 of the
284,315 genuine ones at random; `sample_weight` says how many population transactions a
row stands for (1 for a fraud, 284,315 / 4,920 for a genuine one), so that weighted
metrics are the population's. `Time` is seconds since the first transaction of the two
days; `transaction_time` puts it on a calendar from 2013-09-01 (the day is nominal: ULB
gives none). V1-V28 are PCA components with no published meaning, `Amount` the amount.

The twin has the same columns, counts and weights. Genuine components are normal with the
real genuine standard deviations; a fraud's components move along the real fraud means,
each fraud by its own strength (many frauds look nearly genuine, a few extreme, as in the
real file); components are drawn independently, so its figures are not the real ones.
Amounts follow the real medians; a third of the frauds are test amounts
of at most 1. See docs/datasets.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bankml.core.errors import InvalidInputError
from bankml.datasets.german_credit import ExampleData, real_file

FOLDER, FILE = "creditcard_fraud_ulb", "creditcard_sample.csv.gz"
TARGET, WEIGHT, DATE, KEY = "Class", "sample_weight", "transaction_time", "transaction_id"
FRAUDS, GENUINE_SAMPLED, GENUINE_TOTAL = 492, 4_920, 284_315
GENUINE_WEIGHT = GENUINE_TOTAL / GENUINE_SAMPLED  # 57.79 population rows per sampled row
START = pd.Timestamp("2013-09-01", tz="UTC")
SECONDS = 172_792  # the two days of the full data
COMPONENTS = [f"V{i}" for i in range(1, 29)]
COLUMNS = [KEY, DATE, "Time", *COMPONENTS, "Amount", TARGET, WEIGHT]
# per component, measured on the real sample: the genuine rows' standard deviation and
# the fraud rows' mean (the genuine means are 0 to two decimals)
GENUINE_SD = (1.93, 1.62, 1.44, 1.41, 1.34, 1.34, 1.14, 1.10, 1.10, 1.05, 1.01, 0.94, 0.98,
              0.95, 0.92, 0.83, 0.75, 0.82, 0.81, 0.76, 0.70, 0.71, 0.53, 0.61, 0.52, 0.48,
              0.41, 0.37)
FRAUD_MEAN = (-4.77, 3.62, -7.03, 4.54, -3.15, -1.40, -5.57, 0.57, -2.58, -5.68, 3.80, -6.26,
              -0.11, -6.97, -0.09, -4.14, -6.67, -2.25, 0.68, 0.37, 0.71, 0.01, -0.04, -0.11,
              0.04, 0.05, 0.17, 0.08)
FRAUD_SHIFT = 0.35  # of the real fraud mean, times each fraud's strength (mean 1)


def load_card_fraud_ulb(datasets_dir: Path | None, *, seed: int = 7) -> ExampleData:
    """The real sample under `datasets_dir/creditcard_fraud_ulb/` if given, else the twin;
    rows in time order either way (the file is shuffled)."""
    if datasets_dir is None:
        return ExampleData(synthesize_card_fraud_ulb(seed=seed), "synthetic",
                           f"synthetic ULB card fraud twin ({FRAUDS + GENUINE_SAMPLED:,} "
                           f"rows, seed {seed})")
    path = real_file(datasets_dir, FOLDER, FILE)
    raw = pd.read_csv(path)
    missing = sorted({"Time", *COMPONENTS, "Amount", TARGET} - set(raw.columns))
    if missing:
        raise InvalidInputError(str(path), f"missing columns {', '.join(missing)}",
                                rule="datasets.schema")
    return ExampleData(_framed(raw), "real",
                       f"ULB credit-card fraud, case-control sample ({path})")


def synthesize_card_fraud_ulb(*, seed: int = 7) -> pd.DataFrame:
    """A seeded frame shaped like the real sample; the same seed gives the same frame."""
    rng = np.random.default_rng(seed)
    rows = FRAUDS + GENUINE_SAMPLED
    fraud = np.r_[np.ones(FRAUDS, dtype=np.int64), np.zeros(GENUINE_SAMPLED, dtype=np.int64)]
    noise = rng.normal(size=(rows, len(COMPONENTS))) * np.array(GENUINE_SD)
    strength = rng.exponential(1.0, FRAUDS)[:, None]
    noise[:FRAUDS] = noise[:FRAUDS] * 1.5 + strength * FRAUD_SHIFT * np.array(FRAUD_MEAN)
    amount = np.exp(rng.normal(np.log(21.7), 1.66, rows))
    tests = rng.random(FRAUDS) < 0.37  # card testing: tiny amounts
    amount[:FRAUDS] = np.where(tests, rng.uniform(0, 1, FRAUDS),
                               np.exp(rng.normal(np.log(60.0), 1.4, FRAUDS)))
    # genuine payments follow the day and night; frauds come at any hour
    seconds = np.r_[rng.uniform(0, SECONDS, FRAUDS), _daytime(rng, GENUINE_SAMPLED)]
    raw = pd.DataFrame(np.round(noise, 6), columns=COMPONENTS)
    raw.insert(0, "Time", np.round(seconds))
    raw["Amount"] = np.round(amount, 2)
    raw[TARGET] = fraud
    return _framed(raw.sample(frac=1.0, random_state=seed))  # shuffled, as the real file


def _daytime(rng: np.random.Generator, count: int) -> np.ndarray:
    seconds = np.empty(0)
    while seconds.size < count:
        proposal = rng.uniform(0, SECONDS, count * 2)
        hour = (proposal % 86_400) / 3_600
        keep = rng.random(proposal.size) < 0.25 + 0.75 * np.sin(np.pi * hour / 24) ** 2
        seconds = np.concatenate([seconds, proposal[keep]])
    return seconds[:count]


def _framed(raw: pd.DataFrame) -> pd.DataFrame:
    """Time order, a transaction id, a calendar time and the sampling weight."""
    frame = raw.sort_values("Time", kind="stable").reset_index(drop=True)
    frame[KEY] = np.arange(1, len(frame) + 1)
    frame[DATE] = START + pd.to_timedelta(frame["Time"], unit="s")
    frame[TARGET] = frame[TARGET].astype(np.int64)
    frame[WEIGHT] = np.where(frame[TARGET] == 1, 1.0, GENUINE_WEIGHT)
    return frame[COLUMNS]
