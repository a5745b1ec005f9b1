"""Demo step: card fraud, AML alerts and term-deposit propensity beside credit, each from
its example folder: a champion and a challenger trained from the example's specs,
validated independently, taken through the gates of its tier with four eyes (gates), its
endpoint applied and deciding on a few out-of-time cases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from rich.markup import escape

from bankml.cli.app import console
from bankml.cli.demo_steps import gates
from bankml.cli.demo_steps.applicants import request, within
from bankml.cli.demo_steps.catches import BIAS, Catches
from bankml.cli.demo_steps.scale import Scale
from bankml.core.identity import Principal
from bankml.core.oversight import Severity
from bankml.core.registry import ModelVersion
from bankml.core.validation import ValidationResult, ValidationRun, Verdict
from bankml.datasets import aml_reviews, load_example, synthesize_aml, synthesize_bank_marketing
from bankml.documents import load_yaml
from bankml.platform import Platform
from bankml.serving.endpoint_files import load_endpoint
from bankml.training.spec import load_spec
from bankml.validation.policy import DEFAULTS

EXAMPLES = Path(str(files("bankml") / "examples"))
FINDING_DAYS = 90  # the developers' time to answer a red fairness test
QUICK_ACCOUNTS, QUICK_CONTACTS = 1_000, 5_000  # --quick's AML world and campaign
# --quick's validation parameters (the shipped policies draw 1000 samples and 500 rows)
QUICK_PARAMETERS = {"bootstrap_samples": 200, "soundness_rows": 100, "explain_rows": 100}


@dataclass(frozen=True, slots=True, kw_only=True)
class UseCase:
    folder: str  # under examples/
    champion: str  # pipeline spec files in the folder
    challenger: str
    key_column: str  # the data's column that stands for the endpoint's entity key
    kpi: str  # the out-of-time metric the summary shows
    # --quick's smaller synthetic twin of the example's dataset (None: it is small already)
    quick_data: Callable[[], pd.DataFrame] | None = None

    def path(self, name: str) -> Path:
        return EXAMPLES / self.folder / name


# The card-fraud sample has no card id: each payment's id stands for its card.
USE_CASES = (
    UseCase(folder="fraud", champion="payment_model.yaml",
            challenger="challenger_logistic.yaml", key_column="transaction_id",
            kpi="test.auc"),
    UseCase(folder="aml", champion="alert_model.yaml", challenger="challenger_logistic.yaml",
            key_column="account_id", kpi="test.auc",
            quick_data=lambda: aml_reviews(synthesize_aml(QUICK_ACCOUNTS))),
    UseCase(folder="propensity", champion="take_up_model.yaml",
            challenger="challenger_logistic.yaml", key_column="client_id",
            kpi="test.top_decile_lift",
            quick_data=lambda: synthesize_bank_marketing(QUICK_CONTACTS)),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Served:
    """One use case after the step: its champion and challenger, how far each went."""

    folder: str
    champion: ModelVersion
    challenger: ModelVersion
    run: ValidationRun  # the champion's validation
    kpi: str
    held_back: tuple[str, ...]  # the champion's prod gates that did not hold
    endpoint: str | None  # applied and deciding, when the champion is in prod
    decisions: int


def run_all(platform: Platform, people: dict[str, Principal], scale: Scale,
            catches: Catches) -> list[Served]:
    return [_use_case(platform, people, case, scale, catches) for case in USE_CASES]


def _use_case(platform: Platform, people: dict[str, Principal], case: UseCase, scale: Scale,
              catches: Catches) -> Served:
    """The champion through the gates first (a newer version would supersede its open
    requests), then the challenger, validated against it."""
    console.print(f"[bold]{case.folder}[/]")
    policy = _policy(platform, case, scale)
    specs, frame = _sources(platform, case, scale)
    champion, run, result = _trained(platform, people, case, specs[0], policy=policy)
    model = platform.registry.model(champion.name)
    _fairness(platform, people, champion, result, catches)
    signed = gates.sign_off(platform, people, champion, run, reason="ready for validation")
    gated = gates.to_prod(platform, people, champion, reason=f"first {case.folder} champion")
    if gated.held_back:
        console.print(f"  tier {model.risk_tier}: vera {_signed(signed)}; {champion.ref} stays "
                      f"in {gated.version.stage}, the prod gates {', '.join(gated.held_back)} "
                      "do not hold: [red]not served[/]")
    else:
        approvers = ", ".join(sorted({a.approver for r in platform.oversight.requests(
            people["mira"], model=champion.name) for a in r.approvals}))
        console.print(f"  tier {model.risk_tier}: vera {_signed(signed)}; dana requests prod, "
                      f"approved by {approvers} (four eyes): [green]{champion.ref} in prod[/], "
                      f"{champion.name}@champion")
    challenger, against, _ = _trained(platform, people, case, specs[1],
                                      against=champion.ref, policy=policy)
    gates.sign_off(platform, people, challenger, against, reason="challenger")
    if gated.held_back:
        return Served(folder=case.folder, champion=gated.version, challenger=challenger,
                      run=run, kpi=case.kpi, held_back=gated.held_back, endpoint=None,
                      decisions=0)
    endpoint, decided = _serve(platform, people, case, gated.version, frame, scale)
    return Served(folder=case.folder, champion=gated.version, challenger=challenger, run=run,
                  kpi=case.kpi, held_back=(), endpoint=endpoint, decisions=decided)


def _trained(platform: Platform, people: dict[str, Principal], case: UseCase, path: Path, *,
             against: str | None = None, policy: Path | None = None
             ) -> tuple[ModelVersion, ValidationRun, ValidationResult]:
    """Trained by the developer from the example's spec, validated by the validator; the
    run's result is read once, for what is shown here and for the fairness check."""
    version = platform.training.train(people["dana"], path)
    run = platform.validation.run(people["vera"], version.ref, against=against,
                                  policy=policy)
    result = platform.validation.result(run)
    kind = load_spec(path).spec.estimator.kind
    shown = (f"examples/{case.folder}/{path.name}" if path.parent == EXAMPLES / case.folder
             else f"{path.relative_to(platform.settings.home)} (--quick: the example's spec "
                  "on a smaller twin)")
    console.print(f"  $ bankml train {shown}   # as dana -> "
                  f"{version.ref} ({kind}), {_figures(version)}\n"
                  f"  $ bankml validate {version.ref}"
                  f"{f' --against {against}' if against else ''}"
                  f"{f' --policy {policy.name}' if policy else ''}   # as vera -> opinion "
                  f"{int(run.opinion)} ({run.opinion.label}); red: "
                  f"{', '.join(_reds(result)) or 'none'}")
    return version, run, result


