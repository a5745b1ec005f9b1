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
    from bankml.cli.demo_steps.catches import Catches
    from bankml.cli.demo_steps.use_cases import Served
    from bankml.core.registry import ModelVersion
    from bankml.core.validation import ValidationRun
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
    """Train, curate, validate, govern; champions and challengers for fraud, AML and
    propensity through their gates and served; decide, replay, explain, roll out,
    features, monitor, review the week, audit."""
    if portfolio:
        _portfolio(home, portfolio)
        return
    # The steps load pandas, scikit-learn and LightGBM: only when the demo runs.
    from bankml.cli.demo_steps import (  # noqa: PLC0415
        catches,
        credit,
        features,
        governance,
        monitoring,
        review,
        rollouts,
        use_cases,
        validation,
    )
    from bankml.cli.demo_steps.scale import scale_for  # noqa: PLC0415
    from bankml.datasets import german_credit, load_german_credit  # noqa: PLC0415

    started, scale = time.perf_counter(), scale_for(quick)
    caught = catches.Catches()
    with open_platform(home) as platform:
        console.rule("[bold]0. People: an admin adds the cast, a second admin confirms")
        people = governance.cast(platform, platform.settings.actor)
        console.rule("[bold]1. Data")
        data = load_german_credit(platform.settings.datasets)
        console.print(f"{data.description}: {len(data.frame):,} applicants, "
                      f"{data.frame[german_credit.TARGET].mean():.1%} defaulted.")
        console.rule("[bold]2. Train from a pipeline spec")
        version = credit.train(platform, people["dana"])
        credit.protected_input(platform, people["dana"], caught)
        console.rule("[bold]3. Registry: alias, model card, reproduce")
        card_path, rebuilt = credit.curate(platform, version, people)
        caught.caught(catches.REGISTRY, "3. registry",
                      f"{version.ref} is registered with its spec, data digest "
                      f"{version.dataset_sha256[:12]}... and artifact digest; only a registered "
                      "version in prod can be served, and every move is audited.")
        caught.caught(catches.NOTEBOOKS, "3. reproduce",
                      f"vera rebuilt {version.ref} from its manifest alone (spec, data digest, "
                      f"seed, package versions): {rebuilt}.")
        console.rule("[bold]4. Independent validation: the battery and its report")
        run, report_path = validation.validate(platform, version, people["vera"], scale)
        console.rule("[bold]5. Governance: sign-off on the run, four eyes, production")
        version = governance.promote(platform, version, people, run)
        console.rule("[bold]6. Card fraud, AML, propensity: champion and challenger each, "
                     "validated, through their tier's gates, served")
        others = use_cases.run_all(platform, people, scale, caught)
        console.rule("[bold]7. bankml serve decides on applicants over HTTP; the auditor "
                     "replays one")
        endpoint = credit.serve(platform, people)
        decided = credit.decide(platform, version, data, people, endpoint)
        console.rule("[bold]8. Why it was declined")
        credit.explain_decline(decided.declined)
        console.rule("[bold]9. Rollouts: shadow, canary, full; a bad challenger rolled back")
        rolled = rollouts.roll_out(platform, data, endpoint, people)
        caught.caught(catches.TICKETS, "9. rollout",
                      f"{rolled.promoted} went to champion on its plan's steps and "
                      f"guardrails, and {rolled.rolled_back} was rolled back by the controller "
                      f"on {rolled.breach.get('guardrail')} the round it breached: no ticket, "
                      "no hand-run deployment.")
        console.rule("[bold]10. Card features, the same offline and online")
        skew = features.card_features(platform, people["eli"], scale)
        caught.caught(catches.SKEW, "10. feature skew check",
                      "training and serving read one feature definition, and the skew check "
                      f"compared their values for the same cards: {skew} mismatches.")
        console.rule("[bold]11. Monitoring: weeks of traffic, drift, late outcomes, alerts")
        champion = platform.registry.get(rolled.promoted)
        watched = monitoring.watch(platform, champion, data, people, endpoint,
                                   scale)
        first_red = next((week for week, reds in enumerate(watched.reds_by_week, start=1)
                          if reds), None)
        caught.caught(catches.MONITORING, "11. monitoring alerts",
                      f"the weekly runs on live decisions turned red in week {first_red} on "
                      f"the drifted inputs and opened {len(watched.alerts)} alerts, before "
                      "any outcome was late.")
        console.rule("[bold]12. The weekly production model review")
        weekly = review.weekly(platform, people["mira"], endpoint)
        console.rule("[bold]13. The audit trail, verified by the auditor")
        report = _audit(platform, people["aude"])
        console.print(Panel.fit(
            f"Trained and registered [bold]{version.ref}[/] on {data.source} data "
            f"(out-of-time AUC {version.metrics['test.auc']:.3f}); rebuilt: {rebuilt}.\n"
            f"Validated independently (opinion {int(run.opinion)}: {run.opinion.label}) "
            f"and approved with four eyes: now {version.stage}.\n"
            f"Made {len(decided.records)} logged decisions over HTTP with bankml serve "
            f"(ready in {decided.server.startup_s:.1f} s) and replayed one: "
            f"{'identical' if decided.replay['identical'] else 'different'}.\n"
            f"Rolled out {rolled.promoted} through shadow and canary to champion; rolled "
            f"{rolled.rolled_back} back on {rolled.breach.get('guardrail')} "
            f"({rolled.breach.get('value', 0):.2f} > {rolled.breach.get('threshold')}).\n"
            f"Feature skew check: {skew} mismatches between offline and online.\n"
            f"Monitored {len(watched.reds_by_week)} weeks: red metrics per week "
            f"{watched.reds_by_week}, {len(watched.alerts)} alerts open.\n"
            f"Audit trail: {report.events_checked} events, "
            f"{'intact' if report.is_intact else 'broken'}.\n\n"
            + _use_cases(platform, champion, run, endpoint, others) + "\n"
            + _caught(caught) + "\n\n"
            f"Metadata:   {platform.metadata.describe()}\n"
            f"Artifacts:  {platform.settings.resolved_artifacts_uri}\n"
            f"Model card: {card_path}\n"
            f"Validation report: {report_path or f'bankml report validation {version.ref}'}\n"
            f"Weekly review: {weekly.path} (sha256 {weekly.sha256[:16]})\n"
            f"Web UI: bankml serve --home {platform.settings.home}, then "
            f"http://{platform.settings.serve_host}:{platform.settings.serve_port}/ui "
            f"(sign in with a person's token)\n"
            f"Look again: bankml audit log | bankml audit verify | bankml models list | "
            f"bankml inventory | bankml features list | "
            f"bankml decisions replay {decided.declined.decision_id}\n"
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


def _use_cases(platform: Platform, credit: ModelVersion, run: ValidationRun, endpoint: str,
               others: list[Served]) -> str:
    """The four use cases: champion and challenger, the champion's figure and validation
    opinion, and the endpoint it decides on."""
    latest = platform.registry.versions(credit.name)[-1]
    lines = ["Use cases (champion / challenger, out-of-time figure, opinion, endpoint):",
             f"  credit_pd   {credit.ref} / {latest.ref}, AUC "
             f"{credit.metrics['test.auc']:.3f}, opinion {int(run.opinion)}, {endpoint}"]
    for case in others:
        figure = (f"lift {case.champion.metrics[case.kpi]:.2f}" if "lift" in case.kpi
                  else f"AUC {case.champion.metrics[case.kpi]:.3f}")
        where = case.endpoint or f"not served ({case.champion.stage}: " \
                                 f"{', '.join(case.held_back)})"
        lines.append(f"  {case.folder:<11} {case.champion.ref} / {case.challenger.ref}, "
                     f"{figure}, opinion {int(case.run.opinion)}, {where}")
    return "\n".join(lines)


def _caught(caught: Catches) -> str:
    found = "; ".join(f"{mode} ({where})" for mode, where in caught.where.items())
    missed = caught.missed()
    return (f"Seed failure modes caught: {found}."
            + (f" Not shown this run: {', '.join(missed)}." if missed else ""))


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
