"""The annual report: the sensitivity rows and the peer-group mart against hand-computed values on
the small lake of tests/lakes.py, Danish numbers, the report of the sample lake with the published
figures, and the report as headless Chromium renders it, offline.

Small lake, budget 2021 (see test_marts.py): population København (101) 100,000, Frederiksberg
(147) 50,000, Frederikssund (250) 20,000, the other 95 municipalities 10,000 (1,120,000 in all);
savings per inhabitant 101: 15.0, 250: 15.0, 147: 5.01, Aarhus (751): 1.0, the other 94: 0.
Their savings: 101 1,500,000, 250 300,000, 147 250,500, 751 10,000: 2,060,500 in all.
Here the lake also has a budget 2020, for the change in rank (no survey goes with it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from browser import launch
from lakes import SMALL_POPULATION, small_lake, write_folk1a, write_idebank_csv
from sessions import built_once

from ops_pipeline.cli import failure_message
from ops_pipeline.lake import Lake
from ops_pipeline.refresh import refresh
from ops_pipeline.report import data, render_analysis
from ops_pipeline.report.danish import (
    billions,
    headline_billions,
    kroner,
    millions,
    number,
    percent,
)

# scripts/screenshots sets OPS_SCREENSHOTS=docs/ to refresh the README's images; tests alone
# never write into the checkout.
SCREENSHOTS = os.environ.get("OPS_SCREENSHOTS")
POPULATION_98 = 1_120_000
SAVINGS_2021 = 2_060_500

# Budget 2020: Aarhus 50,000 / 10,000 = 5.0 per inhabitant (rank 1), København 100,000 /
# 100,000 = 1.0 (rank 2), the other 96 0 (rank 3).
IDEBANK_2020 = [
    ["Q1", "751", "Aarhus", "2020", "Genbrug", "", "Teknik og miljø", "Indkøb og udbud"]
    + ["0", "0", "-25", "-50", "Ja", "Nej"],
    ["Q2", "101", "København", "2020", "Fælles lønkontor", "", "Administration", "Organisering"]
    + ["0", "0", "0", "-100", "Ja", "Nej"],
]


def run_refresh(lake: Path) -> dg.ExecuteInProcessResult:
    # In memory: the report reads the lake, not the run's records.
    with dg.DagsterInstance.ephemeral() as instance:
        result = refresh(Lake(lake), instance)
    assert result.success, failure_message(result)
    return result


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small lake with budget 2020 added, refreshed once for the session's workers: (lake,
    a connection to its published warehouse, all the report reads)."""

    def build(folder: Path) -> None:
        lake = small_lake(folder / "lake")
        write_folk1a(
            lake / "landing" / "population" / "folk1a.csv",
            {"2020K1": SMALL_POPULATION["2021K1"], **SMALL_POPULATION},
        )
        write_idebank_csv(lake / "landing/idebank/2020/extract.csv", 2020, IDEBANK_2020)
        run_refresh(lake)

    lake = built_once(tmp_path_factory, "report_small", build) / "lake"
    con = duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True)
    yield lake, con
    con.close()


