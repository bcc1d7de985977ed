"""The annual analysis of one budget year as one self-contained HTML page, and a Markdown
summary of every year for the Dagster UI."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ops_pipeline.report import charts, data, svg
from ops_pipeline.report.danish import (
    billions,
    headline_billions,
    kroner,
    millions,
    number,
    percent,
)
from ops_pipeline.schemas import HEADLINE_METHOD, HEADLINE_TOP_N

TEMPLATES = Path(__file__).parent / "templates"
METHODS = {
    "gap": "Løft til benchmark",
    "gap_weighted": "Løft til benchmark, befolkningsvægtet",
    "level": "Benchmark for alle",
    "level_weighted": "Benchmark for alle, befolkningsvægtet",
}
METHOD_COLOURS = {
    "gap": svg.HIGHLIGHT,
    "gap_weighted": "#6a9fd4",
    "level": "#b35a1f",
    "level_weighted": "#eab08a",
}
GROUPINGS = {"region": "Inden for regionen", "size_band": "Inden for størrelsesgruppen"}
PEER_TOP_N = (3, 5)
MOVERS = 10  # the largest rises and falls in rank shown apart


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        number=number, kroner=kroner, millions=millions, billions=billions, percent=percent
    )
    return env


def report_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The budget years with a report: every year of marts.municipal_savings."""
    return data.budget_years(con)


def _headline(potentials: Sequence[data.Potential]) -> data.Potential:
    return next(p for p in potentials if p.method == HEADLINE_METHOD and p.top_n == HEADLINE_TOP_N)


def _gap_range(potentials: Sequence[data.Potential]) -> tuple[float, float]:
    """The headline's range: gap, unweighted and weighted, over every benchmark size."""
    gaps = [p.potential_dkk for p in potentials if p.method.startswith("gap")]
    return min(gaps), max(gaps)


def _rank_note(change: int | None) -> tuple[str, str]:
    if change is None:
        return "", svg.MUTED
    if change > 0:
        return f"▲ {change}", svg.UP
    if change < 0:
        return f"▼ {-change}", svg.DOWN
    return "=", svg.MUTED


def _places(change: float) -> str:
    """A change in rank: "+1 plads", "-3 pladser"."""
    return (
        f"{'+' if change > 0 else ''}{number(change)} {'plads' if abs(change) == 1 else 'pladser'}"
    )


def _survey_section(con: duckdb.DuckDBPyConnection, survey_year: int) -> dict:
    answers = data.scale_answers(con, survey_year)
    questions = []
    # One chart per question: a matrix question's items together, largest potential first.
    for question, variables in groupby(
        sorted(answers, key=lambda a: (a.question, a.variable)), key=lambda a: a.question
    ):
        items = sorted(variables, key=lambda a: (-(a.share_positive or 0), a.variable))
        rows = [(a.item or "Alle besvarelser", a.counts) for a in items]
        chart = charts.likert_chart(
            rows, title=f"Svar på spørgsmålet: {question}", labels=data.SCALE
        )
        questions.append(
            {"text": question, "chart": Markup(chart), "first": min(a.variable for a in items)}
        )
    questions.sort(key=lambda q: q["first"])
    single = [a for a in answers if a.item is None]
    matrix = sorted(
        (a for a in answers if a.item is not None), key=lambda a: -(a.share_positive or 0)
    )
    return {
        "response": data.response(con, survey_year),
        "questions": questions,
        "single": single,
        "top_item": matrix[0] if matrix else None,
    }


