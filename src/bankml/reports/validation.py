"""The validation report: a stored run laid out in sections, rendered as HTML and PDF.

`sections(result, findings, evidence)` turns a run's stored result, the governance
findings and the sign-offs into titled blocks of text, tables and charts (regulatory.md
G-18..G-24); `to_html` and `to_pdf` render the same blocks, so both files always say the
same thing.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from bankml.core.canonical import JsonValue
from bankml.core.oversight import Finding, ValidationSignoff
from bankml.core.validation import (
    HOLDOUT_RANDOM,
    AlertFairness,
    PopulationDetails,
    Scope,
    ValidationResult,
    ValidationTestResult,
    Verdict,
)
from bankml.reports import charts

VERDICT_COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A table (header + rows) with an optional column holding verdicts to colour."""

    header: tuple[str, ...]
    rows: Sequence[Sequence[str]]
    verdict_column: int | None = None
    caption: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[Block] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)  # names in charts.CHARTS


@dataclass(frozen=True, slots=True, kw_only=True)
class Governance:
    """What governance holds about the run: who ran it, and who concluded what on it."""

    self_test: bool = False  # run by the model's developer: not independent validation
    signoffs: Sequence[ValidationSignoff] = ()  # of the run's version, oldest first


def sections(result: ValidationResult, findings: Sequence[Finding],
             evidence: Governance | None = None) -> list[Section]:
    """The report's contents, in order, from a stored run, its findings and sign-offs."""
    details, evidence = result.out_of_time, evidence or Governance()
    return [_summary(result, evidence), _scope(result.scope), _tests(result.tests),
            _discrimination(details), _stability(details, _rows(result.scope)),
            _fairness(details), _explanations(details, _rows(result.scope)),
            _soundness(details), _comparison(result, details),
            _signoffs(result, evidence), _findings(findings), _reproduce(result)]