@pytest.fixture(scope="module")
def warehouse(small):
    lake, _ = small
    con = duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_savings_potential_weighted(warehouse):
    # The weighted benchmark is Σ savings / Σ population of the top_n, ordered 101, 250, 147,
    # 751, then zeros by code: every top_n ≥ 5 holds all 2,060,500 kr. of savings, and the
    # population of the top 4 (180,000) plus 10,000 per further member.
    top_population = {5: 190_000, 10: 240_000, 15: 290_000, 20: 340_000}
    expected = {}
    for n, population in top_population.items():
        benchmark = SAVINGS_2021 / population  # top 5: 10.8447…, top 10: 8.5854…
        # 101 and 250 (15.0) are above every weighted benchmark; 147 (5.01) and 751 (1.0) are
        # below each: (b − 5.01) × 50,000 + (b − 1) × 10,000 + 94 × b × 10,000
        # = b × 1,000,000 − 260,500; top 5: 10,584,236.84…, top 10: 8,324,916.67…
        gap = (benchmark - 5.01) * 50_000 + (benchmark - 1.0) * 10_000 + 94 * benchmark * 10_000
        assert gap == pytest.approx(benchmark * 1_000_000 - 260_500, rel=1e-12)
        expected["gap_weighted", n] = (benchmark, gap)
        expected["level_weighted", n] = (benchmark, benchmark * POPULATION_98)
    got = {
        (method, top_n): (benchmark, potential)
        for method, top_n, benchmark, potential in warehouse.execute(
            "SELECT method, top_n, benchmark_per_inhabitant, potential_dkk "
            "FROM marts.savings_potential WHERE budget_year = 2021 AND method LIKE '%_weighted'"
        ).fetchall()
    }
    assert got.keys() == expected.keys()
    for key, (benchmark, potential) in expected.items():
        assert got[key] == (
            pytest.approx(benchmark, rel=1e-12),
            pytest.approx(potential, rel=1e-12),
        )
    # Top 10 written out: 2,060,500 / 240,000 = 8.585416…; 8,585,416.67 − 260,500.
    assert got["gap_weighted", 10][1] == pytest.approx(8_324_916.666_666_667, rel=1e-12)
    assert got["level_weighted", 10][1] == pytest.approx(9_615_666.666_666_667, rel=1e-12)


def test_savings_potential_has_every_method_and_size(warehouse):
    keys = warehouse.execute(
        "SELECT method, list(top_n ORDER BY top_n) FROM marts.savings_potential "
        "WHERE budget_year = 2021 GROUP BY method ORDER BY method"
    ).fetchall()
    assert keys == [
        (method, [5, 10, 15, 20]) for method in ("gap", "gap_weighted", "level", "level_weighted")
    ]


# Peer groups of 2021, by hand. Columns: group, method, top_n, members, benchmark, potential.
# Region Hovedstaden (29 members, 430,000 inhabitants): 101 15.0, 250 15.0, 147 5.01, 26 zeros.
#   top 3: benchmark 35.01 / 3 = 11.67; gap: 147 6.66 × 50,000 + 26 × 116,700 = 3,367,200;
#          level 11.67 × 430,000 = 5,018,100.
#   top 5: benchmark 35.01 / 5 = 7.002; gap: 147 1.992 × 50,000 + 26 × 70,020 = 1,920,120;
#          level 7.002 × 430,000 = 3,010,860.
# Region Midtjylland (19 members, 190,000): 751 1.0 and 18 zeros.
#   top 3: benchmark 1/3; gap 18 × 10,000 / 3 = 60,000; level 190,000 / 3.
#   top 5: benchmark 0.2; gap 18 × 2,000 = 36,000; level 38,000.
# Nordjylland (11), Sjælland (17), Syddanmark (22): no savings, all zero.
# Size bands on 1 January 2021: under 20.000: the 95 municipalities of 10,000 (751 and 94
# zeros); 20.000–49.999: 250 alone; 50.000–99.999: 147 alone; 100.000 og derover: 101 alone. A
# group smaller than top_n takes all its members: the benchmark is its one member, gap 0.
#   under 20.000, top 3: benchmark 1/3; gap 94 × 10,000 / 3; level 950,000 / 3.
#   under 20.000, top 5: benchmark 0.2; gap 94 × 2,000 = 188,000; level 190,000.
PEER_GROUPS = [
    ("region", "Region Hovedstaden", 29, {3: 35.01 / 3, 5: 35.01 / 5}, 430_000),
    ("region", "Region Midtjylland", 19, {3: 1 / 3, 5: 0.2}, 190_000),
    ("region", "Region Nordjylland", 11, {3: 0.0, 5: 0.0}, 110_000),
    ("region", "Region Sjælland", 17, {3: 0.0, 5: 0.0}, 170_000),
    ("region", "Region Syddanmark", 22, {3: 0.0, 5: 0.0}, 220_000),
    ("size_band", "under 20.000", 95, {3: 1 / 3, 5: 0.2}, 950_000),
    ("size_band", "20.000–49.999", 1, {3: 15.0, 5: 15.0}, 20_000),
    ("size_band", "50.000–99.999", 1, {3: 5.01, 5: 5.01}, 50_000),
    ("size_band", "100.000 og derover", 1, {3: 15.0, 5: 15.0}, 100_000),
]
PEER_GAPS = {
    ("Region Hovedstaden", 3): 3_367_200,
    ("Region Hovedstaden", 5): 1_920_120,
    ("Region Midtjylland", 3): 60_000,
    ("Region Midtjylland", 5): 36_000,
    ("under 20.000", 3): 94 * 10_000 / 3,
    ("under 20.000", 5): 188_000,
}