def _ranking_section(
    con: duckdb.DuckDBPyConnection, year: int, benchmark: float
) -> tuple[dict, list[data.Municipality]]:
    municipalities = data.ranking(con, year)
    previous = data.has_budget_year(con, year - 1)
    bars = []
    for m in municipalities:
        note, colour = _rank_note(m.rank_change)
        bars.append(
            charts.Bar(
                f"{m.rank}. {m.name}",
                m.per_inhabitant,
                highlight=m.in_benchmark,
                note=note,
                note_colour=colour,
            )
        )
    chart = charts.hbar_chart(
        bars,
        title=f"De {len(municipalities)} kommuner efter budgetterede effektiviseringer pr. "
        f"indbygger, budget {year}",
        value_label=kroner,
        axis_label="kr. pr. indbygger (ved fuld indfasning)",
        reference=(benchmark, f"Benchmark, gns. af top {HEADLINE_TOP_N}: {kroner(benchmark)}"),
        note_title=f"Ift. {year - 1}" if previous else "",
        row_height=16,
        css_class="hbar ranking",
    )
    movers_chart = None
    if previous:
        changed = [m for m in municipalities if m.rank_change]
        ups = sorted((m for m in changed if m.rank_change > 0), key=lambda m: -m.rank_change)
        downs = sorted((m for m in changed if m.rank_change < 0), key=lambda m: m.rank_change)
        movers = ups[:MOVERS] + downs[:MOVERS][::-1]
        if movers:
            movers_chart = charts.hbar_chart(
                [
                    charts.Bar(
                        f"{m.name} ({m.rank + m.rank_change} → {m.rank})",
                        m.rank_change,
                        colour=svg.UP if m.rank_change > 0 else svg.DOWN,
                    )
                    for m in movers
                ],
                title=f"Største ændringer i placering fra budget {year - 1} til {year}",
                value_label=_places,
                axis_label="Pladser op (+) eller ned (−) på ranglisten",
                css_class="hbar movers",
            )
    section = {
        "chart": Markup(chart),
        "previous": previous,
        "movers_chart": Markup(movers_chart) if movers_chart else None,
        "unchanged": sum(1 for m in municipalities if m.rank_change == 0),
    }
    return section, municipalities


def _measure_section(con: duckdb.DuckDBPyConnection, year: int) -> dict:
    measures = data.measures(con, year)
    chart = None
    if measures:
        chart = charts.hbar_chart(
            [charts.Bar(m.measure_type, m.savings_dkk, colour=svg.HIGHLIGHT) for m in measures],
            title=f"Kvalificerende effektiviseringer efter tiltagstype, budget {year}",
            value_label=millions,
            tick_unit=1e6,
            axis_label="mio. kr. årligt (ved fuld indfasning)",
            row_height=24,
            css_class="hbar measures",
        )
    return {"rows": measures, "chart": Markup(chart) if chart else None}


def _sensitivity_section(potentials: Sequence[data.Potential], year: int) -> dict:
    sizes = sorted({p.top_n for p in potentials})
    by_key = {(p.method, p.top_n): p for p in potentials}
    methods = [m for m in METHODS if any(p.method == m for p in potentials)]
    chart = charts.grouped_columns(
        [f"Top {n}" for n in sizes],
        [
            (METHODS[m], METHOD_COLOURS[m], [by_key[m, n].potential_dkk for n in sizes])
            for m in methods
        ],
        title=f"Potentialet efter metode og benchmarkgruppens størrelse, budget {year}",
        value_label=billions,
        tick_unit=1e9,
        axis_label="mia. kr. årligt",
        highlight=(methods.index(HEADLINE_METHOD), sizes.index(HEADLINE_TOP_N)),
        highlight_label="Hovedtal",
    )
    rows = [
        {"method": METHODS[m], "key": m, "cells": [by_key[m, n] for n in sizes]} for m in methods
    ]
    return {"chart": Markup(chart), "sizes": sizes, "rows": rows}


def _peer_section(
    con: duckdb.DuckDBPyConnection, year: int, headline: data.Potential
) -> dict | None:
    groups = [g for g in data.peer_groups(con, year) if g.method == "gap"]
    if not groups:
        return None
    totals = {}
    tables = []
    for grouping, rows in groupby(groups, key=lambda g: g.grouping):
        rows = list(rows)
        by_group: dict[str, dict] = {}
        for g in rows:
            entry = by_group.setdefault(
                g.peer_group, {"peer_group": g.peer_group, "members": g.members}
            )
            entry[g.top_n] = g
            totals[grouping, g.top_n] = totals.get((grouping, g.top_n), 0.0) + g.potential_dkk
        tables.append(
            {
                "title": GROUPINGS.get(grouping, grouping),
                "grouping": grouping,
                "groups": list(by_group.values()),
                "totals": {n: totals.get((grouping, n), 0.0) for n in PEER_TOP_N},
            }
        )
    bars = [
        charts.Bar(
            f"Landsplan: top {HEADLINE_TOP_N} (hovedtal)",
            headline.potential_dkk,
            highlight=True,
        )
    ] + [
        charts.Bar(f"{GROUPINGS.get(grouping, grouping)}: bedste {n}", total)
        for (grouping, n), total in totals.items()
    ]
    chart = charts.hbar_chart(
        bars,
        title=f"Potentiale hvis alle matchede de bedste blandt deres ligemænd, budget {year}",
        value_label=billions,
        tick_unit=1e9,
        axis_label="mia. kr. årligt",
        row_height=28,
        css_class="hbar peers",
    )
    return {"chart": Markup(chart), "tables": tables, "top_n": PEER_TOP_N}


