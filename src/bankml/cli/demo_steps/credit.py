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

import yaml

from bankml.cli.app import console
from bankml.cli.demo_steps import catches
from bankml.cli.demo_steps.applicants import request, within
from bankml.cli.demo_steps.served import HOST, Server, app_token, served
from bankml.core.decisions import CutoffPolicy, DecisionRecord, Outcome
from bankml.core.errors import BankmlError
from bankml.core.identity import Principal
from bankml.core.registry import ModelVersion
from bankml.datasets import ExampleData, german_credit
from bankml.documents import load_yaml
from bankml.platform import Platform

SPEC = Path(str(files("bankml") / "examples" / "german_credit_pd.yaml"))
APPLICANTS = 100
OUT_OF_TIME_FROM = "2024-07-01"  # the example spec's split: later applications are unseen
ENDPOINT = Path(str(files("bankml") / "examples" / "german_credit_pd_endpoint.yaml"))
APP = "credit-app"  # the service account of the lender's application, calling over HTTP
# a purpose of the Statlog code book that no application in the data has
UNSEEN = {"purpose": "vacation"}


@dataclass(frozen=True)
class Decided:
    records: list[DecisionRecord]  # as logged, read back from the decision log
    declined: DecisionRecord
    replay: dict[str, Any]  # the auditor's replay, as bankml serve answered it
    server: Server  # the bankml serve that decided (stopped since)


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


def protected_input(platform: Platform, dana: Principal, caught: catches.Catches) -> None:
    """A spec that reads a protected attribute as an input is refused before training."""
    spec = load_yaml(SPEC.read_text(encoding="utf-8"), source=str(SPEC))
    attribute = spec["model"]["protected_attributes"][0]
    name = attribute["name"] if isinstance(attribute, dict) else attribute
    spec["inputs"].append(name)
    tried = platform.settings.home / "specs" / "german_credit_pd_with_age.yaml"
    tried.parent.mkdir(parents=True, exist_ok=True)
    tried.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    console.print(f"$ bankml train {tried.name}   # as dana: the same spec, {name} added to "
                  "its inputs")
    try:
        platform.training.train(dana, tried)
    except BankmlError as refused:
        caught.caught(catches.BIAS, "2. train",
                      f"a model may not read {name}, a protected attribute kept for fairness "
                      f"tests only: refused before training ({refused.rule}: {refused}); "
                      "nothing registered.")
        return
    console.print(f"[red]{tried.name} trained on {name}: a protected attribute was used.[/]")


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
    """Applicants decided by a real `bankml serve`, called by the lender's application with
    a token scoped to the endpoint; one refused for a value never seen; a decline replayed
    by the auditor over HTTP with her own token."""
    from bankml.client import ApiError, BankmlClient  # noqa: PLC0415 - HTTP only here

    recent = data.frame[data.frame[german_credit.DATE] >= OUT_OF_TIME_FROM]
    requests = [_request(row, version) for row in recent.to_dict(orient="records")]
    fits = [r for r in requests if within(r, version)][:APPLICANTS]
    app = app_token(platform, APP, scopes=frozenset({endpoint}),
                    display_name="The lender's loan-origination application",
                    description="bankml demo: decides on credit applications")
    audit_token = platform.identity.create_token(
        people["aude"], days=1, description="bankml demo: a replay").plaintext
    with served(platform.settings.home) as server:
        console.print(f"$ bankml serve --home {platform.settings.home} --host {HOST} "
                      f"--port {server.port}   # ready in {server.startup_s:.1f} s\n"
                      f"The lender's application calls it as {APP}, a service account whose "
                      f"token may call {endpoint} alone:")
        with BankmlClient(server.url, app) as lender:
            answers = lender.decide_batch(endpoint, fits)
            records = [platform.decisions.get(people["eli"], a["decision_id"])
                       for a in answers]
            _show_outcomes(endpoint, records)
            odd = {**fits[0], **UNSEEN}
            try:
                lender.decide(endpoint, odd)
            except ApiError as refused:
                console.print(f"POST /v1/endpoints/{endpoint}/decisions   the first applicant "
                              f"again, for a {UNSEEN['purpose']} (a purpose of the data's code "
                              f"book that no application in it has) -> {refused.status} "
                              f"problem+json, refused, not guessed at ({refused.rule}): "
                              f"{refused}")
        declined = next((r for r in records if r.outcome == Outcome.DECLINE), records[0])
        with BankmlClient(server.url, audit_token) as auditor:
            replay = auditor.replay(declined.decision_id)
    verdict = "[green]identical[/]" if replay["identical"] else "[red]DIFFERENT[/]"
    console.print(f"POST /v1/decisions/{declined.decision_id}/replay   as aude (auditor), with "
                  f"her own token: logged PD {replay['logged_score']:.6f} "
                  f"({replay['logged_decision']}); from the registry: {replay['score']:.6f} "
                  f"({replay['decision']}) -> {verdict} (|delta| {replay['delta']:.1e}).\n"
                  "bankml serve stopped. The rollouts and the weeks of monitoring below run "
                  "in this process, on the same stores (monitoring on a simulated clock).")
    return Decided(records, declined, replay, server)


def _show_outcomes(endpoint: str, records: list[DecisionRecord]) -> None:
    outcomes = Counter(record.outcome for record in records)
    console.print(f"POST /v1/endpoints/{endpoint}/decisions:batch   {len(records)} applications "
                  "decided, each logged durably (its batch's Merkle root on the audit trail) "
                  "with the endpoint and model versions, the artifact digest, the exact inputs "
                  f"and the caller, {APP}:")
    for outcome in CutoffPolicy.outcomes:
        share = outcomes[outcome] / len(records)
        console.print(f"  {outcome:<8} {outcomes[outcome]:>4}  {'#' * round(share * 40)}")


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