def test_savings_potential_by_group(warehouse):
    expected = []
    for grouping, group, members, benchmarks, population in PEER_GROUPS:
        for method in ("gap", "level"):
            for n in (3, 5):
                potential = (
                    PEER_GAPS.get((group, n), 0.0)
                    if method == "gap"
                    else benchmarks[n] * population
                )
                expected.append((grouping, group, method, n, members, benchmarks[n], potential))
    got = warehouse.execute(
        "SELECT grouping, peer_group, method, top_n, members, benchmark_per_inhabitant, "
        "potential_dkk FROM marts.savings_potential_by_group WHERE budget_year = 2021 "
        "ORDER BY grouping, group_order, method, top_n"
    ).fetchall()
    # group_order gives the reading order: regions by name, size bands from small to large.
    assert [row[:5] for row in got] == [row[:5] for row in expected]
    for row, want in zip(got, expected, strict=True):
        assert row[5:] == (pytest.approx(want[5], rel=1e-12), pytest.approx(want[6], rel=1e-12))
    # Hovedstaden by hand, as written above.
    assert got[0][5:] == (pytest.approx(11.67, rel=1e-12), pytest.approx(3_367_200, rel=1e-12))


def test_savings_potential_by_group_columns(warehouse):
    columns = warehouse.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'marts' AND table_name = 'savings_potential_by_group' "
        "ORDER BY ordinal_position"
    ).fetchall()
    assert columns == [
        ("budget_year", "INTEGER"),
        ("grouping", "VARCHAR"),
        ("peer_group", "VARCHAR"),
        ("method", "VARCHAR"),
        ("top_n", "INTEGER"),
        ("members", "INTEGER"),
        ("benchmark_per_inhabitant", "DOUBLE"),
        ("potential_dkk", "DOUBLE"),
        ("group_order", "INTEGER"),
    ]


@pytest.mark.parametrize(
    ("formatted", "expected"),
    [
        (number(1_234_567.891, 2), "1.234.567,89"),
        (number(-1_250.5, 1), "-1.250,5"),
        (number(-0.004, 2), "0,00"),
        (number(999.5), "1.000"),
        (kroner(594.3), "594 kr."),
        (kroner(45_439), "45.439 kr."),
        (millions(26_912_000), "26,9 mio. kr."),
        (billions(2_154_321_000), "2,15 mia. kr."),
        (percent(0.8265), "83 pct."),
        (percent(0.5, 1), "50,0 pct."),
        (headline_billions(2.16e9), "mere end 2,1 mia. kr."),
        (headline_billions(2_199_999_999), "mere end 2,1 mia. kr."),
        (headline_billions(2.1e9), "2,1 mia. kr."),
        (headline_billions(987_000_000), "mere end 0,9 mia. kr."),
    ],
)
def test_danish_numbers(formatted, expected):
    assert formatted == expected


def test_survey_goes_with_the_budget_year_before(small):
    _, con = small
    # The CEO survey of spring 2022 goes with budget 2021; none is early enough for 2020.
    assert data.survey_year_for(con, 2021) == 2022
    assert data.survey_year_for(con, 2020) is None


def test_scale_answers_per_code(small):
    _, con = small
    # Respondents who responded: R1, R2, R3 (R4 dropped out). Codes 1–6 in the scale's order.
    # s_1: 1, 3, 5.  s_2_1: 2, 1 (R3 blank).  s_2_2: 6, 4, 3.
    got = {a.variable: (a.answered, a.counts) for a in data.scale_answers(con, 2022)}
    assert got == {
        "s_1": (3, (1, 0, 1, 0, 1, 0)),
        "s_2_1": (2, (1, 1, 0, 0, 0, 0)),
        "s_2_2": (3, (0, 0, 1, 1, 0, 1)),
    }


