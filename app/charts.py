"""Bar charts drawn on the server as SVG, shared by the pages and the PDFs.

A chart is a caption and rows of (label, value, second value or None). It draws itself as
inline SVG with role="img" and a name that reads out every value, so a screen reader gets
the same facts as the eye; pages print the numbers as a table beside it as well. No
JavaScript and no chart library: the bars are rectangles computed here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _
from markupsafe import Markup, escape

#: bar colours of the two series; at least 3:1 against white, as WCAG asks of graphics
SERIES_COLOURS = ("#1f4e79", "#5b84b1")

Row = tuple[str, int, int | None]


@dataclass(frozen=True)
class Size:
    """The geometry of a chart, in SVG user units (pixels on screen, points in PDFs)."""

    bar: int
    gap: int
    label_width: int
    width: int
    font: int


#: small type for A4 pages
PRINT = Size(bar=9, gap=6, label_width=150, width=470, font=8)
#: on screen the SVG scales down to the column it is in (see .chart in the stylesheet)
SCREEN = Size(bar=16, gap=8, label_width=140, width=360, font=13)
#: room after the longest bar for its number
VALUE_ROOM = 40


def _text_width(text: str, font: int) -> float:
    """Estimate the drawn width of a label: CJK and full-width characters take a full em."""
    return sum(font if unicodedata.east_asian_width(ch) in "WF" else font * 0.55 for ch in text)


def fit(label: str, room: float, font: int) -> str:
    """Shorten a label with an ellipsis so that it fits into `room` units."""
    if _text_width(label, font) <= room:
        return label
    while label and _text_width(label + "…", font) > room:
        label = label[:-1]
    return label + "…"


@dataclass
class Chart:
    """A horizontal bar chart: one bar per row, or two when `series` names a second value."""

    caption: str
    rows: list[Row] = field(default_factory=list)
    series: tuple[str, str] | None = None

    def __bool__(self) -> bool:
        return bool(self.rows)

    def description(self) -> str:
        """Say what the chart shows in one sentence: its caption and every value."""
        if self.series:
            first, second = self.series
            items = [_("%(label)s: %(first_name)s %(first)d, %(second_name)s %(second)d",
                       label=label, first_name=first, first=a, second_name=second, second=b or 0)
                     for label, a, b in self.rows]
        else:
            items = [_("%(label)s: %(value)d", label=label, value=a) for label, a, _b in self.rows]
        return _("%(caption)s. %(items)s.", caption=self.caption, items=_("; ").join(items))

    def svg(self, for_print: bool = False) -> Markup:
        """Draw the chart as inline SVG (small type for a PDF page when `for_print`)."""
        size = PRINT if for_print else SCREEN
        two = self.series is not None
        row_height = size.bar * (2 if two else 1) + size.gap
        top = size.font + 8 if two else 0
        height = top + row_height * len(self.rows) + 4
        largest = max([max(a, b or 0) for _label, a, b in self.rows] or [1]) or 1
        scale = (size.width - size.label_width - VALUE_ROOM) / largest
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="bar-chart" '
                 f'width="{size.width}" height="{height}" viewBox="0 0 {size.width} {height}" '
                 f'aria-label="{escape(self.description())}" '
                 f'font-family="Noto Sans CJK SC, sans-serif" font-size="{size.font}">']
        if two:
            x = 0.0
            for k, name in enumerate(self.series):
                parts.append(f'<rect x="{x:.1f}" y="2" width="{size.font}" height="{size.font}" '
                             f'fill="{SERIES_COLOURS[k]}"/><text x="{x + size.font + 3:.1f}" '
                             f'y="{size.font + 1}">{escape(name)}</text>')
                x += size.font * 2 + _text_width(name, size.font)
        for i, (label, first, second) in enumerate(self.rows):
            y = top + i * row_height
            parts.append(f'<text x="{size.label_width - 4}" y="{y + size.bar - 2}" '
                         f'text-anchor="end">'
                         f'{escape(fit(label, size.label_width - 6, size.font))}</text>')
            for k, value in enumerate((first, second) if two else (first,)):
                value = value or 0
                bar_y = y + k * size.bar
                length = max(value * scale, 0.5)
                parts.append(f'<rect class="bar" x="{size.label_width}" y="{bar_y}" '
                             f'width="{length:.1f}" height="{size.bar - 1}" '
                             f'fill="{SERIES_COLOURS[k]}" data-value="{value}"/>'
                             f'<text x="{size.label_width + length + 3:.1f}" '
                             f'y="{bar_y + size.bar - 3}">{value}</text>')
        parts.append("</svg>")
        return Markup("".join(parts))