def render_analysis(con: duckdb.DuckDBPyConnection, year: int) -> str:
    """The analysis of budget ``year`` (with the survey that goes with it) as one HTML page."""
    potentials = data.potentials(con, year)
    headline = _headline(potentials)
    low, high = _gap_range(potentials)
    survey_year = data.survey_year_for(con, year)
    ranking, municipalities = _ranking_section(con, year, headline.benchmark_per_inhabitant)
    context = {
        "year": year,
        "survey_year": survey_year,
        "survey": _survey_section(con, survey_year) if survey_year is not None else None,
        "overview": data.overview(con, year),
        "headline": headline,
        "headline_text": headline_billions(headline.potential_dkk),
        "range": (low, high),
        "top": municipalities[0],
        "municipalities": len(municipalities),
        "benchmark_group": [m for m in municipalities if m.in_benchmark],
        "top_n": HEADLINE_TOP_N,
        "ranking": ranking,
        "measures": _measure_section(con, year),
        "sensitivity": _sensitivity_section(potentials, year),
        "peers": _peer_section(con, year, headline),
        "quality": data.quality_status(con),
        "methods": METHODS,
    }
    return _environment().get_template("analysis.html").render(context)


def key_chart(con: duckdb.DuckDBPyConnection, year: int) -> str:
    """The ranking of the 98 with the benchmark group highlighted, compact, as SVG."""
    municipalities = data.ranking(con, year)
    headline = _headline(data.potentials(con, year))
    return charts.ranking_strip(
        [m.per_inhabitant for m in municipalities],
        sum(m.in_benchmark for m in municipalities),
        headline.benchmark_per_inhabitant,
        title=f"Budgetterede effektiviseringer pr. indbygger, budget {year}",
        benchmark_label=f"benchmark {kroner(headline.benchmark_per_inhabitant)}",
    )


def summary_markdown(con: duckdb.DuckDBPyConnection, years: Sequence[int]) -> str:
    """The headline of each year, the key chart as an SVG image (data URI: the Dagster UI's
    Markdown shows it) and the sensitivity of the headline as a table."""
    parts = []
    for year in years:
        potentials = data.potentials(con, year)
        headline = _headline(potentials)
        low, high = _gap_range(potentials)
        top = data.ranking(con, year)[0]
        overview = data.overview(con, year)
        survey_year = data.survey_year_for(con, year)
        survey = ""
        if survey_year is not None:
            rate = data.response(con, survey_year).response_rate
            survey = f" · rundspørge {survey_year}: svarprocent {percent(rate)}"
        image = base64.b64encode(key_chart(con, year).encode()).decode()
        sizes = sorted({p.top_n for p in potentials})
        by_key = {(p.method, p.top_n): p.potential_dkk for p in potentials}
        table = [
            "| mia. kr. årligt | " + " | ".join(f"top {n}" for n in sizes) + " |",
            "|---|" + "---:|" * len(sizes),
        ]
        for method, label in METHODS.items():
            cells = [
                f"**{number(by_key[method, n] / 1e9, 2)}**"
                if (method, n) == (HEADLINE_METHOD, HEADLINE_TOP_N)
                else number(by_key[method, n] / 1e9, 2)
                for n in sizes
                if (method, n) in by_key
            ]
            table.append(f"| {label} | " + " | ".join(cells) + " |")
        parts += [
            f"### Budget {year}",
            f"Potentiale hvis alle kommuner matchede top {HEADLINE_TOP_N}: "
            f"**{headline_billions(headline.potential_dkk)} årligt** "
            f"({billions(headline.potential_dkk)}; spænd {number(low / 1e9, 2)}–"
            f"{number(high / 1e9, 2)} mia. kr.)",
            "",
            f"Flest pr. indbygger: **{top.name}, {kroner(top.per_inhabitant)}** · "
            f"{number(overview.qualifying_proposals)} kvalificerende forslag{survey}",
            "",
            f"![Budgetterede effektiviseringer pr. indbygger, budget {year}]"
            f"(data:image/svg+xml;base64,{image})",
            "",
            *table,
            "",
        ]
    return "\n".join(parts)
