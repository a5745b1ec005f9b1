"""The validation report: a stored run laid out in sections, rendered as HTML and PDF.

`sections(result, findings)` turns a run's stored JSON and the governance findings into
titled blocks of text, tables and charts (regulatory.md G-18..G-24); `to_html` and
`to_pdf` render the same blocks, so both files always say the same thing.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from bankml.core.oversight import Finding
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


def sections(result: dict[str, Any], findings: Sequence[Finding]) -> list[Section]:
    """The report's contents, in order, from a stored run and its findings."""
    details = result["details"]["out_of_time"]
    return [_summary(result), _scope(result), _tests(result), _discrimination(details),
            _stability(details), _fairness(details), _explanations(details),
            _soundness(details), _comparison(result, details), _findings(findings),
            _reproduce(result)]


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else \
            f"{value:.{digits}f}"
    return str(value)


def _summary(result: dict[str, Any]) -> Section:
    card, opinion = result["model_card"], result["opinion"]
    tests = result["tests"]
    counts = {v: sum(t["verdict"] == v for t in tests) for v in ("green", "amber", "red")}
    worst = [t for t in tests if t["verdict"] == "red"] or \
        [t for t in tests if t["verdict"] == "amber"]
    policy = result["policy"]
    text = [
        f"<b>Overall opinion: {opinion['level']} - {html.escape(opinion['label'])}</b> "
        f"(ECB four-level scale; roll-up rule: {html.escape(policy['opinion_rule']['tag'])}, "
        f"{html.escape(policy['opinion_rule']['source'])}).",
        f"Model {html.escape(result['model'])} ({html.escape(result['domain'])}, tier "
        f"{card['risk_tier']}), owner {html.escape(card['owner'])}, developer "
        f"{html.escape(card['developer'])}. Purpose: {html.escape(card['intended_use'])}",
        f"Limitations: {html.escape(card['limitations'] or 'none stated')}",
        f"{len(tests)} tests: {counts['green']} green, {counts['amber']} amber, "
        f"{counts['red']} red. Fairness: {'passed' if result['fairness_passed'] else 'failed'}"
        f" (no red fairness test). Policy {html.escape(policy['id'])} "
        f"{html.escape(policy['version'])}.",
        f"Validated by {html.escape(result['created_by'])} on {result['created_at']}, "
        f"run {result['run_id']}.",
    ]
    rows = [(t["test"], t["population"], _num(t["value"]), _num(t["p_value"]), t["verdict"])
            for t in worst[:8]]
    tables = [Block(header=("test", "population", "statistic", "p-value", "verdict"),
                    rows=rows, verdict_column=4,
                    caption="Tests that drive the opinion" if rows else "")] if rows else []
    return Section(title="1. Executive summary", text=text, tables=tables)


def _scope(result: dict[str, Any]) -> Section:
    scope = result["scope"]
    rows = []
    for name in ("train", "out_of_time", "sample"):
        part = scope.get(name)
        if part is None:
            continue
        period = " to ".join(part.get("period", [])) or part.get("path", "")
        rows.append((name, period, _num(part["rows"]), _num(part["events"]),
                     f"{part['event_rate']:.2%}"))
    text = [f"Out-of-time rows: application dates on or after {scope['test_from']}, rebuilt "
            "from the dataset snapshot training stored (no retraining); scored with the "
            "registered artifact.",
            f"Dataset sha256 {scope['dataset_sha256']}; snapshot sha256 "
            f"{scope['snapshot_sha256']}.",
            "Protected attributes (read from the data, never model inputs): "
            f"{', '.join(scope['protected_attributes']) or 'none declared'}. Decision "
            f"cut-offs: {scope['decision_cutoffs']}."]
    return Section(title="2. Scope and data", text=text, tables=[Block(
        header=("population", "period", "rows", "events", "event rate"), rows=rows)])


