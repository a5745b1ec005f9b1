"""The validation report's text as a reader meets it: tables in the PDF, cut-offs, bands."""

from __future__ import annotations

from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfbase.pdfmetrics import stringWidth

from bankml.reports.validation import (
    CELL_PADDING,
    Block,
    _cutoffs,
    _group_order,
    pdf_column_widths,
    pdf_table,
)


def test_narrow_columns_keep_every_word_and_number_whole() -> None:
    """Nine columns of long test names and digits on an A4 page: each column is at least
    as wide as its longest word or number, so none is broken mid-token."""
    header = ("test", "population", "statistic", "p-value", "green", "amber", "verdict",
              "source", "digest")
    row = ("fairness.equal_opportunity[MARRIAGE", "holdout_random", "0.012345678",
           "0.000123", "0.8000", "0.9000", "green", "regulation",
           "e5297735ad6488d3249a3a93f4489a50")
    block = Block(header=header, rows=[row, row])
    width = 510.0

    cell = getSampleStyleSheet()["BodyText"].clone("cell", fontSize=6.5, leading=8)

    [table] = pdf_table(block, cell, None, width)

    widths = table._colWidths
    assert sum(widths) <= width + 1e-6
    size = table._cellvalues[1][0].style.fontSize
    for column, cell_width in enumerate(widths):
        longest = max(stringWidth(text, "Helvetica", size)
                      for text in (row[column], *header[column].split()))
        assert cell_width >= longest + CELL_PADDING - 1e-6
    assert table._cellvalues[1][0].style.splitLongWords == 0


def test_column_widths_say_when_words_cannot_fit() -> None:
    """Words wider than the page together give no widths (the caller shrinks the font)."""
    block = Block(header=("a", "b"), rows=[("x" * 200, "y" * 200)])

    assert pdf_column_widths(block, 6.5, 300.0) is None


def test_cutoffs_read_as_text() -> None:
    """Decision cut-offs read as words and numbers, not as a Python dict."""
    assert _cutoffs({"approve_below": 0.15, "decline_from": 0.45}) == \
        "approve below 0.15, decline from 0.45"


def test_bands_sort_by_value_not_as_text() -> None:
    """Banded groups run from the lowest band up, intersections band by band."""
    groups = ["AGE=>=65", "AGE=25-35", "AGE=50-65", "AGE=<25", "AGE=35-50"]
    crossed = ["SEX=male & AGE=>=65", "SEX=female & AGE=25-35", "SEX=female & AGE=<25"]

    assert sorted(groups, key=_group_order) == ["AGE=<25", "AGE=25-35", "AGE=35-50",
                                                "AGE=50-65", "AGE=>=65"]
    assert sorted(crossed, key=_group_order) == ["SEX=female & AGE=<25",
                                                 "SEX=female & AGE=25-35",
                                                 "SEX=male & AGE=>=65"]

