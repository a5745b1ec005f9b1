"""The status table's sparkline."""

from __future__ import annotations

from bankml.cli.monitor import sparkline


def test_sparkline_scales_between_the_series_extremes() -> None:
    """Lowest value the lowest bar, highest the highest, a gap a blank."""
    assert sparkline([0.0, 1.0, None, 0.5]) == "▁█ ▄"
