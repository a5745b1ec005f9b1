"""Time series against threshold bands, drawn as SVG for the web UI's monitoring and
deployment pages (and any report that wants them).

The bands are the policy's own: green up to the green bound, amber to the amber bound,
red beyond (mirrored when higher is better). A guardrail has one threshold, so its amber
band is empty. Figures are made without pyplot's global state: pages render them in
worker threads at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bankml.reports.charts import AMBER, GREEN, INK, MUTED, RED

SMALL = (4.6, 2.0)
LINES = ("#1f3b57", "#6a1b9a", "#00695c", "#ad1457", "#4e342e", "#283593")
BAND_ALPHA = 0.16


@dataclass(frozen=True, slots=True, kw_only=True)
class Bands:
    """Where green ends and red begins; `lower_is_better` says which side is green."""

    green: float
    amber: float
    lower_is_better: bool = True


Series = Sequence[tuple[str, float | None]]  # (moment label, value), oldest first


def banded_series(title: str, lines: Mapping[str, Series], *, bands: Bands | None,
                  ylabel: str = "") -> Figure | None:
    """One line per entry of `lines` over shared moments, on the bands; None with no value
    to draw. A missing value breaks its line rather than being drawn as zero."""
    moments = sorted({at for series in lines.values() for at, _ in series})
    values = [v for series in lines.values() for _, v in series if v is not None]
    if not values:
        return None
    position = {at: i for i, at in enumerate(moments)}
    figure = Figure(figsize=SMALL)
    axis = figure.add_subplot()
    for (name, series), colour in zip(lines.items(), LINES * 10, strict=False):
        xs = [position[at] for at, v in series if v is not None]
        ys = [v for _, v in series if v is not None]
        axis.plot(xs, ys, marker="o", markersize=3, linewidth=1.2, color=colour,
                  label=name)
    low, high = min(values), max(values)
    if bands is not None:
        low, high = min(low, bands.green, bands.amber), max(high, bands.green, bands.amber)
    pad = (high - low) * 0.15 or abs(high) * 0.15 or 0.05
    bottom, top = low - pad, high + pad
    if bands is not None:
        _draw_bands(axis, bands, bottom, top)
    axis.set_ylim(bottom, top)
    axis.set_xlim(-0.5, max(len(moments) - 0.5, 0.5))
    ticks = list(range(len(moments)))
    step = max(1, len(ticks) // 6)  # at most about six labels fit under a small chart
    axis.set_xticks(ticks[::step], [moments[i] for i in ticks[::step]])
    axis.set_title(title, fontsize=8.5)
    axis.set_ylabel(ylabel, fontsize=7.5)
    axis.tick_params(labelsize=6.5)
    axis.spines[["top", "right"]].set_visible(False)
    if len(lines) > 1:
        axis.legend(fontsize=6, loc="best", frameon=False)
    small_margins(figure)
    return figure


def small_margins(figure: Figure) -> None:
    """Margins fixed for the SMALL size, room for a title, a label and ticks of seven
    characters: tight_layout measured every label again and took half of each chart's
    time, and a monitoring page draws about thirty."""
    figure.subplots_adjust(left=0.13, right=0.98, top=0.88, bottom=0.2)


def _draw_bands(axis: Axes, bands: Bands, bottom: float, top: float) -> None:
    span, line = axis.axhspan, axis.axhline
    if bands.lower_is_better:
        span(bottom, bands.green, color=GREEN, alpha=BAND_ALPHA, linewidth=0)
        span(bands.green, bands.amber, color=AMBER, alpha=BAND_ALPHA, linewidth=0)
        span(bands.amber, top, color=RED, alpha=BAND_ALPHA, linewidth=0)
    else:
        span(bands.green, top, color=GREEN, alpha=BAND_ALPHA, linewidth=0)
        span(bands.amber, bands.green, color=AMBER, alpha=BAND_ALPHA, linewidth=0)
        span(bottom, bands.amber, color=RED, alpha=BAND_ALPHA, linewidth=0)
    for bound in {bands.green, bands.amber}:
        line(bound, color=MUTED if bound == bands.green else INK, linewidth=0.6,
             linestyle="--")


__all__ = ["Bands", "Series", "banded_series", "small_margins"]