def test_rank_change_since_the_previous_budget_year(small):
    _, con = small
    # 2020 ranks: 751 1, 101 2, the rest 3.  2021: 101 1, 250 1, 147 3, 751 4, the rest 5.
    ranking = data.ranking(con, 2021)
    changes = {m.code: m.rank_change for m in ranking}
    assert [m.code for m in ranking[:4]] == [101, 250, 147, 751]
    assert (changes[101], changes[250], changes[147], changes[751]) == (1, 2, 0, -3)
    assert {changes[m.code] for m in ranking[4:]} == {-2}
    # The benchmark group: the first 10 in the contract's order (ties broken by code).
    assert [m.in_benchmark for m in ranking] == [True] * 10 + [False] * 88
    assert all(m.rank_change is None for m in data.ranking(con, 2020))


def test_reports_of_the_small_lake(small):
    lake, con = small
    report_2021 = (lake / "reports" / "analysis_2021.html").read_text(encoding="utf-8")
    report_2020 = (lake / "reports" / "analysis_2020.html").read_text(encoding="utf-8")
    # gap, top 10: 3,410,950 kr. (test_marts) → rounded down: 0,0 mia. with more cut off.
    assert "mere end 0,0 mia. kr. årligt" in report_2021
    assert "Ændring i placering siden budget 2020" in report_2021
    assert 'class="chart hbar movers"' in report_2021
    assert "▲ 2" in report_2021 and "▼ 3" in report_2021  # Frederikssund, Aarhus
    assert "Der er ingen Idébank for budget 2019 at sammenligne med." in report_2020
    assert "Der er ingen rundspørge fra 2021 eller tidligere." in report_2020
    assert "Region Hovedstaden" in report_2021 and "100.000 og derover" in report_2021


def test_quality_status_without_results(small):
    # The marts without the warehouse's audit schema: the report says it has no results.
    lake, _ = small
    con = duckdb.connect()
    con.execute(f"ATTACH '{lake / 'warehouse.duckdb'}' AS published (READ_ONLY)")
    con.execute("CREATE SCHEMA marts")
    for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'published' "
        "AND schema_name = 'marts'"
    ).fetchall():
        con.execute(f"CREATE TABLE marts.{name} AS FROM published.marts.{name}")
    con.execute("DETACH published")
    assert data.quality_status(con) is None
    assert "Ingen kontrolresultater" in render_analysis(con, 2021)


def test_quality_status_of_the_latest_run():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA audit")
    con.execute(
        "CREATE TABLE audit.validation_results (run_id VARCHAR, asset VARCHAR, partition "
        "VARCHAR, expectation VARCHAR, success BOOLEAN, element_count BIGINT, unexpected_count "
        "BIGINT, checked_at TIMESTAMP)"
    )
    assert data.quality_status(con) is None
    con.execute(
        """INSERT INTO audit.validation_results VALUES
           ('old', 'marts/x', NULL, 'expect_a', false, 10, 3, '2026-01-01 10:00'),
           ('new', 'marts/x', NULL, 'expect_a', true, 10, 0, '2026-01-02 10:00'),
           ('new', 'staged/y', '2021', 'expect_b', false, 98, 2, '2026-01-02 10:01'),
           ('new', 'staged/y', '2021', 'expect_c', true, 98, 0, '2026-01-02 10:01')"""
    )
    status = data.quality_status(con)
    assert (status.run_id, status.passed, status.failed) == ("new", 2, 1)
    assert status.failures == (data.Failure("staged/y", "2021", "expect_b", 2, 98),)


# --- The sample lake: the published analysis as a report ------------------------------------


@pytest.fixture(scope="module")
def sample(sample_lake):
    """The session's sample lake (conftest.py): (lake, the metadata its run recorded for the
    report asset)."""
    lake, home, _ = sample_lake
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (record,) = instance.fetch_materializations(
            dg.AssetKey(["reports", "analysis"]), limit=2
        ).records  # the instance holds the one run
    return lake, record.asset_materialization.metadata


