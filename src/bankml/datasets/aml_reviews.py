"""Account reviews from the synthetic AML world: windowed features per account and date.

Transaction monitoring scores accounts, not single payments: every `REVIEW_EVERY_DAYS`
each account is reviewed on what it did in the windows before the review (7 and 30 days,
and a 60-day baseline before those), as a bank's monitoring system computes it. The
label says whether the account took part in laundering within the last 30 days, and
`typologies` names which patterns (empty for normal accounts). Only transactions before
the review moment count, so no feature sees the future. See docs/datasets.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bankml.datasets.aml import CASH, DAY_S, REPORTING_THRESHOLD, START, AmlWorld, synthesize_aml
from bankml.datasets.german_credit import ExampleData

WINDOW_DAYS, SHORT_DAYS, BASELINE_DAYS = 30, 7, 60
# reviews start once every account has a full window and baseline behind it
REVIEW_EVERY_DAYS, FIRST_REVIEW_DAY = 14, WINDOW_DAYS + BASELINE_DAYS
MAX_AGE_DAYS = 3_650  # account ages are capped at ten years: older is simply "long-standing"
TARGET, DATE, TAGS = "is_suspicious", "review_date", "typologies"
PROTECTED = ("age_band", "residency")
FEATURES = [
    "in_count_7d", "out_count_7d", "in_sum_7d", "out_sum_7d", "distinct_senders_7d",
    "in_count_30d", "out_count_30d", "in_sum_30d", "out_sum_30d", "max_in_30d",
    "distinct_senders_30d", "distinct_receivers_30d", "out_in_ratio_30d",
    "passthrough_share_30d", "cash_deposits_30d", "near_threshold_deposits_30d",
    "cash_withdrawn_30d", "cross_border_30d", "new_counterparties_30d",
    "activity_vs_baseline"]
STATIC = ["customer_type", "kyc_risk_rating", "account_age_days"]
COLUMNS = ["account_id", DATE, *STATIC, *FEATURES, *PROTECTED, TARGET, TAGS]


def load_aml(*, seed: int = 7) -> ExampleData:
    """The example's account reviews: always synthetic (no real AML data is public)."""
    world = synthesize_aml(seed=seed)
    accounts = world.manifest["parameters"]["accounts"]
    return ExampleData(aml_reviews(world), "synthetic",
                       f"synthetic AML account reviews ({accounts:,} accounts, seed {seed})")


