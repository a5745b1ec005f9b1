"""Feature definitions the feature tests apply: a card's transactions, plain and windowed."""

from __future__ import annotations

import os
from datetime import timedelta

import pandas as pd

from bankml import (
    Aggregation,
    AggregationFunction,
    Entity,
    FeatureView,
    Field,
    FileSource,
    Float64,
    OnDemandFeatureView,
    String,
)

SOURCE = FileSource(path=os.environ.get("CARD_TRANSACTIONS", "transactions.parquet"))
card = Entity(name="card", join_keys=("card_id",))
WINDOWS = (timedelta(hours=1), timedelta(hours=24), timedelta(days=7))

card_activity = FeatureView(
    name="card_activity", entities=(card,), source=SOURCE,
    schema=(Field(name="amount", dtype=Float64), Field(name="merchant_id", dtype=String)),
    aggregations=tuple(
        Aggregation(function=function, window=window,
                    column={"count": None, "distinct_count": "merchant_id"}.get(
                        function, "amount"))
        for window in WINDOWS for function in AggregationFunction),
    owner="fraud-team", description="Spending per card over sliding windows")

card_last = FeatureView(
    name="card_last", entities=(card,), source=SOURCE,
    schema=(Field(name="amount", dtype=Float64), Field(name="merchant_id", dtype=String)),
    ttl=timedelta(hours=12))


def amount_vs_usual(frame: pd.DataFrame) -> pd.DataFrame:
    usual = frame["amount_mean_24h"].where(frame["amount_mean_24h"] > 0)
    return pd.DataFrame({"amount_vs_usual": frame["request_amount"] / usual})


amount_ratio = OnDemandFeatureView(
    name="amount_ratio", sources=("card_activity:amount_mean_24h",),
    request_fields=(Field(name="request_amount", dtype=Float64),),
    schema=(Field(name="amount_vs_usual", dtype=Float64),), function=amount_vs_usual)
