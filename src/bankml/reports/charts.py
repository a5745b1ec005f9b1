"""Charts of a validation result, drawn with matplotlib as SVG text (HTML) or PNG bytes (PDF).

Every chart reads the stored result alone (one population's details), so a report can be
redrawn from the evidence.
SVG output is deterministic: no dates, a fixed id salt, text kept as text.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # no display: reports render on servers and laptops alike

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bankml.core.validation import PopulationDetails, SelectionFairness

SIZE = (6.0, 3.2)
GREEN, AMBER, RED, INK, MUTED = "#2e7d32", "#f9a825", "#c62828", "#1f3b57", "#9aa5b1"

Chart = Callable[[PopulationDetails], Figure | None]


def roc_and_cap(details: PopulationDetails) -> Figure | None:
    data: Mapping[str, Any] = details.charts  # chart data: plain JSON of known shapes
    if "roc" not in data or "cap" not in data:
        return None
    auc = details.auc.auc if details.auc is not None else None
    figure, (roc, cap) = plt.subplots(1, 2, figsize=SIZE)
    roc.plot(data["roc"]["fpr"], data["roc"]["tpr"], color=INK)
    roc.plot([0, 1], [0, 1], color=MUTED, linestyle="--", linewidth=0.8)
    roc.set(title="ROC" + (f" (AUC {auc:.3f})" if auc is not None else ""),
            xlabel="false positive rate", ylabel="true positive rate")
    cap.plot(data["cap"]["population"], data["cap"]["events"], color=INK)
    cap.plot([0, 1], [0, 1], color=MUTED, linestyle="--", linewidth=0.8)
    cap.set(title=f"CAP (AR {data['cap']['accuracy_ratio']:.3f})",
            xlabel="share of cases, riskiest first", ylabel="share of events")
    return _finish(figure)


def calibration(details: PopulationDetails) -> Figure | None:
    data: Mapping[str, Any] = details.charts
    curve = data.get("calibration_curve")
    if curve is None:
        return None
    figure, axis = plt.subplots(figsize=SIZE)
    top = max([*curve["predicted"], *curve["observed"], 0.01]) * 1.05
    axis.plot([0, top], [0, top], color=MUTED, linestyle="--", linewidth=0.8)
    axis.plot(curve["predicted"], curve["observed"], marker="o", color=INK)
    axis.set(title="Calibration: observed default rate by PD decile",
             xlabel="mean predicted PD", ylabel="observed default rate")
    return _finish(figure)


def score_distribution(details: PopulationDetails) -> Figure | None:
    data: Mapping[str, Any] = details.charts
    histogram, bins = data.get("score_distribution"), data.get("psi_bins")
    if histogram is None or bins is None:
        return None
    figure, (scores, psi) = plt.subplots(1, 2, figsize=SIZE)
    edges = histogram["edges"]
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    width = edges[1] - edges[0]
    scores.bar(centres, histogram["non_events"], width=width, color=MUTED, label="non-events")
    scores.bar(centres, histogram["events"], width=width, color=RED, alpha=0.7, label="events")
    scores.set(title="Score distribution", xlabel="score", ylabel="cases")
    scores.legend(fontsize=7)
    positions = list(range(len(bins)))
    psi.bar([p - 0.2 for p in positions], [b["expected_share"] for b in bins], width=0.4,
            color=MUTED, label="training")
    psi.bar([p + 0.2 for p in positions], [b["actual_share"] for b in bins], width=0.4,
            color=INK, label="out of time")
    psi.set(title="PSI bins (score deciles of training)", xlabel="bin", ylabel="share")
    psi.legend(fontsize=7)
    return _finish(figure)


def fairness(details: PopulationDetails) -> Figure | None:
    singles = [table for table in details.fairness if isinstance(table, SelectionFairness)
               and " & " not in table.attribute]
    if not singles:
        return None
    labels, ratios, colours = [], [], []
    for table in singles:
        for group in table.groups:
            ratio = group.impact_ratio
            if ratio is None or group.group == table.reference:
                continue
            labels.append(group.group + (" (small)" if group.is_small else ""))
            ratios.append(ratio)
            colours.append(MUTED if group.is_small else GREEN if ratio >= 0.8 else RED)
    if not labels:
        return None
    figure, axis = plt.subplots(figsize=(SIZE[0], max(2.0, 0.28 * len(labels) + 0.8)))
    axis.barh(labels, ratios, color=colours)
    axis.axvline(0.8, color=RED, linestyle="--", linewidth=0.8)
    axis.invert_yaxis()
    axis.set(title="Adverse impact ratio against each attribute's reference group",
             xlabel="selection rate / reference selection rate")
    axis.tick_params(axis="y", labelsize=7)
    return _finish(figure)


def importance(details: PopulationDetails) -> Figure | None:
    data: Mapping[str, Any] = details.charts
    explanations = data.get("explanations")
    if not explanations or "error" in explanations:
        return None
    ranked = explanations["importance"][:15]
    figure, axis = plt.subplots(figsize=(SIZE[0], max(2.0, 0.25 * len(ranked) + 0.8)))
    axis.barh([r["feature"] for r in ranked], [r["mean_abs_contribution"] for r in ranked],
              color=INK)
    axis.invert_yaxis()
    axis.set(title=f"Global SHAP importance ({explanations['method']}, "
             f"{explanations['space']})", xlabel="mean |contribution|")
    axis.tick_params(axis="y", labelsize=7)
    return _finish(figure)


def reason_waterfall(reasons: Sequence[tuple[str, float]]) -> Figure | None:
    """A decision's reason codes as a waterfall: each code's contribution to the score,
    stacked from zero to their sum (red raises the risk, green lowers it)."""
    if not reasons:
        return None
    labels = [code for code, _ in reasons] + ["sum"]
    starts, widths, colours, total = [], [], [], 0.0
    for _, contribution in reasons:
        starts.append(total if contribution >= 0 else total + contribution)
        widths.append(abs(contribution))
        colours.append(RED if contribution >= 0 else GREEN)
        total += contribution
    starts.append(min(0.0, total))
    widths.append(abs(total))
    colours.append(INK)
    figure, axis = plt.subplots(figsize=(SIZE[0], max(1.8, 0.35 * len(labels) + 0.9)))
    axis.barh(labels, widths, left=starts, color=colours)
    axis.axvline(0, color=MUTED, linewidth=0.8)
    axis.invert_yaxis()
    axis.set(title="Reason codes: contribution of each to the score",
             xlabel="contribution (the explainer's units)")
    return _finish(figure)


def psi_by_input(rows: Sequence[tuple[str, float | None, float | None, str]]
                 ) -> Figure | None:
    """The weekly review's drift chart: (metric, PSI this week, PSI last week, status) per
    input, this week's bar coloured by its status, last week's in grey beside it."""
    drawn = [(metric.removeprefix("feature.psi[").rstrip("]"), now, then, status)
             for metric, now, then, status in rows if now is not None]
    if not drawn:
        return None
    colour = {"green": GREEN, "amber": AMBER, "red": RED}
    figure, axis = plt.subplots(figsize=(SIZE[0], max(2.0, 0.3 * len(drawn) + 0.9)))
    positions = list(range(len(drawn)))
    axis.barh([p + 0.2 for p in positions], [then or 0.0 for _, _, then, _ in drawn],
              height=0.4, color=MUTED, label="last week")
    axis.barh([p - 0.2 for p in positions], [now for _, now, _, _ in drawn], height=0.4,
              color=[colour.get(status, INK) for *_, status in drawn], label="this week")
    axis.set_yticks(positions, [name for name, *_ in drawn])
    axis.invert_yaxis()
    axis.set(title="PSI against the development sample", xlabel="PSI")
    axis.legend(fontsize=7)
    return _finish(figure)


CHARTS: dict[str, Chart] = {"roc_cap": roc_and_cap, "calibration": calibration,
                            "scores": score_distribution, "fairness": fairness,
                            "importance": importance}


def svg(figure: Figure) -> str:
    """The figure as an inline <svg> element (no XML prolog), deterministic."""
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "bankml", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def png(figure: Figure, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return buffer.getvalue()


def _finish(figure: Figure) -> Figure:
    for axis in figure.axes:
        axis.title.set_fontsize(9)
        axis.xaxis.label.set_fontsize(8)
        axis.yaxis.label.set_fontsize(8)
        axis.tick_params(labelsize=7)
        axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure
