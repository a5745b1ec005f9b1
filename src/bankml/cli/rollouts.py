"""`bankml deploy` and `bankml rollout`: roll a challenger out on an endpoint and operate it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.rollouts import Rollout, Strategy, choose_plan
from bankml.documents import load_yaml

if TYPE_CHECKING:  # the service loads pandas and the models: only when a command runs
    from bankml.rollouts import Evaluation

app = new_group("Rollouts: a challenger's shadow, canary and full steps, and its guardrails.")
Endpoint = Annotated[str, typer.Argument(help="The endpoint.")]
Comment = Annotated[str, typer.Option(help="Why (kept in the audit trail).")]
VERDICT = {"ok": "green", "breach": "red", "waiting": "dim"}


def deploy(
    endpoint: Endpoint,
    version: Annotated[str, typer.Argument(help="The challenger, NAME@VERSION (in staging).")],
    plan: Annotated[Path | None, typer.Option(help="A rollout plan (YAML).")] = None,
    strategy: Annotated[Strategy | None, typer.Option(
        help="A default plan instead: shadow, canary or full.")] = None,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Start rolling a challenger out by a plan or a strategy (ML engineers)."""
    data = None if plan is None else load_yaml(plan.read_text(encoding="utf-8"),
                                              source=str(plan))
    chosen = choose_plan(strategy, data)
    with open_platform(home) as platform:
        rollout = platform.rollouts.deploy(acting_user(platform, token), endpoint, version,
                                           plan=chosen)
    console.print(f"rollout #{rollout.rollout_id} on {endpoint}: {rollout.challenger_ref} "
                  f"against {rollout.champion_ref}, {len(chosen.steps)} step(s) then full")


@app.command("status")
def status(endpoint: Endpoint, home: HomeOption = None, token: TokenOption = None,
           as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False) -> None:
    """Steps and shares, guardrails against thresholds, decisions per route."""
    with open_platform(home) as platform:
        shown = platform.rollouts.status(acting_user(platform, token), endpoint)
    if as_json:
        console.print_json(json.dumps(shown.describe()))
        return
    _print(shown)


def _operation(verb: str, doc: str) -> None:
    def operate(endpoint: Endpoint, comment: Comment = "", home: HomeOption = None,
                token: TokenOption = None) -> None:
        with open_platform(home) as platform:
            done: Rollout = getattr(platform.rollouts, verb)(
                acting_user(platform, token), endpoint, comment=comment)
        console.print(f"rollout #{done.rollout_id} on {endpoint}: {done.status} "
                      f"(step {done.step}, champion {_champion(done)})")

    operate.__doc__ = doc
    app.command(verb)(operate)


def _champion(rollout: Rollout) -> str:
    return str(rollout.outcome.get("champion", rollout.champion_ref))


_operation("pause", "Hold the rollout at its step (ML engineers, model risk).")
_operation("resume", "Let a paused rollout go on.")
_operation("promote", "Make the challenger champion now (its gates must hold).")
_operation("rollback", "Send every decision back to the champion at once (ML engineers).")


def _print(shown: Evaluation) -> None:
    r = shown.rollout
    console.print(f"rollout #{r.rollout_id} on {r.endpoint}: [bold]{r.status}[/] — "
                  f"{r.challenger_ref} against {r.champion_ref}; next: {shown.move}")
    if shown.awaiting:
        console.print(f"Becomes champion once approved for prod: "
                      f"{', '.join(shown.awaiting)} (bankml governance approve).")
    steps = Table("step", "kind", "share %", "min decisions", "min duration s", "")
    for index, step in enumerate(r.plan.steps):
        here = "◀ now" if index == r.step and r.is_active else ""
        steps.add_row(str(index), str(step.kind), f"{step.share:g}", str(step.min_decisions),
                      f"{step.min_duration_s:g}", here)
    steps.add_row(str(len(r.plan.steps)), "full", "100", "", "",
                  "◀ now" if r.current is None and r.is_active else "")
    console.print(steps)
    guards = Table("guardrail", "value", "threshold", "n", "verdict")
    for result in shown.results:
        value = "n/a" if result.value is None else f"{result.value:.4g}"
        sign = "≤" if result.guardrail != "disparate_impact" else "≥"
        colour = VERDICT[str(result.verdict)]
        guards.add_row(str(result.guardrail), value, f"{sign} {result.threshold:g}",
                       str(result.n), f"[{colour}]{result.verdict}[/]")
    console.print(guards)
    routes = ", ".join(f"{route} {count}" for route, count in sorted(shown.routes.items()))
    console.print(f"this step: {shown.decisions} challenger decisions in "
                  f"{shown.elapsed_s:.0f} s; per route: {routes or 'none yet'}")
    _print_comparison(shown)
    if r.outcome:
        console.print(f"outcome: {json.dumps(r.outcome)}")


def _print_comparison(shown: Evaluation) -> None:
    """Both routes side by side, then the comparison on labels and its recommendation."""
    arms = shown.distributions
    side = Table("", "champion", "challenger")
    side.add_row("decisions", *(str(arms[a]["n"]) for a in ("champion", "challenger")))
    quantiles = arms["champion"].get("score_quantiles") or arms["challenger"].get(
        "score_quantiles") or {}
    rows = [("score mean", "score_mean", None), *((f"score {q}", "score_quantiles", q)
                                                  for q in quantiles)]
    for label, key, sub in rows:
        side.add_row(label, *(_shown(arms[a].get(key), sub) for a in ("champion", "challenger")))
    outcomes = sorted({o for a in arms.values() for o in a.get("decision_rates", {})})
    for outcome in outcomes:
        side.add_row(f"{outcome} rate", *(_shown(arms[a].get("decision_rates"), outcome)
                                          for a in ("champion", "challenger")))
    console.print(side)
    found = shown.comparison
    auc = found.get("auc_difference") or {}
    if auc.get("value") is not None:
        console.print(f"AUC difference (challenger - champion) {auc['value']:+.4f}, DeLong p "
                      f"{auc['p_value']:.3g}, n {auc['n']} (monitoring run {found['run_id']})")
    for kpi, delta in found.get("kpi_differences", {}).items():
        if delta["difference"] is not None:
            console.print(f"  {kpi}: {delta['difference']:+.4g} against champion "
                          f"{delta['champion']:.4g}")
    console.print(f"recommendation: [bold]{found['recommendation']}[/] ({found['reason']})")
    console.print(f"[dim]rule: {found['rule']}[/]")


def _shown(value: object, key: str | None) -> str:
    if isinstance(value, dict):
        value = value.get(key) if key is not None else None
    return f"{value:.4g}" if isinstance(value, int | float) else ""
