"""`bankml demo`: the end-to-end slice on German credit, narrated."""

from __future__ import annotations

import time
from collections import Counter
from importlib.resources import files
from pathlib import Path

from rich.panel import Panel
from rich.table import Table

from bankml.cli.app import console
from bankml.cli.context import HomeOption, open_platform
from bankml.core.decisions import CutoffPolicy, Outcome
from bankml.datasets import german_credit, load_german_credit
from bankml.serving.decisions import CUSTOMER_ID

SPEC = Path(str(files("bankml") / "examples" / "german_credit_pd.yaml"))
APPLICANTS = 100
POLICY = CutoffPolicy(version="demo-cutoffs-1", approve_below=0.15, decline_from=0.45)


def demo(home: HomeOption = None) -> None:
    """Train from a spec, register, promote, reproduce, decide, replay, audit: German credit."""
    started = time.perf_counter()
    with open_platform(home) as platform:
        actor = platform.settings.actor
        console.rule("[bold]1. Data")
        data = load_german_credit(platform.settings.datasets)
        console.print(f"{data.description}: {len(data.frame):,} applicants, "
                      f"{data.frame[german_credit.TARGET].mean():.1%} defaulted.")

        console.rule("[bold]2. Train from a pipeline spec")
        console.print(f"$ bankml train examples/{SPEC.name}")
        version = platform.training.train(SPEC, actor=actor)
        metrics = version.metrics
        console.print(f"Registered [bold]{version.ref}[/] ({version.stage}) from a declared "
                      f"spec: logistic regression on {len(version.inputs)} inputs (protected "
                      f"attributes {', '.join(german_credit.PROTECTED)} kept out). Out-of-time "
                      f"test AUC {metrics['test.auc']:.3f}, Gini {metrics['test.gini']:.3f}, "
                      f"KS {metrics['test.ks']:.3f}. Artifact sha256 "
                      f"{version.artifact_sha256[:16]}... at "
                      f"{platform.artifacts.location(version.artifact_sha256)}")

        console.rule("[bold]3. Registry: alias, stage, model card, reproduce")
        platform.registry.set_alias(version.name, "champion", version.number, actor=actor,
                                    reason="first version")
        staged = platform.registry.transition(f"{version.name}@champion", "staging",
                                              actor=actor, reason="ready for validation")
        card = platform.registry.card(staged.ref)
        card_path = platform.settings.home / "cards" / f"{staged.ref}.html"
        card_path.parent.mkdir(parents=True, exist_ok=True)
        card_path.write_text(card.html(), encoding="utf-8")
        reproduction = platform.training.reproduce(staged.ref)
        console.print(f"{version.name}@champion -> {staged.ref}, now {staged.stage}. Model "
                      f"card: {card_path}\n$ bankml models reproduce {staged.ref} -> "
                      f"{reproduction.verdict}")

        console.rule("[bold]4. Decide on applicants")
        recent = data.frame[data.frame[german_credit.DATE] >= "2024-07-01"]  # out-of-time rows
        applicants = recent.head(APPLICANTS).rename(columns={"row_id": CUSTOMER_ID})
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

        console.rule("[bold]6. The audit trail")
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
            f"(out-of-time AUC {metrics['test.auc']:.3f}); rebuilt: {reproduction.verdict}.\n"
            f"Made {len(records)} logged decisions and replayed one: "
            f"{'identical' if replay.is_identical else 'different'}.\n"
            f"Audit trail: {report.events_checked} events, "
            f"{'intact' if report.is_intact else 'broken'}.\n\n"
            f"Metadata:  {platform.metadata.describe()}\n"
            f"Artifacts: {platform.settings.resolved_artifacts_uri}\n"
            f"Look again: bankml audit log | bankml audit verify | bankml models list | "
            f"bankml models card {staged.ref} | "
            f"bankml decisions replay {declined.decision_id}\n"
            f"Done in {elapsed:.1f} s.",
            title="bankml demo: summary"))
