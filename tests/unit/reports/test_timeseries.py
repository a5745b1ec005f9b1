"""Series against threshold bands, as the UI's deployments and monitoring pages draw them."""

from __future__ import annotations

from bankml.reports.charts import AMBER, GREEN, RED, svg
from bankml.reports.timeseries import Bands, banded_series


def _band_spans(figure: object) -> list[tuple[str, float, float]]:
    """(colour, bottom, top) of each horizontal band drawn, bottom first."""
    from matplotlib.colors import to_hex  # noqa: PLC0415 - matplotlib is the renderer's

    [axis] = figure.axes  # type: ignore[attr-defined]
    spans = []
    for patch in axis.patches:
        bottom = round(patch.get_y(), 9)
        spans.append((to_hex(patch.get_facecolor(), keep_alpha=False), bottom,
                      round(bottom + patch.get_height(), 9)))
    return sorted(spans, key=lambda span: span[1])


def test_bands_are_the_policys_bounds_in_order() -> None:
    """Lower is better: green up to the green bound, amber to the amber bound, red above;
    higher is better mirrors it."""
    lower = banded_series("psi", {"psi": [("a", 0.05), ("b", 0.3)]},
                          bands=Bands(green=0.1, amber=0.25))
    higher = banded_series("ratio", {"ratio": [("a", 0.9)]},
                           bands=Bands(green=0.8, amber=0.7, lower_is_better=False))

    (green, _, green_top), amber, (red, red_bottom, _) = _band_spans(lower)
    assert (green, green_top) == (GREEN, 0.1)
    assert amber == (AMBER, 0.1, 0.25)
    assert (red, red_bottom) == (RED, 0.25)
    assert [c for c, _, _ in _band_spans(higher)] == [RED, AMBER, GREEN]
    assert _band_spans(higher)[1][1:] == (0.7, 0.8)


def test_a_series_with_no_value_draws_nothing() -> None:
    """Nothing measured yet is no chart (the page says so), not a line at zero."""
    assert banded_series("psi", {"psi": [("a", None), ("b", None)]},
                         bands=Bands(green=0.1, amber=0.25)) is None


def test_the_svg_is_inline_and_keeps_its_text() -> None:
    """An <svg> element without an XML prolog, its title as text (readable, searchable)."""
    text = svg(banded_series("score.psi", {"score.psi": [("12-01 00:00", 0.05)]},
                             bands=None))  # type: ignore[arg-type]

    assert text.startswith("<svg")
    assert "score.psi" in text
