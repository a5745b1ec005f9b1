"""Demo steps on German credit: train from a spec, registry, decisions, replay, reasons."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pandas as pd

from bankml.cli.app import console
from bankml.core.decisions import CutoffPolicy, DecisionRecord, Outcome
from bankml.core.identity import Principal
from bankml.core.registry import ModelVersion
from bankml.datasets import ExampleData, german_credit
from bankml.explain import (
    adverse_reasons,
    example_catalogue_text,
    explainer_for,
    load_catalogue,
    sample_background,
)
from bankml.platform import Platform
from bankml.serving.decisions import CUSTOMER_ID, Replay

SPEC = Path(str(files("bankml") / "examples" / "german_credit_pd.yaml"))
APPLICANTS = 100
OUT_OF_TIME_FROM = "2024-07-01"  # the example spec's split: later applications are unseen
POLICY = CutoffPolicy(version="demo-cutoffs-1", approve_below=0.15, decline_from=0.45)


@dataclass(frozen=True)
class Decided:
    records: list[DecisionRecord]
    declined: DecisionRecord
    replay: Replay


def train(platform: Platform, dana: Principal) -> ModelVersion:
    console.print(f"$ bankml train examples/{SPEC.name}   # as dana (data scientist)")
    version = platform.training.train(dana, SPEC)
    metrics = version.metrics
    console.print(f"Registered [bold]{version.ref}[/] ({version.stage}) from a declared spec: "
                  f"logistic regression on {len(version.inputs)} inputs (protected attributes "
                  f"{', '.join(german_credit.PROTECTED)} kept out). Out-of-time test AUC "
                  f"{metrics['test.auc']:.3f}, Gini {metrics['test.gini']:.3f}, KS "
                  f"{metrics['test.ks']:.3f}. Artifact sha256 {version.artifact_sha256[:16]}... "
                  f"at {platform.artifacts.location(version.artifact_sha256)}")
    return version


def curate(platform: Platform, version: ModelVersion,
           people: dict[str, Principal]) -> tuple[Path, str]:
    """Alias, model card and reproduction; returns the card's path and the verdict."""
    platform.registry.set_alias(people["eli"], version.name, "champion", version.number,
                                reason="first version")
    card_path = platform.settings.home / "cards" / f"{version.ref}.html"
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card_path.write_text(platform.registry.card(version.ref).html(), encoding="utf-8")
    reproduction = platform.training.reproduce(people["vera"], version.ref)
    console.print(f"eli (ML engineer) points {version.name}@champion -> {version.ref}. Model "
                  f"card: {card_path}\n"
                  f"$ bankml models reproduce {version.ref}   # as vera -> {reproduction.verdict}")
    return card_path, reproduction.verdict


def decide(platform: Platform, version: ModelVersion, data: ExampleData,
           people: dict[str, Principal]) -> Decided:
    recent = data.frame[data.frame[german_credit.DATE] >= OUT_OF_TIME_FROM]
    applicants = recent.head(APPLICANTS).rename(columns={"row_id": CUSTOMER_ID})
    records = platform.decisions.decide(people["eli"], version.ref, applicants, POLICY)
    outcomes = Counter(record.outcome for record in records)
    console.print(f"{len(records)} decisions under policy {POLICY.version} (approve below PD "
                  f"{POLICY.approve_below:.0%}, decline from {POLICY.decline_from:.0%}), each "
                  "logged with the artifact digest and its exact inputs:")
    for outcome in POLICY.outcomes:
        share = outcomes[outcome] / len(records)
        console.print(f"  {outcome:<8} {outcomes[outcome]:>4}  {'#' * round(share * 40)}")
    declined = next((r for r in records if r.outcome == Outcome.DECLINE), records[0])
    replay = platform.decisions.replay(people["aude"], declined.decision_id)
    verdict = "[green]identical[/]" if replay.is_identical else "[red]DIFFERENT[/]"
    console.print(f"Replaying decision {declined.decision_id}: logged PD {declined.score:.6f} "
                  f"({declined.outcome}); from the registry: {replay.score:.6f} "
                  f"({replay.outcome}) -> {verdict} (|delta| {replay.delta:.1e}).")
    return Decided(records, declined, replay)


def explain_decline(platform: Platform, version: ModelVersion, data: ExampleData,
                    declined: DecisionRecord) -> None:
    """The adverse-action reasons for a logged decline, from its exact logged inputs."""
    earlier = data.frame[data.frame[german_credit.DATE] < OUT_OF_TIME_FROM]
    background = sample_background(earlier[version.inputs], rows=200, seed=0)
    explainer = explainer_for(platform.registry.load(version), background,
                              features=version.inputs)
    logged = pd.DataFrame([json.loads(declined.inputs_json)], columns=version.inputs)
    explanation = explainer.explain(logged)
    catalogue = load_catalogue(example_catalogue_text(), inputs=version.inputs)
    reasons = adverse_reasons(explanation.contributions(0), catalogue,
                              directions=explanation.directions(0))
    console.print(f"SHAP ({explanation.method}, {explanation.explainer_version}) against the "
                  f"mean log-odds {explanation.expected_value:.3f} of a {background.rows}-row "
                  f"training background (sha256 {background.sha256[:12]}...); catalogue "
                  f"{catalogue.name} (sha256 {catalogue.sha256[:12]}...):")
    for reason in reasons:
        console.print(f"  {reason.code}  {reason.text}  (+{reason.contribution:.2f})")
