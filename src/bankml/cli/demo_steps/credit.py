"""Demo steps on German credit: train from a spec, registry, the endpoint, decisions,
replay and reasons."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from bankml.cli.app import console
from bankml.cli.demo_steps.applicants import request, within
from bankml.core.decisions import CutoffPolicy, DecisionRecord, Outcome
from bankml.core.errors import BankmlError
from bankml.core.identity import Principal
from bankml.core.registry import ModelVersion
from bankml.datasets import ExampleData, german_credit
from bankml.platform import Platform
from bankml.serving import Replay

SPEC = Path(str(files("bankml") / "examples" / "german_credit_pd.yaml"))
APPLICANTS = 100
OUT_OF_TIME_FROM = "2024-07-01"  # the example spec's split: later applications are unseen
ENDPOINT = Path(str(files("bankml") / "examples" / "german_credit_pd_endpoint.yaml"))


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


def serve(platform: Platform, people: dict[str, Principal]) -> str:
    """The endpoint that decides with the champion: applied by the ML engineer."""
    applied = platform.endpoints.apply(people["eli"], ENDPOINT)
    endpoint = applied.version.endpoint
    console.print(f"$ bankml endpoints apply examples/{ENDPOINT.name}   # as eli\n"
                  f"Endpoint [bold]{applied.version.ref}[/] (digest "
                  f"{applied.version.digest[:12]}...) decides with {endpoint.model}@champion: "
                  f"approve below PD {endpoint.cutoffs['approve_below']:.0%}, decline from "
                  f"{endpoint.cutoffs['decline_from']:.0%}, the top reasons on every decline.")
    return applied.version.name


def decide(platform: Platform, version: ModelVersion, data: ExampleData,
           people: dict[str, Principal], endpoint: str) -> Decided:
    """Applicants decided through the endpoint, one refused for a value never seen, and a
    decline replayed from its record."""
    recent = data.frame[data.frame[german_credit.DATE] >= OUT_OF_TIME_FROM]
    requests = [_request(row, version) for row in recent.to_dict(orient="records")]
    fits = [r for r in requests if within(r, version)][:APPLICANTS]
    records = platform.decisions.decide(people["eli"], endpoint, fits)
    outcomes = Counter(record.outcome for record in records)
    console.print(f"{len(records)} applications decided through {endpoint}, each logged "
                  "durably (its batch's Merkle root on the audit trail) with the endpoint and "
                  "model versions, the artifact digest and the exact inputs:")
    for outcome in CutoffPolicy.outcomes:
        share = outcomes[outcome] / len(records)
        console.print(f"  {outcome:<8} {outcomes[outcome]:>4}  {'#' * round(share * 40)}")
    odd = next((r for r in requests if not within(r, version)), None)
    if odd is not None:
        try:
            platform.decisions.decide(people["eli"], endpoint, [odd])
        except BankmlError as refused:
            console.print(f"An application with a value the model never saw is refused, not "
                          f"guessed at ({refused.rule}): {refused}")
    declined = next((r for r in records if r.outcome == Outcome.DECLINE), records[0])
    replay = platform.decisions.replay(people["aude"], declined.decision_id)
    verdict = "[green]identical[/]" if replay.is_identical else "[red]DIFFERENT[/]"
    console.print(f"Replaying decision {declined.decision_id} (as aude, auditor): logged PD "
                  f"{declined.score:.6f} ({declined.outcome}); from the registry: "
                  f"{replay.score:.6f} ({replay.outcome}) -> {verdict} "
                  f"(|delta| {replay.delta:.1e}).")
    return Decided(records, declined, replay)


def explain_decline(declined: DecisionRecord) -> None:
    """The adverse-action reasons the decision service gave, as logged with the decision."""
    given = json.loads(declined.reasons_json)
    console.print(f"Reasons logged with decision {declined.decision_id} (method "
                  f"{given['method']}, background sha256 {given['background_sha256'][:12]}..., "
                  f"catalogue {given['catalogue']} sha256 {given['catalogue_sha256'][:12]}...):")
    for reason in given["codes"]:
        console.print(f"  {reason['code']}  {reason['text']}  (+{reason['contribution']:.2f})")


def _request(row: dict[Hashable, Any], version: ModelVersion) -> dict[str, Any]:
    return request(row, version, entity={"customer_id": str(row["row_id"])})
