"""`bankml demo`: the end-to-end slice on German credit, narrated."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta

import pandas as pd
from rich.panel import Panel
from rich.table import Table

from bankml.cli.app import console
from bankml.cli.context import HomeOption, open_platform
from bankml.core.decisions import CutoffPolicy, Outcome
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
from bankml.datasets import german_credit, load_german_credit, synthesize_card_transactions
from bankml.explain import (
    adverse_reasons,
    example_catalogue_text,
    explainer_for,
    load_catalogue,
    sample_background,
)
from bankml.platform import Platform
from bankml.serving.decisions import CUSTOMER_ID
from bankml.training import train_pd_model

MODEL_NAME = "german-credit-pd"
APPLICANTS = 100
POLICY = CutoffPolicy(version="demo-cutoffs-1", approve_below=0.15, decline_from=0.45)


def demo(home: HomeOption = None) -> None:
    """Train, register, decide, replay and audit: the loop on German credit."""
    started = time.perf_counter()
    with open_platform(home) as platform:
        actor = platform.settings.actor
        console.rule("[bold]1. Data")
        data = load_german_credit(platform.settings.datasets)
        console.print(f"{data.description}: {len(data.frame):,} applicants, "
                      f"{data.frame[german_credit.TARGET].mean():.1%} defaulted.")

        console.rule("[bold]2. Train a probability-of-default model")
        trained = train_pd_model(data.frame, target=german_credit.TARGET,
                                 exclude=("row_id", *german_credit.PROTECTED))
        metrics = trained.metrics
        console.print(f"Logistic regression on {len(trained.inputs)} inputs (protected "
                      f"attributes {', '.join(german_credit.PROTECTED)} kept out). Holdout "
                      f"AUC {metrics['auc']:.3f}, Gini {metrics['gini']:.3f}, "
                      f"Brier {metrics['brier']:.3f}.")

        console.rule("[bold]3. Register it")
        version = platform.registry.register_sklearn(
            MODEL_NAME, trained.pipeline, inputs=trained.inputs, metrics=metrics, actor=actor)
        console.print(f"Registered [bold]{version.ref}[/] ({version.stage}), artifact "
                      f"sha256 {version.artifact_sha256[:16]}... stored with skops at "
                      f"{platform.artifacts.location(version.artifact_sha256)}")

        console.rule("[bold]4. Decide on applicants")
        applicants = trained.holdout.head(APPLICANTS).rename(columns={"row_id": CUSTOMER_ID})
        records = platform.decisions.decide(version.ref, applicants, POLICY,
                                            actor="scoring-service")
        outcomes = Counter(record.outcome for record in records)
        console.print(f"{len(records)} decisions under policy {POLICY.version} (approve below "
                      f"PD {POLICY.approve_below:.0%}, decline from {POLICY.decline_from:.0%}), "
                      "each logged with the artifact digest and its exact inputs:")
        for outcome in Outcome:
            share = outcomes[outcome] / len(records)
            console.print(f"  {outcome:<8} {outcomes[outcome]:>4}  {'#' * round(share * 40)}")

        console.rule("[bold]5. Replay a decision")
        declined = next((r for r in records if r.outcome == Outcome.DECLINE), records[0])
        replay = platform.decisions.replay(declined.decision_id)
        verdict = "[green]identical[/]" if replay.is_identical else "[red]DIFFERENT[/]"
        console.print(f"Decision {declined.decision_id}: logged PD {declined.score:.6f} "
                      f"({declined.outcome}); replayed from the registry: {replay.score:.6f} "
                      f"({replay.outcome}) -> {verdict} (|delta| {replay.delta:.1e}).")

        console.rule("[bold]6. Why it was declined")
        training = data.frame[~data.frame["row_id"].isin(trained.holdout["row_id"])]
        background = sample_background(training[trained.inputs], rows=200, seed=0)
        explainer = explainer_for(trained.pipeline, background)
        logged = pd.DataFrame([json.loads(declined.inputs_json)], columns=trained.inputs)
        explanation = explainer.explain(logged)  # the exact inputs the decision logged
        catalogue = load_catalogue(example_catalogue_text(), inputs=trained.inputs)
        reasons = adverse_reasons(explanation.contributions(0), catalogue,
                                  directions=explanation.directions(0))
        console.print(f"SHAP ({explanation.method}, {explanation.explainer_version}) against "
                      f"the mean log-odds {explanation.expected_value:.3f} of a {background.rows}"
                      f"-row training background (sha256 {background.sha256[:12]}...); "
                      f"catalogue {catalogue.name} (sha256 {catalogue.sha256[:12]}...):")
        for reason in reasons:
            console.print(f"  {reason.code}  {reason.text}  (+{reason.contribution:.2f})")

        console.rule("[bold]7. Card features, the same offline and online")
        skew = _feature_step(platform, actor)

        console.rule("[bold]8. The audit trail")
        report = platform.audit.verify()
        table = Table(show_header=True)
        for column in ("#", "actor", "action", "subject", "hash"):
            table.add_column(column)
        for event in reversed(platform.audit.events(limit=5, newest_first=True)):
            table.add_row(str(event.sequence), event.actor, event.action, event.subject,
                          event.hash[:12])
        console.print(table)
        state = "[green]intact[/]" if report.is_intact else "[red]BROKEN[/]"
        console.print(f"Chain of {report.events_checked} events re-computed: {state}.")

        elapsed = time.perf_counter() - started
        console.print(Panel.fit(
            f"Trained and registered [bold]{version.ref}[/] on {data.source} data "
            f"(AUC {metrics['auc']:.3f}).\n"
            f"Made {len(records)} logged decisions and replayed one: "
            f"{'identical' if replay.is_identical else 'different'}.\n"
            f"Feature skew check: {skew} mismatches between offline and online.\n"
            f"Audit trail: {report.events_checked} events, "
            f"{'intact' if report.is_intact else 'broken'}.\n\n"
            f"Metadata:  {platform.metadata.describe()}\n"
            f"Artifacts: {platform.settings.resolved_artifacts_uri}\n"
            f"Look again: bankml audit log | bankml audit verify | bankml models list | "
            f"bankml features list | "
            f"bankml decisions replay {declined.decision_id}\n"
            f"Done in {elapsed:.1f} s.",
            title="bankml demo: summary"))


def _feature_step(platform: Platform, actor: str) -> int:
    """Windowed card features: applied, materialised, read both ways, skew-checked."""
    transactions = synthesize_card_transactions(3_000, cards=200)
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
    [applied] = platform.features.apply([view], actor=actor)
    end = transactions["event_timestamp"].max() + timedelta(seconds=1)
    [loaded] = platform.features.materialize(end=end.to_pydatetime(), actor=actor)
    console.print(f"{len(transactions):,} synthetic card transactions; view "
                  f"[bold]{applied.ref}[/] ({len(view.features)} windowed features, digest "
                  f"{applied.digest[:12]}...) materialised for {loaded.entities} cards.")
    card = str(transactions["card_id"].iloc[-1])
    refs = [f"{applied.ref}:{name}" for name in
            ("events_count_1h", "amount_sum_24h", "amount_max_24h",
             "merchant_id_distinct_count_24h")]
    offline = platform.features.get_historical_features(
        pd.DataFrame({"card_id": [card], "event_timestamp": [end]}), refs)
    online = platform.features.get_online_features([{"card_id": card}], refs,
                                                   at=end.to_pydatetime())
    table = Table(title=f"{card} at {end:%Y-%m-%d %H:%M:%S} UTC")
    for column in ("feature", "offline (training)", "online (serving)"):
        table.add_column(column)
    for ref in refs:
        name = ref.split(":")[1]
        table.add_row(name, str(offline[name].iloc[0]), str(online.rows[0][name]))
    console.print(table)
    report = platform.features.skew_check(view.name, sample=100, at=end.to_pydatetime())
    console.print(f"Skew check on {report.entities} cards: "
                  f"[{'green' if not report.mismatches else 'red'}]"
                  f"{len(report.mismatches)} mismatches[/].")
    return len(report.mismatches)
