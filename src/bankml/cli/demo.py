"""`bankml demo`: the operating loop on embedded defaults, one narrated step per capability."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from bankml.cli.app import console
from bankml.cli.context import HomeOption, open_platform
from bankml.core.audit import ChainReport
from bankml.core.identity import Principal

if TYPE_CHECKING:
    from bankml.platform import Platform


def demo(
    home: HomeOption = None,
    quick: Annotated[bool, typer.Option(
        "--quick", help="Every step on less data and fewer weeks, without the report "
        "files (under a minute).")] = False,
    portfolio: Annotated[int, typer.Option(
        "--portfolio", min=0, help="Instead: a portfolio of N segment endpoints, trained, "
        "validated, approved, in one `bankml serve`, monitored over weeks.")] = 0,
) -> None:
    """Train, curate, validate, govern, decide, replay, explain, roll out, features,
    monitor, review the week, audit."""
    if portfolio:
        _portfolio(home, portfolio)
        return
    # The steps load pandas, scikit-learn and LightGBM: only when the demo runs.
    from bankml.cli.demo_steps import (  # noqa: PLC0415
        credit,
        features,
        governance,
        monitoring,
        review,
        rollouts,
        validation,
    )
    from bankml.cli.demo_steps.scale import scale_for  # noqa: PLC0415
    from bankml.datasets import german_credit, load_german_credit  # noqa: PLC0415

    started, scale = time.perf_counter(), scale_for(quick)
    with open_platform(home) as platform:
        console.rule("[bold]0. People: an admin adds the cast, a second admin confirms")
        people = governance.cast(platform, platform.settings.actor)
        console.rule("[bold]1. Data")
        data = load_german_credit(platform.settings.datasets)
        console.print(f"{data.description}: {len(data.frame):,} applicants, "
                      f"{data.frame[german_credit.TARGET].mean():.1%} defaulted.")
        console.rule("[bold]2. Train from a pipeline spec")
        version = credit.train(platform, people["dana"])
        console.rule("[bold]3. Registry: alias, model card, reproduce")
        card_path, rebuilt = credit.curate(platform, version, people)
        console.rule("[bold]4. Independent validation: the battery and its report")
        run, report_path = validation.validate(platform, version, people["vera"], scale)
        console.rule("[bold]5. Governance: sign-off on the run, four eyes, production")
        version = governance.promote(platform, version, people, run)
        console.rule("[bold]6. An endpoint decides on applicants; one decision replayed")
        endpoint = credit.serve(platform, people)
        decided = credit.decide(platform, version, data, people, endpoint)
        console.rule("[bold]7. Why it was declined")
        credit.explain_decline(decided.declined)
        console.rule("[bold]8. Rollouts: shadow, canary, full; a bad challenger rolled back")
        rolled = rollouts.roll_out(platform, data, endpoint, people)
        console.rule("[bold]9. Card features, the same offline and online")
        skew = features.card_features(platform, people["eli"], scale)
        console.rule("[bold]10. Monitoring: weeks of traffic, drift, late outcomes, alerts")
        champion = platform.registry.get(rolled.promoted)
        watched = monitoring.watch(platform, champion, data, people, endpoint,
                                   scale)
        console.rule("[bold]11. The weekly production model review")
        weekly = review.weekly(platform, people["mira"], endpoint)
        console.rule("[bold]12. The audit trail, verified by the auditor")
        report = _audit(platform, people["aude"])
        console.print(Panel.fit(
            f"Trained and registered [bold]{version.ref}[/] on {data.source} data "
            f"(out-of-time AUC {version.metrics['test.auc']:.3f}); rebuilt: {rebuilt}.\n"
            f"Validated independently (opinion {int(run.opinion)}: {run.opinion.label}) "
            f"and approved with four eyes: now {version.stage}.\n"
            f"Made {len(decided.records)} logged decisions and replayed one: "
            f"{'identical' if decided.replay.is_identical else 'different'}.\n"
            f"Rolled out {rolled.promoted} through shadow and canary to champion; rolled "
            f"{rolled.rolled_back} back on {rolled.breach.get('guardrail')} "
            f"({rolled.breach.get('value', 0):.2f} > {rolled.breach.get('threshold')}).\n"
            f"Feature skew check: {skew} mismatches between offline and online.\n"
            f"Monitored {len(watched.reds_by_week)} weeks: red metrics per week "
            f"{watched.reds_by_week}, {len(watched.alerts)} alerts open.\n"
            f"Audit trail: {report.events_checked} events, "
            f"{'intact' if report.is_intact else 'broken'}.\n\n"
            f"Metadata:   {platform.metadata.describe()}\n"
            f"Artifacts:  {platform.settings.resolved_artifacts_uri}\n"
            f"Model card: {card_path}\n"
            f"Validation report: {report_path or f'bankml report validation {version.ref}'}\n"
            f"Weekly review: {weekly.path} (sha256 {weekly.sha256[:16]})\n"
            f"Look again: bankml audit log | bankml audit verify | bankml models list | "
            f"bankml features list | bankml decisions replay {decided.declined.decision_id}\n"
            f"Done in {time.perf_counter() - started:.1f} s"
            f"{' (--quick: less data, fewer weeks)' if quick else ''}.",
            title="bankml demo: summary"))


def _portfolio(home: HomeOption, count: int) -> None:
    from bankml.cli.demo_steps import governance, portfolio  # noqa: PLC0415

    started = time.perf_counter()
    with open_platform(home) as platform:
        console.rule("[bold]0. People: an admin adds the cast, a second admin confirms")
        people = governance.cast(platform, platform.settings.actor)
        found = portfolio.run(platform, people, count)
        served, last = found.served, found.weeks[-1] if found.weeks else None
        console.print(Panel.fit(
            f"{len(found.endpoints)} segment endpoints, each on its own validated and "
            f"approved model, in prod"
            + (f"; {len(found.refused)} not signed off" if found.refused else "") + ".\n"
            + (f"One bankml serve with all of them: ready in {served.startup_s:.1f} s, "
               f"{served.rss_loaded_mib:.0f} MiB resident with every endpoint loaded; "
               f"{served.decided} decisions over HTTP.\n" if served else "")
            + (f"{len(found.weeks)} simulated weeks: {sum(w.decisions for w in found.weeks):,} "
               f"decisions; the last weekly monitoring run measured {last.runs} endpoints in "
               f"{last.monitoring_s:.1f} s ({last.reds} red metrics).\n" if last else "")
            + f"\nLook again: bankml inventory | bankml alerts list | bankml serve\n"
            f"Done in {time.perf_counter() - started:.1f} s.",
            title=f"bankml demo --portfolio {count}: summary"))


def _audit(platform: Platform, auditor: Principal) -> ChainReport:
    report = platform.audit.verify(auditor)
    table = Table(show_header=True)
    for column in ("#", "actor", "action", "subject", "hash"):
        table.add_column(column)
    for event in reversed(platform.audit.events(auditor, limit=6, newest_first=True)):
        table.add_row(str(event.sequence), event.actor, event.action, event.subject,
                      event.hash[:12])
    console.print(table)
    state = "[green]intact[/]" if report.is_intact else "[red]BROKEN[/]"
    console.print(f"Chain of {report.events_checked} events re-computed: {state}.")
    return report
