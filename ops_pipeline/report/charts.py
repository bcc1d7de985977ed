"""Charts as inline SVG strings: no chart library, no script, nothing loaded from the network.

Each function draws one chart from a few already aggregated values. Text is escaped here; the
returned string is safe to put into the HTML as it is. Sizes are in px of a ``viewBox`` that
scales to the page width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from ops_pipeline.report.danish import number
from ops_pipeline.report.svg import (
    DOWN,
    GRID,
    HIGHLIGHT,
    INK,
    MUTED,
    PLAIN,
    SCALE_COLOURS,
    SCALE_TEXT,
    legend,
    nice_ticks,
    svg,
    text,
    text_width,
    tick_labels,
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    highlight: bool = False
    note: str = ""  # text in the column right of the bars (e.g. a change in rank)
    note_colour: str = MUTED
    colour: str | None = None  # instead of the highlight or plain colour


def hbar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    value_label: Callable[[float], str],
    axis_label: str,
    tick_unit: float = 1.0,
    reference: tuple[float, str] | None = None,
    note_title: str = "",
    width: int = 900,
    row_height: int = 18,
    css_class: str = "hbar",
) -> str:
    """Horizontal bars, one per row, largest first as given; negative values go left of zero.

    ``reference`` draws a dashed vertical line with its label (e.g. the benchmark); highlighted
    bars are dark, the others light; ``note`` texts form a column at the right.
    """
    label_width = max(text_width(b.label, 12) for b in bars) + 12
    note_width = max([text_width(note_title, 11) + 8] + [text_width(b.note, 12) + 8 for b in bars])
    note_width = note_width if any(b.note for b in bars) else 0
    value_width = max(text_width(value_label(b.value), 11) for b in bars) + 10
    top, bottom = 44 if reference else 30, 40
    plot_left = label_width
    plot_right = width - note_width - value_width
    values = [b.value for b in bars] + ([reference[0]] if reference else [])
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values))
    low, high = ticks[0], ticks[-1]

    def x(value: float) -> float:
        return plot_left + (value - low) / (high - low or 1) * (plot_right - plot_left)

    height = top + len(bars) * row_height + bottom
    plot_bottom = top + len(bars) * row_height
    body = []
    for tick, label in zip(ticks, tick_labels(ticks, tick_unit), strict=True):
        body.append(
            f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{plot_bottom}" '
            f'stroke="{GRID}"/>'
        )
        body.append(text(x(tick), plot_bottom + 14, label, text_anchor="middle", fill=MUTED))
    body.append(
        text(
            (plot_left + plot_right) / 2,
            plot_bottom + 32,
            axis_label,
            text_anchor="middle",
            fill=MUTED,
        )
    )
    if note_width:
        body.append(
            text(width - 4, top - 8, note_title, text_anchor="end", fill=MUTED, font_size=11)
        )
    for i, bar in enumerate(bars):
        y = top + i * row_height
        x0, x1 = sorted((x(0), x(bar.value)))
        colour = bar.colour or (HIGHLIGHT if bar.highlight else PLAIN)
        weight = "bold" if bar.highlight else "normal"
        body.append(
            text(
                plot_left - 8,
                y + row_height * 0.7,
                bar.label,
                text_anchor="end",
                font_weight=weight,
            )
        )
        body.append(
            f'<rect x="{x0:.1f}" y="{y + 2:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="{row_height - 4}" fill="{colour}"><title>{escape(bar.label)}: '
            f"{escape(value_label(bar.value))}</title></rect>"
        )
        body.append(
            text(x1 + 4, y + row_height * 0.7, value_label(bar.value), fill=MUTED, font_size=11)
        )
        if bar.note:
            body.append(
                text(
                    width - 4,
                    y + row_height * 0.7,
                    bar.note,
                    text_anchor="end",
                    fill=bar.note_colour,
                    font_weight="bold",
                )
            )
    body.append(
        f'<line x1="{x(0):.1f}" y1="{top - 4}" x2="{x(0):.1f}" y2="{plot_bottom}" stroke="{INK}"/>'
    )
    if reference:
        value, label = reference
        body.append(
            f'<line x1="{x(value):.1f}" y1="{top - 10}" x2="{x(value):.1f}" y2="{plot_bottom}" '
            f'stroke="{DOWN}" stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
        anchor = "end" if x(value) > (plot_left + plot_right) / 2 else "start"
        offset = -4 if anchor == "end" else 4
        body.append(
            text(
                x(value) + offset,
                top - 14,
                label,
                text_anchor=anchor,
                fill=DOWN,
                font_weight="bold",
            )
        )
    return svg(width, height, title, body, css_class)


def likert_chart(
    rows: Sequence[tuple[str, Sequence[int]]],
    *,
    title: str,
    labels: Sequence[str],
    width: int = 900,
    row_height: int = 30,
) -> str:
    """Diverging stacked bars over the six answers of the scale, per row (label, six counts).

    The three positive answers go right of the centre line, "I mindre grad" and "Slet ikke" left
    of it; "Ved ikke" stands apart at the right, on the same scale. Shares are of all who
    answered the row.
    """
    label_width = min(max(text_width(label, 12) for label, _ in rows) + 14, 330)
    top, bottom, gap, count_width = 56, 30, 24, 56
    shares = [[c / (sum(counts) or 1) for c in counts] for _, counts in rows]
    # Extents in steps of 20 %, "Ved ikke" in steps of 10 %.
    left_extent = max(1, math.ceil(max(s[3] + s[4] for s in shares) * 5 - 1e-9))
    right_extent = max(1, math.ceil(max(s[0] + s[1] + s[2] for s in shares) * 5 - 1e-9))
    dont_know_extent = max(0.1, math.ceil(max(s[5] for s in shares) * 10 - 1e-9) / 10)
    units = (left_extent + right_extent) / 5 + dont_know_extent
    scale = (width - label_width - gap - count_width - 34) / units
    centre = label_width + left_extent / 5 * scale
    plot_right = centre + right_extent / 5 * scale
    dont_know_left = plot_right + gap
    height = top + len(rows) * row_height + bottom
    plot_bottom = top + len(rows) * row_height
    # Legend in reading order: negative to positive, then "Ved ikke".
    body = legend([(labels[c], SCALE_COLOURS[c]) for c in (4, 3, 2, 1, 0, 5)], label_width, width)
    for step in range(-left_extent, right_extent + 1):
        tx = centre + step / 5 * scale
        body.append(
            f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{plot_bottom}" stroke="{GRID}"/>'
        )
        body.append(
            text(
                tx, top - 10, f"{abs(step) * 20} %", text_anchor="middle", fill=MUTED, font_size=11
            )
        )
    body.append(
        text(dont_know_left, top - 10, labels[5], text_anchor="start", fill=MUTED, font_size=11)
    )
    for i, ((label, counts), share) in enumerate(zip(rows, shares, strict=True)):
        y = top + i * row_height
        baseline = y + row_height * 0.62
        body.append(text(label_width - 10, baseline, label, text_anchor="end"))
        segments = [
            (3, centre - share[3] * scale),
            (4, centre - (share[3] + share[4]) * scale),
            (2, centre),
            (1, centre + share[2] * scale),
            (0, centre + (share[2] + share[1]) * scale),
            (5, dont_know_left),
        ]
        for code, left in segments:
            if counts[code] == 0:
                continue
            w = share[code] * scale
            value = f"{number(share[code] * 100)} %"
            body.append(
                f'<rect x="{left:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="{row_height - 8}" '
                f'fill="{SCALE_COLOURS[code]}"><title>{escape(label)}: {escape(labels[code])} '
                f"{counts[code]} ({value})</title></rect>"
            )
            if code == 5:
                body.append(text(left + w + 4, baseline, value, fill=MUTED, font_size=10.5))
            elif w >= 26:
                body.append(
                    text(
                        left + w / 2,
                        baseline,
                        value,
                        text_anchor="middle",
                        fill=SCALE_TEXT[code],
                        font_size=10.5,
                    )
                )
        body.append(
            text(
                width - 4,
                baseline,
                f"n = {sum(counts)}",
                text_anchor="end",
                fill=MUTED,
                font_size=11,
            )
        )
    body.append(
        f'<line x1="{centre:.1f}" y1="{top - 6}" x2="{centre:.1f}" y2="{plot_bottom}" '
        f'stroke="{INK}"/>'
    )
    body.append(
        text(
            (label_width + plot_right) / 2,
            plot_bottom + 20,
            "Andel af dem, der besvarede spørgsmålet",
            text_anchor="middle",
            fill=MUTED,
        )
    )
    return svg(width, height, title, body, "likert")


def grouped_columns(
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    title: str,
    value_label: Callable[[float], str],
    tick_unit: float = 1.0,
    axis_label: str,
    highlight: tuple[int, int] | None = None,
    highlight_label: str = "",
    width: int = 900,
    height: int = 340,
) -> str:
    """Columns grouped by category, one per series (name, colour, one value per category).

    ``highlight`` = (series index, category index) outlines that column and labels it below.
    """
    left, right, top, bottom = 70, 10, 48, 56
    values = [v for _, _, vs in series for v in vs]
    ticks = nice_ticks(min(0.0, *values), max(values) * 1.08)
    low, high = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return top + (high - value) / (high - low or 1) * (height - top - bottom)

    group_width = (width - left - right) / len(categories)
    column = group_width * 0.8 / len(series)
    body = legend([(name, colour) for name, colour, _ in series], left, width)
    for tick, label in zip(ticks, tick_labels(ticks, tick_unit), strict=True):
        body.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(text(left - 6, y(tick) + 4, label, text_anchor="end", fill=MUTED))
    body.append(
        f'<text transform="translate(14 {(top + height - bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="{MUTED}">{escape(axis_label)}</text>'
    )
    for c, category in enumerate(categories):
        group_left = left + c * group_width + group_width * 0.1
        body.append(
            text(
                left + (c + 0.5) * group_width,
                height - bottom + 34,
                category,
                text_anchor="middle",
                font_weight="bold",
            )
        )
        for s, (name, colour, vs) in enumerate(series):
            cx = group_left + s * column
            y0, y1 = sorted((y(0), y(vs[c])))
            outline = highlight == (s, c)
            stroke = f' stroke="{INK}" stroke-width="2.5"' if outline else ""
            body.append(
                f'<rect x="{cx + 1:.1f}" y="{y0:.1f}" width="{column - 2:.1f}" '
                f'height="{max(y1 - y0, 0.5):.1f}" fill="{colour}"{stroke}><title>'
                f"{escape(name)}, {escape(category)}: {escape(value_label(vs[c]))}</title></rect>"
            )
            if outline:
                body.append(
                    text(
                        cx + column / 2,
                        y(0) + 15,
                        f"▲ {highlight_label}",
                        text_anchor="middle",
                        font_weight="bold",
                        font_size=11,
                    )
                )
    body.append(
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}" stroke="{INK}"/>'
    )
    return svg(width, height, title, body, "columns")


def ranking_strip(
    values: Sequence[float],
    highlighted: int,
    benchmark: float,
    *,
    title: str,
    benchmark_label: str,
    width: int = 640,
    height: int = 220,
) -> str:
    """A compact column per municipality, in the given (descending) order: the first
    ``highlighted`` dark, a dashed line at the benchmark. For the summary in the Dagster UI."""
    left, right, top, bottom = 56, 8, 24, 26
    ticks = nice_ticks(min(0.0, *values), max(*values, benchmark))
    low, high = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return top + (high - value) / (high - low or 1) * (height - top - bottom)

    step = (width - left - right) / len(values)
    body = [
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for tick in ticks:
        body.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(
            text(
                left - 6,
                y(tick) + 4,
                f"{number(tick)} kr.",
                text_anchor="end",
                fill=MUTED,
                font_size=10,
            )
        )
    for i, value in enumerate(values):
        y0, y1 = sorted((y(0), y(value)))
        colour = HIGHLIGHT if i < highlighted else PLAIN
        body.append(
            f'<rect x="{left + i * step + 0.5:.1f}" y="{y0:.1f}" width="{max(step - 1, 0.5):.1f}" '
            f'height="{max(y1 - y0, 0.5):.1f}" fill="{colour}"/>'
        )
    body.append(
        f'<line x1="{left}" y1="{y(benchmark):.1f}" x2="{width - right}" y2="{y(benchmark):.1f}" '
        f'stroke="{DOWN}" stroke-width="1.5" stroke-dasharray="5 3"/>'
    )
    body.append(
        text(
            width - right,
            y(benchmark) - 5,
            benchmark_label,
            text_anchor="end",
            fill=DOWN,
            font_weight="bold",
            font_size=11,
        )
    )
    body.append(
        text(
            (left + width - right) / 2,
            height - 8,
            f"De {len(values)} kommuner, fra flest til færrest kr. pr. indbygger",
            text_anchor="middle",
            fill=MUTED,
            font_size=11,
        )
    )
    return svg(width, height, title, body, "strip")