def _num(value: object, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else \
            f"{value:.{digits}f}"
    return str(value)


def _summary(result: ValidationResult, evidence: Governance) -> Section:
    card, opinion, policy, tests = result.model_card, result.opinion, result.policy, \
        result.tests
    counts = result.verdict_counts()
    worst = [t for t in tests if t.verdict == Verdict.RED] or \
        [t for t in tests if t.verdict == Verdict.AMBER]
    text = [
        f"<b>Overall opinion: {int(opinion)} - {html.escape(opinion.label)}</b> "
        f"(ECB four-level scale; roll-up rule: {html.escape(str(policy.opinion_tag))}, "
        f"{html.escape(policy.opinion_source)}).",
        f"Model {html.escape(result.model)} ({html.escape(str(result.domain))}, tier "
        f"{card.risk_tier}), owner {html.escape(card.owner)}, developer "
        f"{html.escape(card.developer)}. Purpose: {html.escape(card.intended_use)}",
        f"Limitations: {html.escape(card.limitations or 'none stated')}",
        f"{len(tests)} tests: {counts[Verdict.GREEN]} green, {counts[Verdict.AMBER]} amber, "
        f"{counts[Verdict.RED]} red. Fairness: "
        f"{'passed' if result.fairness_passed else 'failed'} (no red fairness test). Policy "
        f"{html.escape(policy.policy_id)} {html.escape(policy.version)}.",
        _who_ran(result, evidence),
    ]
    rows = [(t.test, t.population, _num(t.value), _num(t.p_value), str(t.verdict))
            for t in worst[:8]]
    tables = [Block(header=("test", "population", "statistic", "p-value", "verdict"),
                    rows=rows, verdict_column=4,
                    caption="Tests that drive the opinion" if rows else "")] if rows else []
    return Section(title="1. Executive summary", text=text, tables=tables)


def _is_random(scope: Scope) -> bool:
    # results stored before the test rows were named (layouts 1, 2) say so in test_from
    return scope.test_population == HOLDOUT_RANDOM or scope.test_from.startswith("random")


def _rows(scope: Scope) -> str:
    """What the report calls the test rows."""
    return "random holdout" if _is_random(scope) else "out-of-time"


def _scope(scope: Scope) -> Section:
    rows = [(name, " to ".join(part.period) if part.period else part.path or "",
             _num(part.rows), _num(part.events), f"{part.event_rate:.2%}")
            for name, part in scope.populations()]
    if _is_random(scope):
        first = (f"Test rows: a {scope.test_from}, not out of time. This is weaker evidence "
                 "than an out-of-time test: test and training rows come from the same "
                 "period, so drift and stability over time are not tested. Rebuilt from the "
                 "dataset snapshot training stored (no retraining); scored with the "
                 "registered artifact.")
    else:
        first = (f"Out-of-time rows: application dates on or after {scope.test_from}, "
                 "rebuilt from the dataset snapshot training stored (no retraining); scored "
                 "with the registered artifact.")
    text = [first,
            f"Dataset sha256 {scope.dataset_sha256}; snapshot sha256 "
            f"{scope.snapshot_sha256}.",
            "Protected attributes (read from the data, never model inputs): "
            f"{', '.join(scope.protected_attributes) or 'none declared'}. Decision "
            f"cut-offs: {_cutoffs(scope.decision_cutoffs)}."]
    return Section(title="2. Scope and data", text=text, tables=[Block(
        header=("population", "period", "rows", "events", "event rate"), rows=rows)])


def _cutoffs(cutoffs: Mapping[str, float]) -> str:
    """`approve_below 0.15` as a reader says it: approve below 0.15."""
    return ", ".join(f"{name.replace('_', ' ')} {value:g}"
                     for name, value in cutoffs.items()) or "none"


BAND = re.compile(r"^(?:<(?P<below>-?[\d.]+)|(?P<low>-?[\d.]+)-[\d.]+|>=(?P<from>-?[\d.]+))$")


def _group_order(group: str) -> tuple[tuple[int, float, str], ...]:
    """A group (`age=25-35 & sex=male`) ordered by value: bands by their lower edge
    (`<25` first), other values as text."""
    keys = []
    for part in group.split(" & "):
        value = part.partition("=")[2]
        band = BAND.match(value)
        if band is None:
            keys.append((1, 0.0, value))
        else:
            edge = band["low"] or band["from"]
            keys.append((0, -math.inf if edge is None else float(edge), value))
    return tuple(keys)


def _tests(tests: Sequence[ValidationTestResult]) -> Section:
    rows = [(t.test, t.population, _num(t.value), _num(t.p_value),
             f"{t.threshold.statistic} {t.threshold.describe()}", str(t.threshold.tag),
             str(t.verdict), t.detail) for t in tests]
    sources = sorted({(t.test.split("[")[0], str(t.threshold.tag), t.threshold.source)
                      for t in tests})
    return Section(title="3. Tests performed", text=[
        "Each verdict applies the policy's threshold to the statistic named; tags say where "
        "a threshold comes from (regulation, supervisory, industry, bank_policy)."],
        tables=[Block(header=("test", "population", "statistic", "p-value", "threshold",
                              "tag", "verdict", "detail"), rows=rows, verdict_column=6),
                Block(header=("test", "tag", "source"), rows=list(sources),
                      caption="Threshold sources")])


def _discrimination(details: PopulationDetails) -> Section:
    tables = []
    grades = _entries(details, "grades")
    if grades:
        tables.append(Block(
            header=("grade", "PD", "N", "defaults", "default rate", "Jeffreys p"),
            rows=[(str(g["grade"]), _num(g["pd"]), _num(g["n"]), _num(g["defaults"]),
                   _num(g["default_rate"]), _num(g["p_value"])) for g in grades],
            caption="Jeffreys test per master-scale grade and for the portfolio (ECB PD-05)"))
    return Section(title="4. Discrimination and calibration", tables=tables,
                   charts=["roc_cap", "calibration"])


def _stability(details: PopulationDetails, rows_name: str) -> Section:
    csi = sorted(_entries(details, "csi"), key=lambda c: -float(c["value"] or 0.0))
    rows = [(str(c["feature"]), _num(c["value"]), str(c["shift"])) for c in csi]
    return Section(title="5. Stability", charts=["scores"], tables=[Block(
        header=("input", "CSI", "shift"), rows=rows,
        caption=f"Characteristic stability, training vs {rows_name} rows")])


def _fairness(details: PopulationDetails) -> Section:
    tables = []
    for table in details.fairness:
        if isinstance(table, AlertFairness):
            tables.append(Block(
                header=("group", "n", "small", "alert rate", "ratio", "precision", "ratio"),
                rows=[(g.group, _num(g.n), _num(g.is_small), _num(g.alert_rate),
                       _num(g.alert_rate_ratio), _num(g.precision), _num(g.precision_ratio))
                      for g in sorted(table.groups, key=lambda g: _group_order(g.group))],
                caption=f"{table.attribute}: alert parity"))
            continue
        tables.append(Block(
            header=("group", "n", "small", "selection rate", "AIR [95% CI]", "SPD",
                    "EOD [95% CI]", "AOD", "p (z)"),
            rows=[(g.group, _num(g.n), _num(g.is_small), _num(g.selection_rate),
                   _num(g.impact_ratio) + _ci(g.impact_ratio_low, g.impact_ratio_high),
                   _num(g.statistical_parity_difference),
                   _num(g.equal_opportunity_difference) + _ci(
                       g.equal_opportunity_difference_low, g.equal_opportunity_difference_high),
                   _num(g.average_odds_difference), _num(g.p_value))
                  for g in sorted(table.groups, key=lambda g: _group_order(g.group))],
            caption=f"{table.attribute}: reference {table.reference} ({table.reference_rule}); "
            f"min/max ratio {_num(table.min_max_ratio)}"))
        if table.calibration:
            tables.append(Block(
                header=("group", "n", "mean PD", "default rate", "difference", "Jeffreys p"),
                rows=[(c.group, _num(c.n), _num(c.mean_pd), _num(c.default_rate),
                       _num(c.difference), _num(c.jeffreys_p_value))
                      for c in sorted(table.calibration, key=lambda c: _group_order(c.group))],
                caption=f"{table.attribute}: calibration by group (PD-32)"))
    declared = _part(details, "declarations")
    sources = declared.get("sources")
    read = ", ".join(f"{k} from the {v}" for k, v in sorted(sources.items())) \
        if isinstance(sources, dict) and sources else ""
    notes = [f"Declared: {html.escape(read)}."] if read else []
    notes += [f"Warning: {html.escape(str(w))}." for w in _list(declared.get("warnings"))]
    return Section(title="6. Fairness", text=[
        "Favourable decision: not declined (credit) / selected (propensity); alerts are "
        "adverse (fraud, AML). AIR = selection rate / reference group's; four-fifths flag "
        "below 0.8. Intervals: seeded bootstrap of the group cells. Small groups (below the "
        "policy's minimum size) are shown, not compared.", *notes], tables=tables,
        charts=["fairness"])


def _ci(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f" [{low:.3f}, {high:.3f}]"


def _explanations(details: PopulationDetails, rows_name: str) -> Section:
    explanations = _part(details, "explanations")
    if not explanations:  # a fresh sample's battery, or a run stored before explanations
        return Section(title="7. Explanations", text=["Not computed for this population."])
    if "error" in explanations:
        return Section(title="7. Explanations", text=[
            "Finding: the model cannot be explained by its inputs, so neither global "
            "importance nor decline reasons can be given. "
            f"{html.escape(str(explanations['error']))}"])
    importance = [i for i in _list(explanations.get("importance")) if isinstance(i, dict)]
    return Section(title="7. Explanations", text=[
        f"Method {explanations['method']} ({explanations['explainer_version']}), output in "
        f"{explanations['space']}, {explanations['rows']} {rows_name} rows, background "
        f"sha256 {str(explanations['background_sha256'])[:16]}, seed {explanations['seed']}."],
        charts=["importance"], tables=[Block(
            header=("rank", "input", "mean |SHAP|"),
            rows=[(str(i["rank"]), str(i["feature"]), _num(i["mean_abs_contribution"]))
                  for i in importance])])


def _soundness(details: PopulationDetails) -> Section:
    tables = []
    sensitivity = _entries(details, "sensitivity")
    if sensitivity:
        tables.append(Block(header=("input", "mean change -delta", "mean change +delta",
                                    "largest change"),
                            rows=[(str(s["feature"]), _num(s["mean_change_down"]),
                                   _num(s["mean_change_up"]), _num(s["max_abs_change"]))
                                  for s in sensitivity],
                            caption="Sensitivity of the score to each input and jointly"))
    monotonicity = _entries(details, "monotonicity")
    if monotonicity:
        tables.append(Block(header=("input", "direction", "rows", "violating", "worst step"),
                            rows=[(str(m["feature"]), f"{m['direction']:+d}",
                                   _num(m["rows_checked"]), _num(m["violating_rows"]),
                                   _num(m["worst_violation"]))
                                  for m in monotonicity],
                            caption="Monotonicity along each declared direction"))
    extremes = _entries(details, "extreme_values")
    text = [f"Extreme-value grid: {len(extremes)} points, "
            f"{sum(not e['is_valid'] for e in extremes)} outside [0, 1]."] if extremes else []
    return Section(title="8. Conceptual soundness: sensitivity", text=text, tables=tables)


def _comparison(result: ValidationResult, details: PopulationDetails) -> Section:
    text, tables = [], []
    comparison = details.comparison
    if comparison is not None:
        text.append(f"Against {comparison.against} on the same {_rows(result.scope)} rows "
                    "(DeLong): "
                    f"AUC {_num(comparison.auc_a)} vs {_num(comparison.auc_b)}, difference "
                    f"{_signed(comparison.difference)}, z {_num(comparison.z, 3)}, two-sided "
                    f"p {_num(comparison.p_value)}, correlation "
                    f"{_num(comparison.correlation, 3)}.")
    else:
        text.append("No champion or --against version to compare with.")
    previous = result.previous
    if previous is not None:
        text.append(f"Previous validation: run {previous.run_id} of {previous.model} on "
                    f"{previous.created_at}, opinion {int(previous.opinion)} "
                    f"({previous.opinion.label}).")
        tables.append(Block(header=("test", "population", "before", "now", "verdict before",
                                    "verdict now"),
                            rows=[(d.test, d.population, _num(d.before), _num(d.now),
                                   str(d.verdict_before), str(d.verdict_now))
                                  for d in previous.deltas], verdict_column=5,
                            caption="Change since the previous validation"))
    else:
        text.append("This is the model's first validation run.")
    return Section(title="9. Comparison with the champion and the previous validation",
                   text=text, tables=tables)


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def _who_ran(result: ValidationResult, evidence: Governance) -> str:
    """Who ran the battery, and whether that was independent validation: only a sign-off
    concludes one (section 10)."""
    by, at = html.escape(result.created_by), f"on {result.created_at}, run {result.run_id}"
    if evidence.self_test:
        return (f"<b>Developer self-test</b> by {by} {at}: run by the model's developer, "
                "this is not independent validation.")
    concluded = [s for s in evidence.signoffs if s.run_id == result.run_id]
    if not concluded:
        return f"Run by {by} {at}; no validator has signed off on this run."
    last = concluded[-1]
    return (f"Run by {by} {at}; signed off by {html.escape(last.validator)} on "
            f"{last.recorded_at[:10]}: {'passed' if last.passed else 'failed'}.")


def _signoffs(result: ValidationResult, evidence: Governance) -> Section:
    title = "10. Sign-offs"
    if not evidence.signoffs:
        model = html.escape(result.model)
        return Section(title=title, text=[f"No validator has signed off on {model}."])
    return Section(title=title, text=[
        "Each validator's conclusion on this version, and the run it rests on (the one "
        "shown here is marked); the latest is the one the promotion gates read."],
        tables=[Block(
            header=("recorded", "validator", "conclusion", "fairness", "run", "summary"),
            rows=[(s.recorded_at[:19], s.validator, "passed" if s.passed else "failed",
                   "passed" if s.fairness_passed else "failed",
                   "none" if s.run_id is None else
                   s.run_id + (" (this run)" if s.run_id == result.run_id else ""),
                   s.summary) for s in evidence.signoffs])])


def _findings(findings: Sequence[Finding]) -> Section:
    if not findings:
        return Section(title="11. Findings", text=["No findings recorded in governance."])
    return Section(title="11. Findings", tables=[Block(
        header=("#", "version", "severity", "title", "owner", "due", "status"),
        rows=[(str(f.finding_id), "all" if f.version is None else str(f.version),
               str(f.severity), f.title, f.owner, f.due_date, str(f.status))
              for f in findings])])


def _reproduce(result: ValidationResult) -> Section:
    pack = result.reproduce
    code = ("not recorded" if pack.code is None else
            f"bankml {pack.code.bankml}, commit {pack.code.git_commit or 'unknown'}")
    rows = [("artifact_sha256", pack.artifact_sha256), ("dataset_sha256", pack.dataset_sha256),
            ("snapshot_sha256", pack.snapshot_sha256), ("policy_sha256", pack.policy_sha256),
            ("spec_sha256", pack.spec_sha256 or "not recorded"), ("code", code),
            ("seed", str(pack.seed)),
            ("against_artifact_sha256", pack.against_artifact_sha256 or "none"),
            ("result_run_id", result.run_id)]
    return Section(title="12. Reproducibility pack", text=[
        f"Re-run: <code>{html.escape(pack.command)}</code> (same artifact, snapshot, policy "
        "and seed give the same numbers)."],
        tables=[Block(header=("item", "value"), rows=rows)])


def _part(details: PopulationDetails, name: str) -> dict[str, Any]:
    """Chart data held as one object; empty when the run did not draw it."""
    found = details.charts.get(name)
    return found if isinstance(found, dict) else {}


def _entries(details: PopulationDetails, name: str) -> list[dict[str, Any]]:
    """Chart data held as a list of objects (a table's rows); empty when not drawn."""
    return [entry for entry in _list(details.charts.get(name)) if isinstance(entry, dict)]


def _list(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []


# -- HTML -----------------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,sans-serif;color:#1f2933;max-width:1100px;margin:2em auto;
padding:0 1em}h1{color:#1f3b57}h2{color:#1f3b57;border-bottom:1px solid #d9e2ec;
padding-bottom:.2em;margin-top:2em}table{border-collapse:collapse;margin:.8em 0;font-size:12px}
th,td{border:1px solid #d9e2ec;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f0f4f8}caption{text-align:left;font-weight:600;padding:4px 0}
.v{color:#fff;font-weight:600;border-radius:3px;padding:1px 6px}
.chart svg{max-width:100%;height:auto}code{background:#f0f4f8;padding:1px 4px}
"""


def to_html(result: ValidationResult, findings: Sequence[Finding],
            evidence: Governance | None = None) -> str:
    """A self-contained page: inline CSS and inline SVG charts, no external reference."""
    details = result.out_of_time
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Validation "
             f"report {html.escape(result.model)}</title><style>{CSS}</style></head><body>",
             f"<h1>Validation report: {html.escape(result.model)}</h1>"]
    for section in sections(result, findings, evidence):
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts += [f"<p>{line}</p>" for line in section.text]
        for name in section.charts:
            figure = charts.CHARTS[name](details)
            if figure is not None:
                parts.append(f"<div class='chart'>{charts.svg(figure)}</div>")
        parts += [html_table(block) for block in section.tables]
    parts.append("</body></html>")
    return "\n".join(parts)


def html_table(block: Block) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
    body = []
    for row in block.rows:
        cells = []
        for index, cell in enumerate(row):
            text = html.escape(cell)
            if index == block.verdict_column and cell in VERDICT_COLOURS:
                text = f"<span class='v' style='background:{VERDICT_COLOURS[cell]}'>{text}</span>"
            cells.append(f"<td>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    caption = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
    return f"<table>{caption}<tr>{head}</tr>{''.join(body)}</table>"


# -- PDF ------------------------------------------------------------------------------------


def to_pdf(result: ValidationResult, findings: Sequence[Finding],
           evidence: Governance | None = None) -> bytes:
    """An A4 PDF of the same sections, charts as images; built by reportlab alone."""
    details = result.out_of_time
    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=6.5, leading=8)
    body = styles["BodyText"].clone("body", fontSize=9, leading=12)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm,
                                 rightMargin=1.5 * cm, topMargin=1.5 * cm,
                                 bottomMargin=1.5 * cm, title=f"Validation report "
                                 f"{result.model}", author="bankml", creator="bankml",
                                 invariant=1)
    story: list[Any] = [Paragraph(f"Validation report: {html.escape(result.model)}",
                                  styles["Title"])]
    width = A4[0] - 3 * cm
    for section in sections(result, findings, evidence):
        story.append(Paragraph(html.escape(section.title), styles["Heading2"]))
        story += [Paragraph(line.replace("<code>", "<font face='Courier'>")
                            .replace("</code>", "</font>"), body) for line in section.text]
        for name in section.charts:
            figure = charts.CHARTS[name](details)
            if figure is not None:
                w, h = figure.get_size_inches()
                story.append(Image(io.BytesIO(charts.png(figure)), width=width,
                                   height=width * h / w))
        for block in section.tables:
            story.append(Spacer(1, 4))
            flowables = pdf_table(block, cell, body, width)
            # short tables stay on one page; long ones split with the header repeated
            story += [KeepTogether(flowables)] if len(block.rows) < 25 else flowables
    document.build(story)
    return buffer.getvalue()


CELL_PADDING = 12.0  # reportlab's default left and right padding of a table cell, together


def pdf_column_widths(block: Block, font_size: float, width: float) -> list[float] | None:
    """Widths that fit each column's longest word or number whole, the rest of `width`
    shared by the columns' longest text; None when the words alone are wider."""
    columns = list(zip(block.header, *block.rows, strict=True))
    fits = [max(stringWidth(word, "Helvetica-Bold" if index == 0 else "Helvetica", font_size)
                for index, text in enumerate(column) for word in text.split() or [""])
            + CELL_PADDING for column in columns]
    spare = width - sum(fits)
    if spare < 0:
        return None
    weights = [min(max(len(v) for v in column), 40) + 6 for column in columns]
    return [fit + spare * w / sum(weights) for fit, w in zip(fits, weights, strict=True)]


def pdf_table(block: Block, cell: Any, caption_style: Any, width: float) -> list[Any]:
    # a word or number is never broken across lines: the font shrinks until each fits
    widths, size = None, float(cell.fontSize)
    while widths is None and size > 3:
        widths = pdf_column_widths(block, size, width)
        size = size if widths is not None else size - 0.5
    cell = cell.clone("fitted", fontSize=size, leading=size * 1.25, splitLongWords=0)
    rows = [[Paragraph(f"<b>{html.escape(h)}</b>", cell) for h in block.header]]
    rows += [[Paragraph(html.escape(value), cell) for value in row] for row in block.rows]
    table = Table(rows, repeatRows=1, colWidths=widths or [width / len(block.header)]
                  * len(block.header))
    style = [("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#d9e2ec")),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f4f8")),
             ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if block.verdict_column is not None:
        for index, row in enumerate(block.rows, start=1):
            colour = VERDICT_COLOURS.get(row[block.verdict_column])
            if colour:
                style.append(("BACKGROUND", (block.verdict_column, index),
                              (block.verdict_column, index), colors.HexColor(colour)))
    table.setStyle(TableStyle(style))
    caption = [Paragraph(f"<i>{html.escape(block.caption)}</i>", caption_style)] \
        if block.caption else []
    return [*caption, table]
