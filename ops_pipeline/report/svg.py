"""The pieces every chart is drawn with: colours, text and its width, the SVG element, legends
and round ticks. Text is escaped here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from ops_pipeline.report.danish import number

FONT = "'Liberation Sans', Arial, Helvetica, sans-serif"
INK = "#1d2433"
MUTED = "#5b6472"
GRID = "#e3e6eb"
HIGHLIGHT = "#1f4e79"
PLAIN = "#a9bfd8"
UP = "#2e7d32"
DOWN = "#c62828"
# The six-point scale: blues for the positive answers, oranges for the others, grey "Ved ikke".
SCALE_COLOURS = ("#08519c", "#3182bd", "#9ecae1", "#fdae6b", "#e6550d", "#bdbdbd")
SCALE_TEXT = ("#ffffff", "#ffffff", INK, INK, "#ffffff", INK)
CHAR_WIDTH = 0.58  # mean glyph width per px of font size (generous: DejaVu Sans is wider)


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def text(x: float, y: float, content: str, **attributes) -> str:
    attrs = " ".join(f'{k.rstrip("_").replace("_", "-")}="{v}"' for k, v in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" {attrs}>{escape(content)}</text>'


def svg(width: float, height: float, title: str, body: list[str], css_class: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="{escape(FONT)}" font-size="12" fill="{INK}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def tick_labels(ticks: Sequence[float], unit: float = 1.0) -> list[str]:
    """Tick values in ``unit`` (e.g. 1e9 for mia.) with as many decimals as their step needs."""
    step = (ticks[1] - ticks[0]) / unit if len(ticks) > 1 else 1.0
    decimals = next(d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-6 or d == 3)
    return [number(tick / unit, decimals) for tick in ticks]


def legend(entries: Sequence[tuple[str, str]], x: float, width: float) -> list[str]:
    """A one-line legend of (label, colour) swatches from ``x``, moved left to fit the width."""
    widths = [16 + text_width(label, 11) + 16 for label, _ in entries]
    x = max(0.0, min(x, width - sum(widths)))
    body = []
    for (label, colour), w in zip(entries, widths, strict=True):
        body.append(f'<rect x="{x:.1f}" y="8" width="12" height="12" fill="{colour}"/>')
        body.append(text(x + 16, 18, label, font_size=11))
        x += w
    return body


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (low ≤ 0 ≤ high), about ``count`` of them."""
    span = (high - low) or abs(high) or 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [first + k * step for k in range(round((last - first) / step) + 1)]
