"""A score distribution against its baseline as side-by-side bars of each bin's share,
drawn as SVG for the web UI's monitoring page. Made without pyplot's global state, as the
banded series are: pages render them in worker threads at once."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from bankml.reports.charts import INK, MUTED
from bankml.reports.timeseries import SMALL, small_margins


def shares_against_baseline(title: str, edges: Sequence[float], shares: Sequence[float],
                            baseline: Sequence[float] | None, *, label: str,
                            baseline_label: str) -> Figure:
    """Bars of `shares` per bin (`edges` one longer), the baseline's in grey beside them
    when there is one."""
    figure = Figure(figsize=SMALL)
    axis = figure.add_subplot()
    positions = list(range(len(shares)))
    width = 0.4 if baseline is not None else 0.8
    if baseline is not None:
        axis.bar([p - width / 2 for p in positions], baseline, width=width, color=MUTED,
                 label=baseline_label)
    axis.bar([p + (width / 2 if baseline is not None else 0.0) for p in positions], shares,
             width=width, color=INK, label=label)
    axis.set_xticks(positions, [f"{low:.1f}" for low in edges[:-1]])
    axis.set_xlabel("score from", fontsize=7.5)
    axis.set_ylabel("share", fontsize=7.5)
    axis.set_title(title, fontsize=8.5)
    axis.tick_params(labelsize=6.5)
    axis.spines[["top", "right"]].set_visible(False)
    axis.legend(fontsize=6, loc="best", frameon=False)
    small_margins(figure)
    return figure


__all__ = ["shares_against_baseline"]
