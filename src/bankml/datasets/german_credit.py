"""German credit (Statlog): the real UCI file when a datasets folder is given, else a twin.

The synthetic twin has the same 23 columns, value labels and dtypes as `german_credit.csv`.
Each category is drawn with its real frequency, numbers follow the real means and ranges,
and `default` follows a logistic model whose per-category effects are the real bad rates,
with the intercept set so that 30 % default as in the real data. It is for demos and tests:
its relationships are simpler than the real data's, so its metrics are not the real ones.

Neither file has a time column, but out-of-time validation needs one: `application_date`
is added to both, synthetic in both cases (see `application_dates`). See docs/datasets.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bankml.core.errors import InvalidInputError

FOLDER, FILE = "german_credit", "german_credit.csv"
TARGET = "default"
PROTECTED = ("age_years", "sex", "personal_status_sex", "foreign_worker")
DATE = "application_date"
DEFAULT_RATE = 0.30
# Applications are dated over these two years (synthetic dates, for out-of-time splits).
FIRST_DATE, DAYS = pd.Timestamp("2023-01-01", tz="UTC"), 731
EFFECT_SHRINK = 0.8  # categories are drawn independently; full effects would overstate skill

# column -> (value, count among 1,000, default rate in that group), from the real file
CATEGORIES: dict[str, list[tuple[str, int, float]]] = {
    "checking_status": [
        ("no checking account", 394, 0.12), ("< 0 DM", 274, 0.49),
        ("0 <= ... < 200 DM", 269, 0.39),
        (">= 200 DM / salary assignments for at least 1 year", 63, 0.22)],
    "credit_history": [
        ("existing credits paid back duly till now", 530, 0.32),
        ("critical account / other credits existing (not at this bank)", 293, 0.17),
        ("delay in paying off in the past", 88, 0.32),
        ("all credits at this bank paid back duly", 49, 0.57),
        ("no credits taken / all credits paid back duly", 40, 0.62)],
    "purpose": [
        ("radio/television", 280, 0.22), ("car (new)", 234, 0.38),
        ("furniture/equipment", 181, 0.32), ("car (used)", 103, 0.17), ("business", 97, 0.35),
        ("education", 50, 0.44), ("repairs", 22, 0.36), ("domestic appliances", 12, 0.33),
        ("others", 12, 0.42), ("retraining", 9, 0.11)],
    "savings_status": [
        ("< 100 DM", 603, 0.36), ("unknown / no savings account", 183, 0.17),
        ("100 <= ... < 500 DM", 103, 0.33), ("500 <= ... < 1000 DM", 63, 0.17),
        (">= 1000 DM", 48, 0.12)],
    "employment_since": [
        ("1 <= ... < 4 years", 339, 0.31), (">= 7 years", 253, 0.25),
        ("4 <= ... < 7 years", 174, 0.22), ("< 1 year", 172, 0.41), ("unemployed", 62, 0.37)],
    "personal_status_sex": [
        ("male : single", 548, 0.27), ("female : divorced/separated/married", 310, 0.35),
        ("male : married/widowed", 92, 0.27), ("male : divorced/separated", 50, 0.40)],
    "other_debtors": [("none", 907, 0.30), ("guarantor", 52, 0.19), ("co-applicant", 41, 0.44)],
    "property": [
        ("car or other, not in savings_status", 332, 0.31), ("real estate", 282, 0.21),
        ("building society savings agreement / life insurance", 232, 0.31),
        ("unknown / no property", 154, 0.44)],
    "other_installment_plans": [("none", 814, 0.28), ("bank", 139, 0.41), ("stores", 47, 0.40)],
    "housing": [("own", 713, 0.26), ("rent", 179, 0.39), ("for free", 108, 0.41)],
    "job": [
        ("skilled employee / official", 630, 0.30), ("unskilled - resident", 200, 0.28),
        ("management / self-employed / highly qualified employee / officer", 148, 0.34),
        ("unemployed / unskilled - non-resident", 22, 0.32)],
    "telephone": [("none", 596, 0.31), ("yes, registered under the customers name", 404, 0.28)],
    "foreign_worker": [("yes", 963, 0.31), ("no", 37, 0.11)],
}
# small integer columns: value -> count among 1,000
ORDINALS: dict[str, dict[int, int]] = {
    "installment_rate_pct": {4: 476, 2: 231, 3: 157, 1: 136},
    "residence_since": {4: 413, 2: 308, 3: 149, 1: 130},
    "existing_credits": {1: 633, 2: 333, 3: 28, 4: 6},
    "num_dependents": {1: 845, 2: 155},
}
COLUMNS = [
    "row_id", DATE, "checking_status", "duration_months", "credit_history", "purpose",
    "credit_amount", "savings_status", "employment_since", "installment_rate_pct",
    "personal_status_sex", "sex", "other_debtors", "residence_since", "property", "age_years",
    "other_installment_plans", "housing", "existing_credits", "job", "num_dependents",
    "telephone", "foreign_worker", TARGET,
]


@dataclass(frozen=True, slots=True)
class ExampleData:
    """A frame and where it came from, so results say which data they rest on."""

    frame: pd.DataFrame
    source: str  # "real" or "synthetic"
    description: str


def real_file(datasets_dir: Path, folder: str, name: str) -> Path:
    """The public dataset's file under `datasets_dir` (BANKML_DATASETS); a clear error
    when the setting points where it is not."""
    path = datasets_dir / folder / name
    if not path.is_file():
        raise InvalidInputError("BANKML_DATASETS", f"{datasets_dir} has no {folder}/{name}; "
                                "point it at the folder that holds the public datasets, or "
                                "unset it to use the synthetic data", rule="datasets.present")
    return path


def load_german_credit(datasets_dir: Path | None, *, seed: int = 7) -> ExampleData:
    """The real file under `datasets_dir/german_credit/` if given, else the synthetic twin."""
    if datasets_dir is None:
        return ExampleData(synthesize_german_credit(seed=seed), "synthetic",
                           f"synthetic German credit twin (1,000 rows, seed {seed})")
    path = real_file(datasets_dir, FOLDER, FILE)
    frame = pd.read_csv(path)
    frame[DATE] = application_dates(len(frame), seed=seed)
    missing = sorted(set(COLUMNS) - set(frame.columns))
    if missing:
        raise InvalidInputError(str(path), f"missing columns {', '.join(missing)}",
                                rule="datasets.schema")
    return ExampleData(frame[COLUMNS], "real", f"UCI Statlog German credit ({path})")


def synthesize_german_credit(rows: int = 1_000, *, seed: int = 7) -> pd.DataFrame:
    """A seeded frame shaped like `german_credit.csv`; the same seed gives the same frame."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"row_id": np.arange(1, rows + 1)})
    logit = np.zeros(rows)
    base_odds = np.log(DEFAULT_RATE / (1 - DEFAULT_RATE))
    for column, levels in CATEGORIES.items():
        values, counts, bad_rates = zip(*levels, strict=True)
        picks = rng.choice(len(values), size=rows, p=np.array(counts) / sum(counts))
        frame[column] = np.array(values, dtype=object)[picks]
        rates = np.array(bad_rates)[picks]
        logit += EFFECT_SHRINK * (np.log(rates / (1 - rates)) - base_odds)
    for column, counts_by_value in ORDINALS.items():
        weights = np.array(list(counts_by_value.values()), dtype=float)
        frame[column] = rng.choice(list(counts_by_value), size=rows, p=weights / weights.sum())
    duration = np.clip(np.round(rng.lognormal(np.log(18), 0.55, rows)), 4, 72).astype(int)
    amount = np.exp(np.log(150 * duration) + rng.normal(0.0, 0.5, rows))
    frame["duration_months"] = duration
    frame["credit_amount"] = np.clip(np.round(amount), 250, 18_424).astype(int)
    frame["age_years"] = np.clip(np.round(19 + rng.gamma(2.2, 7.5, rows)), 19, 75).astype(int)
    logit += 0.03 * (duration - 21) - 0.015 * (frame["age_years"].to_numpy() - 35)
    frame["sex"] = np.where(frame["personal_status_sex"].str.startswith("female"),
                            "female", "male")
    probability = _sigmoid(logit + _intercept_for(logit, DEFAULT_RATE))
    frame[TARGET] = (rng.random(rows) < probability).astype(int)
    for column in CATEGORIES:
        frame[column] = frame[column].astype("str")
    frame["sex"] = frame["sex"].astype("str")
    frame[DATE] = application_dates(rows, seed=seed)
    return frame[COLUMNS]


def application_dates(rows: int, *, seed: int) -> pd.Series:
    """Seeded application dates (UTC midnights) spread evenly at random over 2023-2024.

    Drawn from their own random stream, so adding them left every other column as it was.
    They carry no signal: an out-of-time split on them tests the mechanics, not drift.
    """
    days = np.random.default_rng([seed, 1]).integers(0, DAYS, size=rows)
    return pd.Series(FIRST_DATE + pd.to_timedelta(days, unit="D"), name=DATE)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _intercept_for(logit: np.ndarray, rate: float) -> float:
    """The shift that makes the mean probability equal `rate` (bisection; monotone)."""
    low, high = -20.0, 20.0
    for _ in range(100):
        middle = (low + high) / 2
        if _sigmoid(logit + middle).mean() < rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2
