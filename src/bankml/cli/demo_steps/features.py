"""Demo step: windowed card features, the same offline and online."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from rich.table import Table

from bankml.cli.app import console
from bankml.cli.demo_steps.scale import Scale
from bankml.core.features import (
    Aggregation,
    AggregationFunction,
    Entity,
    FeatureView,
    Field,
    FileSource,
    Float64,
    String,
)
from bankml.core.identity import Principal
from bankml.datasets import synthesize_card_transactions
from bankml.platform import Platform


def card_features(platform: Platform, eli: Principal, scale: Scale) -> int:
    """Windowed card features: applied, materialised, read both ways, skew-checked."""
    transactions = synthesize_card_transactions(scale.transactions, cards=scale.cards)
    folder = platform.settings.resolved_offline_folder / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "card_transactions.parquet"
    transactions.to_parquet(path)
    view = FeatureView(
        name="card_activity", entities=(Entity(name="card", join_keys=("card_id",)),),
        source=FileSource(path=str(path)),
        schema=(Field(name="amount", dtype=Float64), Field(name="merchant_id", dtype=String)),
        aggregations=tuple(
            Aggregation(function=function, window=window,
                        column={"count": None, "distinct_count": "merchant_id"}.get(
                            function, "amount"))
            for window in (timedelta(hours=1), timedelta(hours=24))
            for function in AggregationFunction),
        owner="fraud-analytics", description="Spending per card over sliding windows")
    [applied] = platform.features.apply(eli, [view])
    end = transactions["event_timestamp"].max() + timedelta(seconds=1)
    [loaded] = platform.features.materialize(eli, end=end.to_pydatetime())
    console.print(f"{len(transactions):,} synthetic card transactions; view "
                  f"[bold]{applied.ref}[/] ({len(view.features)} windowed features, digest "
                  f"{applied.digest[:12]}...) materialised for {loaded.entities} cards.")
    card = str(transactions["card_id"].iloc[-1])
    refs = [f"{applied.ref}:{name}" for name in
            ("events_count_1h", "amount_sum_24h", "amount_max_24h",
             "merchant_id_distinct_count_24h")]
    offline = platform.features.get_historical_features(
        eli, pd.DataFrame({"card_id": [card], "event_timestamp": [end]}), refs)
    online = platform.features.get_online_features(eli, [{"card_id": card}], refs,
                                                   at=end.to_pydatetime())
    table = Table(title=f"{card} at {end:%Y-%m-%d %H:%M:%S} UTC")
    for column in ("feature", "offline (training)", "online (serving)"):
        table.add_column(column)
    for ref in refs:
        name = ref.split(":")[1]
        table.add_row(name, str(offline[name].iloc[0]), str(online.rows[0][name]))
    console.print(table)
    report = platform.features.skew_check(eli, view.name, sample=100, at=end.to_pydatetime())
    console.print(f"Skew check on {report.entities} cards: "
                  f"[{'green' if not report.mismatches else 'red'}]"
                  f"{len(report.mismatches)} mismatches[/].")
    return len(report.mismatches)