def aml_reviews(world: AmlWorld) -> pd.DataFrame:
    """One row per account and review date: features over the windows before it, label."""
    days = int(world.manifest["parameters"]["days"])
    events = _account_events(world)
    accounts = world.accounts.reset_index(drop=True)
    frames = []
    for day in range(FIRST_REVIEW_DAY, days + 1, REVIEW_EVERY_DAYS):
        frame = _features_at(events, day, len(accounts))
        moment = START + pd.Timedelta(days=day)
        frame[DATE] = moment
        frame["account_age_days"] = (moment - accounts["open_date"]).dt.days.clip(
            0, MAX_AGE_DAYS).astype(np.int64)
        for column in ("account_id", "customer_type", "kyc_risk_rating", *PROTECTED):
            frame[column] = accounts[column]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def _account_events(world: AmlWorld) -> pd.DataFrame:
    """Each transaction seen from each of our accounts it touches: one row per side, with
    accounts, counterparties and types as integer codes (grouping on text is slow)."""
    tx = world.transactions
    accounts = pd.Index(world.accounts["account_id"])
    parties = pd.Index(pd.unique(pd.concat([tx["from_account"], tx["to_account"]])))
    payments = pd.Index(PAYMENT_TYPES)
    seconds = ((tx["timestamp"] - START) // pd.Timedelta(seconds=1)).to_numpy(np.int64)
    sides = []
    for own, other, incoming in (("to_account", "from_account", True),
                                 ("from_account", "to_account", False)):
        code = accounts.get_indexer(pd.Index(tx[own]))
        mine = code >= 0
        counterparty = parties.get_indexer(pd.Index(tx[other]))[mine]
        sides.append(pd.DataFrame({
            "account": code[mine], "seconds": seconds[mine], "incoming": incoming,
            "counterparty": np.where(tx[other].to_numpy()[mine] == CASH, -1, counterparty),
            "amount": tx["amount"].to_numpy()[mine],
            "payment": payments.get_indexer(pd.Index(tx["payment_type"]))[mine],
            "typology": tx["typology"].to_numpy()[mine],
            "is_laundering": tx["is_laundering"].to_numpy()[mine]}))
    return pd.concat(sides, ignore_index=True)


PAYMENT_TYPES = ("card", "ach", "wire", "cash_deposit", "cash_withdrawal", "cross_border")
DEPOSIT, WITHDRAWAL, CROSS_BORDER = (PAYMENT_TYPES.index(name) for name in
                                     ("cash_deposit", "cash_withdrawal", "cross_border"))


def _features_at(events: pd.DataFrame, day: int, count: int) -> pd.DataFrame:
    """The features of accounts 0..count-1 at midnight before `day` (days since START)."""
    moment = day * DAY_S
    def since(rows: pd.DataFrame, days: int) -> pd.DataFrame:
        return rows[rows["seconds"] >= moment - days * DAY_S]
    known = events[events["seconds"] < moment]
    recent, baseline = since(known, WINDOW_DAYS), since(known, WINDOW_DAYS + BASELINE_DAYS)
    baseline = baseline[baseline["seconds"] < moment - WINDOW_DAYS * DAY_S]
    short = since(recent, SHORT_DAYS)
    out = pd.DataFrame(index=pd.RangeIndex(count))
    def per_account(rows: pd.DataFrame, how: str = "size", column: str = "amount"
                    ) -> pd.Series:
        grouped = rows.groupby("account")
        return grouped.size() if how == "size" else getattr(grouped[column], how)()
    for window, rows in (("7d", short), ("30d", recent)):
        incoming, outgoing = rows[rows["incoming"]], rows[~rows["incoming"]]
        out[f"in_count_{window}"] = per_account(incoming)
        out[f"out_count_{window}"] = per_account(outgoing)
        out[f"in_sum_{window}"] = per_account(incoming, "sum")
        out[f"out_sum_{window}"] = per_account(outgoing, "sum")
        out[f"distinct_senders_{window}"] = per_account(
            incoming[incoming["counterparty"] >= 0], "nunique", "counterparty")
    incoming, outgoing = recent[recent["incoming"]], recent[~recent["incoming"]]
    out["max_in_30d"] = per_account(incoming, "max")
    out["distinct_receivers_30d"] = per_account(outgoing[outgoing["counterparty"] >= 0],
                                                "nunique", "counterparty")
    deposits = incoming[incoming["payment"] == DEPOSIT]
    out["cash_deposits_30d"] = per_account(deposits)
    near = deposits["amount"].between(0.8 * REPORTING_THRESHOLD, REPORTING_THRESHOLD,
                                      inclusive="left")
    out["near_threshold_deposits_30d"] = per_account(deposits[near])
    out["cash_withdrawn_30d"] = per_account(outgoing[outgoing["payment"] == WITHDRAWAL], "sum")
    out["cross_border_30d"] = per_account(recent[recent["payment"] == CROSS_BORDER])
    out["new_counterparties_30d"] = _new_counterparties(recent, baseline)
    out["passthrough_share_30d"] = _passthrough(incoming, outgoing)
    prior = per_account(baseline).reindex(out.index, fill_value=0)
    out["activity_vs_baseline"] = per_account(recent)
    out = out.fillna(0.0)
    # activity of the last 30 days against the account's own monthly average before it
    out["activity_vs_baseline"] = out["activity_vs_baseline"] / (prior * WINDOW_DAYS
                                                                 / BASELINE_DAYS + 1)
    out["out_in_ratio_30d"] = out["out_sum_30d"] / np.maximum(out["in_sum_30d"], 1.0)
    for column in FEATURES:
        out[column] = out[column].astype(np.float64 if column in FLOAT_FEATURES else np.int64)
    laundering = recent[recent["is_laundering"] == 1]
    out[TARGET] = out.index.isin(laundering["account"]).astype(np.int64)
    tags = laundering.groupby("account")["typology"].agg(lambda t: ",".join(sorted(set(t))))
    out[TAGS] = tags.reindex(out.index).fillna("").astype(str)
    return out


FLOAT_FEATURES = frozenset({"in_sum_7d", "out_sum_7d", "in_sum_30d", "out_sum_30d",
                            "max_in_30d", "out_in_ratio_30d", "passthrough_share_30d",
                            "cash_withdrawn_30d", "activity_vs_baseline"})


def _new_counterparties(recent: pd.DataFrame, baseline: pd.DataFrame) -> pd.Series:
    """Distinct counterparties of the last 30 days the account had not dealt with in the
    baseline before them: launderers pay and are paid by strangers."""
    pairs = recent.loc[recent["counterparty"] >= 0, ["account", "counterparty"]]
    pairs = pairs.drop_duplicates()
    seen = baseline[["account", "counterparty"]].drop_duplicates()
    merged = pairs.merge(seen, how="left", indicator=True)
    return merged[merged["_merge"] == "left_only"].groupby("account").size()


def _passthrough(incoming: pd.DataFrame, outgoing: pd.DataFrame) -> pd.Series:
    """Share of the inflow that left again the same or the next day (money passing
    through rather than staying): sum over days of min(in, out that day and the next)."""
    def daily(rows: pd.DataFrame, shift: int = 0) -> pd.Series:
        day = rows["seconds"].to_numpy() // DAY_S - shift
        return rows.groupby([rows["account"].to_numpy(), day])["amount"].sum()
    inflow = daily(incoming)
    if inflow.empty:
        return pd.Series(dtype=np.float64)
    leaving = (daily(outgoing).reindex(inflow.index, fill_value=0.0)
               + daily(outgoing, shift=1).reindex(inflow.index, fill_value=0.0))
    passed = inflow.where(inflow < leaving, leaving).groupby(level=0).sum()
    share: pd.Series = passed / inflow.groupby(level=0).sum()
    return share