def _sources(platform: Platform, case: UseCase, scale: Scale
             ) -> tuple[tuple[Path, Path], pd.DataFrame]:
    """The champion's and the challenger's specs and the rows they train on: the example's
    as shipped, or with --quick its specs reading a smaller twin written under the home."""
    shipped = case.path(case.champion), case.path(case.challenger)
    dataset = str(load_spec(shipped[0]).spec.source.dataset)
    if not scale.quick or case.quick_data is None:
        return shipped, load_example(dataset, platform.settings.datasets).frame
    folder = platform.settings.home / "demo" / case.folder
    folder.mkdir(parents=True, exist_ok=True)
    frame = case.quick_data()
    data = folder / f"{dataset}-quick.parquet"
    frame.to_parquet(data)
    specs = []
    for path in shipped:
        spec: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"), source=str(path))
        spec["source"] = {"path": str(data),
                          **{k: v for k, v in spec["source"].items() if k != "dataset"}}
        specs.append(folder / path.name)
        specs[-1].write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return (specs[0], specs[1]), frame


def _policy(platform: Platform, case: UseCase, scale: Scale) -> Path | None:
    """None (the domain's shipped policy), or with --quick a copy of it that draws fewer
    rows for the soundness and explanation tests and fewer bootstrap samples: the same
    thresholds on less data, under its own name in the run's record."""
    if not scale.quick:
        return None
    domain = load_spec(case.path(case.champion)).spec.model.domain
    path = platform.settings.home / "demo" / f"validation-{domain}-quick.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(quick_policy(DEFAULTS / f"{domain}.yaml"),
                                   sort_keys=False), encoding="utf-8")
    return path


