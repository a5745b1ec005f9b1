"""Windowed card features for fraud: what each card did over the last hour and day.

The ULB payments carry no card id, so these are defined on bankml's synthetic card
stream (`bankml.datasets.synthesize_card_transactions`: card, merchant, amount, time),
which a bank replaces with its own authorisation log. Offline (training) and online
(serving) read the same definitions, and `bankml features skew-check card_activity`
checks they agree.

    python -c "from bankml.datasets import synthesize_card_transactions as s; \\
        s().to_parquet('card_transactions.parquet')"
    bankml features apply examples/fraud/features.py      # from that folder
    bankml features materialize
"""

from datetime import timedelta

from bankml import (
    Aggregation,
    AggregationFunction,
    Entity,
    FeatureView,
    Field,
    FileSource,
    Float64,
    String,
)

WINDOWS = (timedelta(hours=1), timedelta(hours=24))


def card_activity_view(path: str) -> FeatureView:
    """Per card and window: payments, their sum, mean and largest amount, and distinct
    merchants (a stolen card tried at many shops)."""
    return FeatureView(
        name="card_activity", entities=(Entity(name="card", join_keys=("card_id",)),),
        source=FileSource(path=path),
        schema=(Field(name="amount", dtype=Float64), Field(name="merchant_id", dtype=String)),
        aggregations=tuple(
            Aggregation(function=function, window=window,
                        column={"count": None, "distinct_count": "merchant_id"}.get(
                            function, "amount"))
            for window in WINDOWS for function in AggregationFunction),
        owner="fraud-analytics-team",
        description="Spending per card over the last hour and day")


card_activity = card_activity_view("card_transactions.parquet")