def _tests(result: dict[str, Any]) -> Section:
    rows = [(t["test"], t["population"], _num(t["value"]), _num(t["p_value"]),
             t["threshold"]["statistic"] + " " + t["threshold"]["text"],
             t["threshold"]["tag"], t["verdict"], t["detail"]) for t in result["tests"]]
    sources = sorted({(t["test"].split("[")[0], t["threshold"]["tag"], t["threshold"]["source"])
                      for t in result["tests"]})
    return Section(title="3. Tests performed", text=[
        "Each verdict applies the policy's threshold to the statistic named; tags say where "
        "a threshold comes from (regulation, supervisory, industry, bank_policy)."],
        tables=[Block(header=("test", "population", "statistic", "p-value", "threshold",
                              "tag", "verdict", "detail"), rows=rows, verdict_column=6),
                Block(header=("test", "tag", "source"), rows=list(sources),
                      caption="Threshold sources")])


def _discrimination(details: dict[str, Any]) -> Section:
    tables = []
    if "grades" in details:
        tables.append(Block(
            header=("grade", "PD", "N", "defaults", "default rate", "Jeffreys p"),
            rows=[(g["grade"], _num(g["pd"]), _num(g["n"]), _num(g["defaults"]),
                   _num(g["default_rate"]), _num(g["p_value"])) for g in details["grades"]],
            caption="Jeffreys test per master-scale grade and for the portfolio (ECB PD-05)"))
    return Section(title="4. Discrimination and calibration", tables=tables,
                   charts=["roc_cap", "calibration"])


def _stability(details: dict[str, Any]) -> Section:
    rows = [(c["feature"], _num(c["value"]), c["shift"])
            for c in sorted(details.get("csi", []), key=lambda c: -c["value"])]
    return Section(title="5. Stability", charts=["scores"], tables=[Block(
        header=("input", "CSI", "shift"), rows=rows,
        caption="Characteristic stability, training vs out of time")])


def _fairness(details: dict[str, Any]) -> Section:
    tables = []
    for report in details.get("fairness", []):
        groups = report["groups"]
        if "impact_ratio" in (groups[0] if groups else {}):
            rows = [(g["group"], _num(g["n"]), _num(g["is_small"]), _num(g["selection_rate"]),
                     _num(g["impact_ratio"]) + _ci(g, "impact_ratio"),
                     _num(g["statistical_parity_difference"]),
                     _num(g["equal_opportunity_difference"]) +
                     _ci(g, "equal_opportunity_difference"),
                     _num(g["average_odds_difference"]), _num(g["p_value"])) for g in groups]
            tables.append(Block(
                header=("group", "n", "small", "selection rate", "AIR [95% CI]", "SPD",
                        "EOD [95% CI]", "AOD", "p (z)"), rows=rows,
                caption=f"{report['attribute']}: reference {report['reference']} "
                f"({report['reference_rule']}); min/max ratio {_num(report['min_max_ratio'])}"))
        else:
            tables.append(Block(
                header=("group", "n", "small", "alert rate", "ratio", "precision", "ratio"),
                rows=[(g["group"], _num(g["n"]), _num(g["is_small"]), _num(g["alert_rate"]),
                       _num(g["alert_rate_ratio"]), _num(g["precision"]),
                       _num(g["precision_ratio"])) for g in groups],
                caption=f"{report['attribute']}: alert parity"))
        if report.get("calibration"):
            tables.append(Block(
                header=("group", "n", "mean PD", "default rate", "difference", "Jeffreys p"),
                rows=[(c["group"], _num(c["n"]), _num(c["mean_pd"]), _num(c["default_rate"]),
                       _num(c["difference"]), _num(c["jeffreys_p_value"]))
                      for c in report["calibration"]],
                caption=f"{report['attribute']}: calibration by group (PD-32)"))
    return Section(title="6. Fairness", text=[
        "Favourable decision: not declined (credit) / selected (propensity); alerts are "
        "adverse (fraud, AML). AIR = selection rate / reference group's; four-fifths flag "
        "below 0.8. Intervals: seeded bootstrap of the group cells. Small groups (below the "
        "policy's minimum size) are shown, not compared."], tables=tables, charts=["fairness"])