@pytest.mark.slow
def test_sample_report_shows_the_published_figures(sample):
    lake, _ = sample
    html = (lake / "reports" / "analysis_2021.html").read_text(encoding="utf-8")
    text = " ".join(html.split())  # as read: line breaks of the template are spaces
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        (frederikssund,) = con.execute(
            "SELECT savings_per_inhabitant FROM marts.municipal_savings "
            "WHERE budget_year = 2021 AND municipality = 'Frederikssund' AND rank = 1"
        ).fetchone()
    assert 570 <= frederikssund < 600  # "knap 600 kr."
    for figure in (
        "mere end 2,1 mia. kr. årligt",  # gap, top 10, in (2.1e9, 2.2e9)
        f'{kroner(frederikssund)}</div> <div class="label">pr. indbygger i Frederikssund',
        "81 af 98",
        "svarede (83 pct.)",
        "66 svarede på hele spørgeskemaet (67 pct.)",
        "97 pct.",  # digitalisation and new technology
        "De 98 kommuner efter effektiviseringer pr. indbygger",
        "Furesø",
        "Hørsholm",
        "Billund",
        "Potentiale hvis alle matchede de bedste blandt deres ligemænd",
        "Der er ingen Idébank for budget 2020 at sammenligne med.",
    ):
        assert figure in text
    # The data-quality status of the run that published it, from the warehouse's audit schema.
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        (checks, passed) = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE success) FROM audit.validation_results"
        ).fetchone()
    assert checks == passed > 50
    assert f"Alle {checks} kontroller bestået" in text
    # Self-contained: nothing to fetch (the SVG namespace is a name, not a request).
    for external in ("<script", "<link", " src=", "url(", "https://", "@import"):
        assert external not in html


@pytest.mark.slow
def test_sample_report_metadata(sample):
    lake, metadata = sample
    assert metadata["paths"].value == {"2021": str(lake / "reports" / "analysis_2021.html")}
    summary = metadata["summary"].value
    assert "**mere end 2,1 mia. kr. årligt**" in summary
    assert "](data:image/svg+xml;base64," in summary
    assert "| Løft til benchmark |" in summary
    # Written atomically: no temporary file is left behind.
    assert sorted(p.name for p in (lake / "reports").iterdir()) == ["analysis_2021.html"]


@pytest.mark.slow
def test_report_renders_offline_in_chromium(sample, tmp_path):
    """Headless Chromium opens the file with every network request refused, and every chart is
    drawn with marks; the screenshots go to the test folder (and to $OPS_SCREENSHOTS)."""
    from playwright.sync_api import sync_playwright

    lake, _ = sample
    report = lake / "reports" / "analysis_2021.html"
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1800})

            def offline(route):
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    requests.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report.as_uri(), wait_until="load")
            charts = page.evaluate(
                """() => [...document.querySelectorAll('svg.chart')].map(svg => {
                       const box = svg.getBoundingClientRect();
                       return {cls: svg.getAttribute('class'), width: box.width,
                               height: box.height, rects: svg.querySelectorAll('rect').length,
                               texts: svg.querySelectorAll('text').length};
                   })"""
            )
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            # The README shows the top of the report: headline, survey and the ranking's start.
            page.screenshot(path=str(tmp_path / "report_top.png"))
        finally:
            browser.close()
    assert requests == [] and errors == []
    kinds = {c["cls"] for c in charts}
    assert {
        "chart likert",
        "chart hbar ranking",
        "chart hbar measures",
        "chart columns",
        "chart hbar peers",
    } <= kinds
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["rects"] > 0 and chart["texts"] > 0, chart
    ranking = next(c for c in charts if c["cls"] == "chart hbar ranking")
    assert ranking["rects"] == 98
    assert (tmp_path / "report.png").stat().st_size > 50_000
    assert (tmp_path / "report_top.png").stat().st_size > 20_000
    if SCREENSHOTS:
        shutil.copyfile(tmp_path / "report_top.png", Path(SCREENSHOTS) / "report_screenshot.png")
