"""Bank marketing (UCI): term-deposit take-up, in its real time order, or a seeded twin.

The real file (`bank-additional-full.csv.gz`, 41,188 phone contacts of a Portuguese bank,
May 2008 - November 2010) is ordered by contact date but has no year: the year goes up by
one each time the month goes back, which gives `contact_date` (the first of the contact
month, UTC) for an out-of-time split. `duration` (the length of the call) is dropped: it
is known only after the call and nearly decides the outcome. `y` becomes the 0/1
`subscribed`, and `age_band` is added for fairness testing.

The twin has the same columns and dtypes: categories drawn with their real frequencies,
months with their real volumes and economic indicators, and take-up from a logistic model
of the real per-category effects whose intercept is solved month by month, so each month
has its real take-up rate (4.8 % in 2008, 19.5 % in 2009, 52 % in 2010: real drift). See
docs/datasets.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bankml.core.errors import InvalidInputError
from bankml.datasets.german_credit import ExampleData, real_file

FOLDER, FILE = "bank_marketing", "bank-additional-full.csv.gz"
TARGET, DATE, KEY = "subscribed", "contact_date", "client_id"
PROTECTED = ("age", "age_band", "marital")
LEAKS = "duration"
INDICATORS = ("emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m", "nr.employed")
COLUMNS = [
    KEY, DATE, "age", "age_band", "job", "marital", "education", "default", "housing", "loan",
    "contact", "month", "day_of_week", "campaign", "pdays", "previous", "poutcome",
    *INDICATORS, TARGET]
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
EFFECT_SHRINK = 0.8  # categories are drawn independently; full effects would overstate skill

# column -> (value, count among 41,188, take-up rate in that group), from the real file
CATEGORIES: dict[str, list[tuple[str, int, float]]] = {
    "job": [("admin.", 10422, 0.130), ("blue-collar", 9254, 0.069),
            ("technician", 6743, 0.108), ("services", 3969, 0.081),
            ("management", 2924, 0.112), ("retired", 1720, 0.252),
            ("entrepreneur", 1456, 0.085), ("self-employed", 1421, 0.105),
            ("housemaid", 1060, 0.100), ("unemployed", 1014, 0.142),
            ("student", 875, 0.314), ("unknown", 330, 0.112)],
    "marital": [("married", 24928, 0.102), ("single", 11568, 0.140),
                ("divorced", 4612, 0.103), ("unknown", 80, 0.150)],
    "education": [("university.degree", 12168, 0.137), ("high.school", 9515, 0.108),
                  ("basic.9y", 6045, 0.078), ("professional.course", 5243, 0.113),
                  ("basic.4y", 4176, 0.102), ("basic.6y", 2292, 0.082),
                  ("unknown", 1731, 0.145), ("illiterate", 18, 0.222)],
    "default": [("no", 32588, 0.129), ("unknown", 8597, 0.052), ("yes", 3, 0.0)],
    "housing": [("yes", 21576, 0.116), ("no", 18622, 0.109), ("unknown", 990, 0.108)],
    "loan": [("no", 33950, 0.113), ("yes", 6248, 0.109), ("unknown", 990, 0.108)],
    "day_of_week": [("thu", 8623, 0.121), ("mon", 8514, 0.099), ("wed", 8134, 0.117),
                    ("tue", 8090, 0.118), ("fri", 7827, 0.108)],
}
# contact month -> (rows, subscriptions, emp.var.rate, cons.price.idx, cons.conf.idx,
# euribor3m median, nr.employed, share by cellular, share contacted before), real file
PERIODS: dict[str, tuple[int, int, float, float, float, float, float, float, float]] = {
    "2008-05": (7763, 240, 1.1, 93.994, -36.4, 4.857, 5191.0, 0.00, 0.00),
    "2008-06": (4374, 188, 1.4, 94.465, -41.8, 4.959, 5228.1, 0.00, 0.00),
    "2008-07": (6685, 407, 1.4, 93.918, -42.7, 4.962, 5228.1, 0.85, 0.00),
    "2008-08": (5175, 271, 1.4, 93.444, -36.1, 4.964, 5228.1, 0.97, 0.00),
    "2008-10": (67, 42, -0.1, 93.798, -40.4, 4.921, 5195.8, 0.01, 0.03),
    "2008-11": (3616, 190, -0.1, 93.200, -42.0, 4.120, 5195.8, 0.90, 0.20),
    "2008-12": (10, 1, -0.2, 92.756, -45.9, 3.526, 5176.3, 0.20, 0.10),
    "2009-03": (282, 126, -1.8, 92.843, -50.0, 1.640, 5099.1, 0.93, 0.08),
    "2009-04": (2458, 442, -1.8, 93.075, -47.1, 1.405, 5099.1, 0.93, 0.27),
    "2009-05": (5794, 524, -1.8, 92.893, -46.2, 1.291, 5099.1, 0.92, 0.32),
    "2009-06": (715, 264, -2.9, 92.963, -40.8, 1.262, 5076.2, 0.91, 0.27),
    "2009-07": (178, 66, -2.9, 92.469, -33.6, 1.044, 5076.2, 0.86, 0.24),
    "2009-08": (770, 264, -2.9, 92.201, -31.4, 0.873, 5076.2, 0.91, 0.42),
    "2009-09": (267, 106, -3.4, 92.379, -29.8, 0.781, 5017.5, 0.89, 0.40),
    "2009-10": (447, 180, -3.4, 92.431, -26.9, 0.739, 5017.5, 0.87, 0.39),
    "2009-11": (357, 168, -3.4, 92.649, -30.1, 0.715, 5017.5, 0.87, 0.55),
    "2009-12": (172, 88, -3.0, 92.713, -33.0, 0.714, 5023.5, 0.85, 0.48),
    "2010-03": (264, 150, -1.8, 93.369, -34.8, 0.648, 5008.7, 0.85, 0.59),
    "2010-04": (174, 97, -1.8, 93.749, -34.6, 0.644, 5008.7, 0.87, 0.53),
    "2010-05": (212, 122, -1.8, 93.876, -40.0, 0.684, 5008.7, 0.81, 0.64),
    "2010-06": (229, 107, -1.7, 94.055, -39.8, 0.732, 4991.6, 0.72, 0.54),
    "2010-07": (311, 176, -1.7, 94.215, -40.3, 0.846, 4991.6, 0.79, 0.60),
    "2010-08": (233, 120, -1.7, 94.027, -38.3, 0.899, 4991.6, 0.77, 0.59),
    "2010-09": (303, 150, -1.1, 94.199, -37.5, 0.879, 4963.6, 0.81, 0.58),
    "2010-10": (204, 93, -1.1, 94.601, -49.5, 0.987, 4963.6, 0.84, 0.63),
    "2010-11": (128, 58, -1.1, 94.767, -50.8, 1.045, 4963.6, 0.91, 0.60),
}
# log-odds of take-up added (real: 14.7 % by cellular, 5.2 % by telephone; previous
# outcome success 65 %, failure 14 %, none 8.8 %), shrunk as the categories are
CONTACT_EFFECT = {"cellular": 0.30, "telephone": -0.85}
POUTCOME_EFFECT = {"success": 2.4, "failure": 0.25, "nonexistent": -0.25}


def load_bank_marketing(datasets_dir: Path | None, *, seed: int = 7) -> ExampleData:
    """The real file under `datasets_dir/bank_marketing/` if given, else the twin."""
    if datasets_dir is None:
        return ExampleData(synthesize_bank_marketing(seed=seed), "synthetic",
                           f"synthetic bank marketing twin (20,000 contacts, seed {seed})")
    path = real_file(datasets_dir, FOLDER, FILE)
    raw = pd.read_csv(path, sep=";")
    needed = {*COLUMNS, LEAKS, "y"} - {KEY, DATE, TARGET, "age_band"}
    missing = sorted(needed - set(raw.columns))
    if missing:
        raise InvalidInputError(str(path), f"missing columns {', '.join(missing)}",
                                rule="datasets.schema")
    frame = raw.drop(columns=[LEAKS])
    frame[KEY] = np.arange(1, len(frame) + 1)
    frame[DATE] = contact_dates(frame["month"])
    frame[TARGET] = (frame["y"] == "yes").astype(np.int64)
    frame["age_band"] = age_bands(frame["age"])
    return ExampleData(frame[COLUMNS], "real", f"UCI bank marketing ({path})")


def contact_dates(months: pd.Series, *, first_year: int = 2008) -> pd.Series:
    """The first of each row's contact month (UTC), the year recovered from the row order:
    it goes up by one each time the month goes back."""
    number = months.map({name: i + 1 for i, name in enumerate(MONTHS)})
    if number.isna().any():
        bad = months[number.isna()].iloc[0]
        raise InvalidInputError("month", f"{bad!r} is not a month (jan ... dec)",
                                rule="datasets.schema")
    year = first_year + (number.diff() < 0).cumsum()
    return pd.to_datetime(pd.DataFrame({"year": year, "month": number, "day": 1})).dt.tz_localize(
        "UTC").rename(DATE)


def age_bands(age: pd.Series) -> pd.Series:
    """Age in the bands the take-up differs by: up to 25, 26-60, over 60."""
    return pd.Series(np.select([age <= 25, age <= 60], ["<=25", "26-60"], ">60"),
                     index=age.index, name="age_band").astype(str)


def _month_volumes(rows: int, volumes: np.ndarray) -> np.ndarray:
    """Rows per month in the real proportions (largest remainders), at least one each, so
    the twin spans the same months."""
    if rows < 10 * len(volumes):
        raise InvalidInputError("rows", f"{rows} is too few; give at least "
                                f"{10 * len(volumes)}", rule="datasets.parameter")
    exact = 1 + (rows - len(volumes)) * volumes / volumes.sum()
    counts: np.ndarray = np.floor(exact).astype(np.int64)
    counts[np.argsort(counts - exact, kind="stable")[: rows - counts.sum()]] += 1
    return counts


def synthesize_bank_marketing(rows: int = 20_000, *, seed: int = 7) -> pd.DataFrame:
    """A seeded frame shaped like the loaded real file, in time order; the same seed gives
    the same frame."""
    from scipy import optimize, special  # noqa: PLC0415 - loads on first use
    rng = np.random.default_rng(seed)
    names = list(PERIODS)
    volumes = np.array([PERIODS[p][0] for p in names], dtype=float)
    counts = _month_volumes(rows, volumes)
    period = np.repeat(np.arange(len(names)), counts)
    table = np.array([PERIODS[p] for p in names])
    frame = pd.DataFrame({KEY: np.arange(1, rows + 1)})
    frame[DATE] = pd.to_datetime([f"{names[i]}-01" for i in period]).tz_localize("UTC")
    frame["month"] = [MONTHS[int(names[i][5:]) - 1] for i in period]
    overall = np.log(0.1127 / 0.8873)
    logit = np.zeros(rows)
    for column, levels in CATEGORIES.items():
        values, weights, rates = zip(*levels, strict=True)
        picks = rng.choice(len(values), size=rows, p=np.array(weights) / sum(weights))
        frame[column] = np.array(values, dtype=object)[picks]
        rate = np.clip(np.array(rates)[picks], 0.01, 0.99)
        logit += EFFECT_SHRINK * (np.log(rate / (1 - rate)) - overall)
    age = np.clip(np.round(17 + rng.gamma(4.9, 4.7, rows)), 17, 98).astype(np.int64)
    frame["age"] = age
    frame["age_band"] = age_bands(frame["age"])
    logit += np.select([age <= 25, age > 60], [0.7, 1.3], 0.0)
    frame["contact"] = np.where(rng.random(rows) < table[period, 7], "cellular", "telephone")
    logit += frame["contact"].map(CONTACT_EFFECT).to_numpy()
    campaign = np.minimum(rng.geometric(0.43, rows), 56)
    frame["campaign"] = campaign.astype(np.int64)
    logit -= 0.08 * (campaign - 1)
    contacted = rng.random(rows) < table[period, 8]
    success = contacted & (rng.random(rows) < 0.244)
    frame["poutcome"] = np.where(success, "success", np.where(contacted, "failure",
                                                               "nonexistent"))
    logit += frame["poutcome"].map(POUTCOME_EFFECT).to_numpy()
    frame["previous"] = np.where(contacted, np.minimum(rng.geometric(0.75, rows), 7),
                                 0).astype(np.int64)
    recent = np.where(success, rng.random(rows) < 0.85, contacted & (rng.random(rows) < 0.03))
    frame["pdays"] = np.where(recent, rng.choice([3, 6, 4, 9, 2, 7, 12, 10, 5, 13], rows),
                              999).astype(np.int64)
    for index, name in enumerate(INDICATORS):
        values = table[period, 2 + index]
        if name == "euribor3m":  # a daily rate: it moves within the month
            values = np.round(values + rng.normal(0, 0.03, rows), 3)
        frame[name] = values.astype(np.float64)
    # each month's intercept gives it its real take-up rate
    subscribed = np.zeros(rows, dtype=np.int64)
    for index in range(len(names)):
        inside = period == index
        rate = table[index, 1] / table[index, 0]
        shift = optimize.brentq(lambda b, m=inside, r=rate: special.expit(logit[m] + b).mean()
                                - r, -30.0, 30.0)
        subscribed[inside] = rng.random(inside.sum()) < special.expit(logit[inside] + shift)
    frame[TARGET] = subscribed
    for column in (*CATEGORIES, "contact", "poutcome", "month"):
        frame[column] = frame[column].astype(str)
    return frame[COLUMNS]