def _ci(group: dict[str, Any], name: str) -> str:
    low, high = group.get(f"{name}_low"), group.get(f"{name}_high")
    return "" if low is None or high is None else f" [{low:.3f}, {high:.3f}]"


def _explanations(details: dict[str, Any]) -> Section:
    explanations = details.get("explanations")
    if not explanations or "error" in explanations:
        reason = (explanations or {}).get("error", "not computed")
        return Section(title="7. Explanations", text=[f"Not computed: {html.escape(reason)}"])
    return Section(title="7. Explanations", text=[
        f"Method {explanations['method']} ({explanations['explainer_version']}), output in "
        f"{explanations['space']}, {explanations['rows']} out-of-time rows, background "
        f"sha256 {explanations['background_sha256'][:16]}, seed {explanations['seed']}."],
        charts=["importance"], tables=[Block(
            header=("rank", "input", "mean |SHAP|"),
            rows=[(str(i["rank"]), i["feature"], _num(i["mean_abs_contribution"]))
                  for i in explanations["importance"]])])


def _soundness(details: dict[str, Any]) -> Section:
    tables = []
    if details.get("sensitivity"):
        tables.append(Block(header=("input", "mean change -delta", "mean change +delta",
                                    "largest change"),
                            rows=[(s["feature"], _num(s["mean_change_down"]),
                                   _num(s["mean_change_up"]), _num(s["max_abs_change"]))
                                  for s in details["sensitivity"]],
                            caption="Sensitivity of the score to each input and jointly"))
    if details.get("monotonicity"):
        tables.append(Block(header=("input", "direction", "rows", "violating", "worst step"),
                            rows=[(m["feature"], f"{m['direction']:+d}",
                                   _num(m["rows_checked"]), _num(m["violating_rows"]),
                                   _num(m["worst_violation"]))
                                  for m in details["monotonicity"]],
                            caption="Monotonicity along each declared direction"))
    extremes = details.get("extreme_values", [])
    text = [f"Extreme-value grid: {len(extremes)} points, "
            f"{sum(not e['is_valid'] for e in extremes)} outside [0, 1]."] if extremes else []
    return Section(title="8. Conceptual soundness: sensitivity", text=text, tables=tables)


def _comparison(result: dict[str, Any], details: dict[str, Any]) -> Section:
    text, tables = [], []
    comparison = details.get("comparison")
    if comparison:
        text.append(f"Against {comparison['against']} on the same out-of-time rows (DeLong): "
                    f"AUC {comparison['auc_a']:.4f} vs {comparison['auc_b']:.4f}, difference "
                    f"{comparison['difference']:+.4f}, z {comparison['z']:.3f}, two-sided p "
                    f"{_num(comparison['p_value'])}, correlation "
                    f"{comparison['correlation']:.3f}.")
    else:
        text.append("No champion or --against version to compare with.")
    previous = result.get("previous")
    if previous:
        text.append(f"Previous validation: run {previous['run_id']} of {previous['model']} on "
                    f"{previous['created_at']}, opinion {previous['opinion']['level']} "
                    f"({previous['opinion']['label']}).")
        tables.append(Block(header=("test", "population", "before", "now", "verdict before",
                                    "verdict now"),
                            rows=[(d["test"], d["population"], _num(d["before"]),
                                   _num(d["now"]), d["verdict_before"], d["verdict_now"])
                                  for d in previous["deltas"]], verdict_column=5,
                            caption="Change since the previous validation"))
    else:
        text.append("This is the model's first validation run.")
    return Section(title="9. Comparison with the champion and the previous validation",
                   text=text, tables=tables)