def quick_policy(shipped: Path) -> dict[str, Any]:
    """The policy file `shipped` with --quick's parameters, named `<its name>-quick`.
    Raises KeyError when the file lacks one of them: its shape changed, and --quick must
    say so rather than guess."""
    policy: dict[str, Any] = load_yaml(shipped.read_text(encoding="utf-8"), source=str(shipped))
    for key in ("policy", "parameters"):
        if key not in policy:
            raise KeyError(f"{shipped} has no `{key}` for --quick to change")
    for name, value in QUICK_PARAMETERS.items():
        if name not in policy["parameters"]:
            raise KeyError(f"{shipped} has no parameters.{name} for --quick to set")
        policy["parameters"][name] = value
    policy["policy"] = f"{policy['policy']}-quick"
    return policy


def _serve(platform: Platform, people: dict[str, Principal], case: UseCase,
           champion: ModelVersion, frame: pd.DataFrame, scale: Scale) -> tuple[str, int]:
    """The example's endpoint applied by the ML engineer, deciding on out-of-time cases."""
    path = case.path("endpoint.yaml")
    applied = platform.endpoints.apply(people["eli"], path)
    endpoint = applied.version.endpoint
    cases = _cases(case, champion, frame, scale.cases)
    records = platform.decisions.decide(people["eli"], endpoint.name, cases)
    outcomes = Counter(str(r.outcome) for r in records)
    console.print(f"  $ bankml endpoints apply examples/{case.folder}/{path.name}   # as eli: "
                  f"{applied.version.ref} decides with {endpoint.model}@champion; "
                  f"{len(records)} out-of-time cases decided and logged: "
                  + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())))
    return endpoint.name, len(records)


def _cases(case: UseCase, champion: ModelVersion, frame: pd.DataFrame,
           count: int) -> list[dict[str, Any]]:
    """`count` requests from the example's out-of-time rows, as its channel sends them."""
    spec = load_spec(case.path(case.champion)).spec
    split = spec.split.out_of_time
    if split is not None:
        moment = pd.Timestamp(split.test_from, tz="UTC")
        dates = pd.to_datetime(frame[split.date_column or spec.source.event_timestamp],
                               utc=True)
        frame = frame[dates >= moment]
    endpoint = load_endpoint(case.path("endpoint.yaml"))
    [key] = endpoint.entity
    found = []
    for row in frame.to_dict(orient="records"):
        made = request(row, champion, entity={key: str(row[case.key_column])},
                       attributes=endpoint.monitoring_attributes)
        if within(made, champion):
            found.append(made)
        if len(found) == count:
            break
    return found


def _fairness(platform: Platform, people: dict[str, Principal], version: ModelVersion,
              result: ValidationResult, catches: Catches) -> None:
    """A red fairness test is named, and the validator raises a finding on it."""
    red = [t for t in result.tests
           if t.test.startswith("fairness.") and t.verdict == Verdict.RED]
    if not red:
        return
    # the furthest from fair: the lowest ratio where higher is better, else the highest
    worst = min(red, key=lambda t: t.value if t.threshold.better == "higher" else -t.value)
    finding = platform.oversight.raise_finding(
        people["vera"], version.ref, severity=Severity.MEDIUM,
        title=f"{worst.test} red ({worst.value:.2f}) on the out-of-time sample",
        owner="dana", due=datetime.now(UTC).date() + timedelta(days=FINDING_DAYS))
    catches.caught(BIAS, f"validation of {version.name}",
                   f"{version.ref}'s {escape(worst.test)} is {worst.value:.2f} against the "
                   f"threshold {worst.threshold.green:g} ({worst.threshold.source}); "
                   f"{len(red)} fairness test{'s' if len(red) > 1 else ''} red; vera raises "
                   f"finding #{finding.finding_id} for dana.")


def _figures(version: ModelVersion) -> str:
    metrics = version.metrics
    shown = [f"out-of-time AUC {metrics['test.auc']:.3f}"]
    if "test.top_decile_lift" in metrics:
        shown.append(f"top-decile lift {metrics['test.top_decile_lift']:.2f}")
    return ", ".join(shown)


def _reds(result: ValidationResult) -> list[str]:
    """The red tests by name, each once, with how many of its groups or cells were red."""
    found = Counter(t.test for t in result.tests
                    if t.verdict == Verdict.RED)
    return [escape(test if count == 1 else f"{test} x{count}")
            for test, count in found.items()]


def _signed(passed: bool) -> str:
    return "signs off" if passed else "records it as not passed"
