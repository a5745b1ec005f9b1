"""The model card of a version, in Markdown and self-contained HTML, from the registry's data."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from markdown_it import MarkdownIt

from bankml.core.manifest import Manifest
from bankml.core.oversight import TransitionRequest, ValidationSignoff
from bankml.core.registry import Model, ModelVersion, StageChange
from bankml.core.validation import ValidationRun, ValidationTestResult

STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
         "padding:0 1rem;color:#222}table{border-collapse:collapse;margin:1rem 0}"
         "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
         "code{background:#f4f4f4;padding:0 .2rem}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CardEvidence:
    """What governance holds on a version: its validation runs, the sign-offs, the fairness
    tests of the run the sign-off in force rests on (else the latest), the requests and
    who approved them."""

    runs: tuple[ValidationRun, ...] = ()
    signoffs: tuple[ValidationSignoff, ...] = ()
    fairness_run: str | None = None
    fairness: tuple[ValidationTestResult, ...] = ()
    requests: tuple[TransitionRequest, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCard:
    """What a reader needs to judge one version: purpose, data, features, metrics, limits."""

    model: Model
    version: ModelVersion
    aliases: list[str]
    history: list[StageChange]
    evidence: CardEvidence = CardEvidence()

    def markdown(self) -> str:
        model, version = self.model, self.version
        sections = [
            f"# Model card: {version.ref}",
            _table(["", ""], [
                ["Model", model.name], ["Version", str(version.number)],
                ["Stage", str(version.stage)], ["Aliases", ", ".join(self.aliases) or "none"],
                ["Domain", str(model.domain)], ["Risk tier", str(model.risk_tier)],
                ["Owner", model.owner], ["Developer", model.developer],
                ["Registered", f"{version.created_at} by {version.created_by}"],
                ["Artifact sha256", f"`{version.artifact_sha256}` ({version.flavour})"],
                ["Tags", ", ".join(f"{k}={v}" for k, v in sorted(version.tags.items()))
                 or "none"]]),
            "## Purpose", model.intended_use or "_Not stated._",
            "## Limitations", model.limitations or "_Not stated._",
            "## Data", _data(version),
            "## Data checks", _data_checks(version.manifest),
            "## Features", _features(version),
            "## Metrics", _metrics(version.metrics),
            "## Decision policy", _policy(version.manifest),
            "## Validation runs", _runs(self.evidence),
            "## Sign-off", _signoffs(self.evidence),
            "## Fairness", _fairness(model, version, self.evidence),
            "## Approvals", _approvals(self.evidence),
            "## Reproducibility", _reproducibility(version),
            "## Lifecycle", _table(["when (UTC)", "from", "to", "by", "reason"], [
                [c.changed_at, str(c.source or "-"), str(c.target), c.actor, c.reason]
                for c in self.history if c.number == version.number]),
        ]
        return "\n\n".join(sections) + "\n"

    def html(self) -> str:
        # Raw HTML in descriptions is shown as text, never rendered: cards are shared.
        body = MarkdownIt("commonmark", {"html": False}).enable("table").render(
            self.markdown())
        title = html.escape(f"Model card: {self.version.ref}")
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{title}</title><style>{STYLE}</style></head>\n<body>\n{body}"
                "</body></html>\n")


def _data(version: ModelVersion) -> str:
    manifest = version.manifest
    lines = [
        f"- Source: {manifest.data_source.description if manifest else 'not recorded'}",
        f"- Training dataset sha256: `{version.dataset_sha256 or 'not recorded'}` "
        f"({manifest.dataset_rows if manifest else '?'} rows)",
        f"- Feature views: {', '.join(version.feature_views) or 'none (source columns)'}",
    ]
    if manifest is not None and manifest.test_from is not None \
            and manifest.holdout_share is not None:
        lines.append(f"- Split: out of time from {manifest.test_from} (test), holdout "
                     f"{manifest.holdout_share:.0%} of the earlier rows; "
                     + ", ".join(f"{name} {count:,}" for name, count in manifest.splits.items()))
    return "\n".join(lines)


def _data_checks(manifest: Manifest | None) -> str:
    quality = None if manifest is None else manifest.data_quality
    if quality is None:
        return "_Not recorded (trained before training checked its data)._"
    labels = ", ".join(f"{value}: {rows:,} rows" for value, rows in quality.label_counts.items())
    lines = [f"- Label values: {labels}",
             f"- {len(quality.checks)} checks of the inputs (identifiers, categories per "
             f"encoding, missing rates); {len(quality.warnings)} beyond their limits"]
    if not quality.warnings:
        return "\n".join(lines)
    return "\n".join(lines) + "\n\n" + _table(
        ["rule", "input", "finding", "on breach"],
        [[c.rule, c.column, c.detail, c.on_breach] for c in quality.warnings])


def _features(version: ModelVersion) -> str:
    rows = []
    for item in version.signature.inputs:
        if item.categories is not None:
            allowed = ", ".join(item.categories)
        elif item.minimum is not None or item.maximum is not None:
            allowed = f"{item.minimum:g} to {item.maximum:g}"
        else:
            allowed = "not recorded"
        rows.append([item.name, item.dtype, allowed])
    output = version.signature
    return (_table(["input", "dtype", "allowed values (seen in training)"], rows)
            + f"\n\nOutput: `{output.output}` ({output.output_dtype}).")


def _metrics(metrics: dict[str, float]) -> str:
    if not metrics:
        return "_None recorded._"
    return _table(["metric", "value"], [[name, f"{value:.4f}"]
                                        for name, value in sorted(metrics.items())])


def _policy(manifest: Manifest | None) -> str:
    policy = {} if manifest is None else manifest.decision_policy
    if not policy:
        return "_None recorded._"
    cutoffs = ", ".join(f"{k} {v}" for k, v in policy.items() if k != "kind" and v is not None)
    return f"{policy['kind']}: {cutoffs}"


def _runs(evidence: CardEvidence) -> str:
    if not evidence.runs:
        return "Not validated yet."
    return _table(["run", "when (UTC)", "by", "opinion", "green/amber/red", "fairness"], [
        [f"`{r.run_id}`", r.created_at,
         f"{r.created_by} (developer self-test)" if r.self_test else r.created_by,
         f"{int(r.opinion)} {r.opinion.label}", f"{r.greens}/{r.ambers}/{r.reds}",
         "passed" if r.fairness_passed else "failed"] for r in evidence.runs])


def _signoffs(evidence: CardEvidence) -> str:
    if not evidence.signoffs:
        return "No validator has signed off on this version."
    return _table(["when (UTC)", "validator", "conclusion", "fairness", "run", "summary"], [
        [s.recorded_at, s.validator, "passed" if s.passed else "failed",
         "passed" if s.fairness_passed else "failed",
         f"`{s.run_id}`" if s.run_id else "none", s.summary] for s in evidence.signoffs])


def _fairness(model: Model, version: ModelVersion, evidence: CardEvidence) -> str:
    attributes = ", ".join(model.protected_attributes) or "none declared"
    found = {k: v for k, v in version.metrics.items() if k.startswith("fairness.")}
    parts = [f"Protected attributes (for testing only, never inputs): {attributes}."]
    if evidence.fairness:
        parts.append(f"Fairness tests of validation run `{evidence.fairness_run}`:")
        parts.append(_table(["test", "population", "value", "verdict"], [
            [t.test, t.population, "n/a" if math.isnan(t.value) else f"{t.value:.4f}",
             str(t.verdict)] for t in evidence.fairness]))
    if found:
        parts.append(_table(["measure", "value"],
                            [[k, f"{v:.4f}"] for k, v in sorted(found.items())]))
    if not evidence.fairness and not found:
        parts.append("No fairness test is recorded for this version yet.")
    return "\n\n".join(parts)


def _approvals(evidence: CardEvidence) -> str:
    rows = [[f"#{r.request_id}", f"-> {r.target}", r.requested_by, str(r.status),
             "; ".join(f"{a.role}: {'approved' if a.approved else 'rejected'} by "
                       f"{a.approver} ({a.recorded_at})" for a in r.approvals) or "none"]
            for r in evidence.requests]
    if not rows:
        return "No transition has been requested."
    return _table(["request", "to", "requested by", "status", "approvals"], rows)


def _reproducibility(version: ModelVersion) -> str:
    manifest = version.manifest
    if manifest is None:
        return "_Registered by hand: no manifest to rebuild from._"
    code, environment = manifest.code, manifest.environment
    dependencies = ", ".join(f"{k} {v}" for k, v in sorted(environment.dependencies.items()))
    return "\n".join([
        f"- Spec sha256: `{manifest.spec_sha256}`",
        f"- Code: bankml {code.bankml}, commit {code.git_commit or 'unknown'}",
        f"- Dependencies: {dependencies}",
        f"- Seed {manifest.seed}, threads {manifest.threads}, "
        f"Python {environment.python} on {environment.system} {environment.machine}",
        f"- Rebuild: `bankml models reproduce {version.ref}`",
    ])


def _table(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "_None._"

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)