def _findings(findings: Sequence[Finding]) -> Section:
    if not findings:
        return Section(title="10. Findings", text=["No findings recorded in governance."])
    return Section(title="10. Findings", tables=[Block(
        header=("#", "version", "severity", "title", "owner", "due", "status"),
        rows=[(str(f.finding_id), "all" if f.version is None else str(f.version),
               str(f.severity), f.title, f.owner, f.due_date, str(f.status))
              for f in findings])])


def _reproduce(result: dict[str, Any]) -> Section:
    pack = result["reproduce"]
    rows = [(key, str(value)) for key, value in pack.items() if key != "command"]
    rows.append(("result_run_id", result["run_id"]))
    return Section(title="11. Reproducibility pack", text=[
        f"Re-run: <code>{html.escape(pack['command'])}</code> (same artifact, snapshot, policy "
        "and seed give the same numbers)."],
        tables=[Block(header=("item", "value"), rows=rows)])


# -- HTML -----------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;color:#1f2933;max-width:1100px;margin:2em auto;
padding:0 1em}h1{color:#1f3b57}h2{color:#1f3b57;border-bottom:1px solid #d9e2ec;
padding-bottom:.2em;margin-top:2em}table{border-collapse:collapse;margin:.8em 0;font-size:12px}
th,td{border:1px solid #d9e2ec;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f0f4f8}caption{text-align:left;font-weight:600;padding:4px 0}
.v{color:#fff;font-weight:600;border-radius:3px;padding:1px 6px}
.chart svg{max-width:100%;height:auto}code{background:#f0f4f8;padding:1px 4px}
"""


def to_html(result: dict[str, Any], findings: Sequence[Finding]) -> str:
    """A self-contained page: inline CSS and inline SVG charts, no external reference."""
    details = result["details"]["out_of_time"]
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Validation "
             f"report {html.escape(result['model'])}</title><style>{_CSS}</style></head><body>",
             f"<h1>Validation report: {html.escape(result['model'])}</h1>"]
    for section in sections(result, findings):
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts += [f"<p>{line}</p>" for line in section.text]
        for name in section.charts:
            figure = charts.CHARTS[name](details)
            if figure is not None:
                parts.append(f"<div class='chart'>{charts.svg(figure)}</div>")
        parts += [_html_table(block) for block in section.tables]
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_table(block: Block) -> str:
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


def to_pdf(result: dict[str, Any], findings: Sequence[Finding]) -> bytes:
    """An A4 PDF of the same sections, charts as images; built by reportlab alone."""
    details = result["details"]["out_of_time"]
    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=6.5, leading=8)
    body = styles["BodyText"].clone("body", fontSize=9, leading=12)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm,
                                 rightMargin=1.5 * cm, topMargin=1.5 * cm,
                                 bottomMargin=1.5 * cm, title=f"Validation report "
                                 f"{result['model']}", author="bankml", creator="bankml",
                                 invariant=1)
    story: list[Any] = [Paragraph(f"Validation report: {html.escape(result['model'])}",
                                  styles["Title"])]
    width = A4[0] - 3 * cm
    for section in sections(result, findings):
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
            flowables = _pdf_table(block, cell, body, width)
            # short tables stay on one page; long ones split with the header repeated
            story += [KeepTogether(flowables)] if len(block.rows) < 25 else flowables
    document.build(story)
    return buffer.getvalue()


def _pdf_table(block: Block, cell: Any, caption_style: Any, width: float) -> list[Any]:
    rows = [[Paragraph(f"<b>{html.escape(h)}</b>", cell) for h in block.header]]
    rows += [[Paragraph(html.escape(value), cell) for value in row] for row in block.rows]
    # columns share the width by their longest text, within bounds, so names stay whole
    weights = [min(max(len(v) for v in column), 40) + 6
               for column in zip(block.header, *block.rows, strict=True)]
    table = Table(rows, repeatRows=1, colWidths=[width * w / sum(weights) for w in weights])
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
