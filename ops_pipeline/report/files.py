"""The annual reports as files of a publication: ``reports/analysis_<budget_year>.html``, rendered
from the publication's own warehouse (its marts and this run's ``audit`` schema), never from the
working database: what a report shows is what BI tools read beside it."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ops_pipeline.faults import fault_point
from ops_pipeline.report.analysis import render_analysis, report_years, summary_markdown

REPORT_PREFIX = "analysis_"
# Every mart the report reads (report.data), and nothing else of the warehouse but ``audit``.
REPORT_MARTS = (
    "idebank_overview",
    "municipal_savings",
    "savings_by_measure",
    "savings_potential",
    "savings_potential_by_group",
    "survey_answer_counts",
    "survey_potential",
    "survey_response",
)


def report_name(budget_year: int) -> str:
    return f"{REPORT_PREFIX}{budget_year}.html"


def missing_marts(warehouse: Path) -> list[str]:
    """The marts of :data:`REPORT_MARTS` that ``warehouse`` lacks (an older publication's)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        present = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
            ).fetchall()
        }
    return [f"marts.{name}" for name in REPORT_MARTS if name not in present]


def write_reports(warehouse: Path, folder: Path) -> tuple[dict[int, Path], str]:
    """Render one report per budget year of ``warehouse`` into ``folder`` (created; publishing
    makes the files durable). Returns the files by budget year and the Markdown summary the
    Dagster UI shows."""
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        years = report_years(con)
        paths = {}
        for year in years:
            paths[year] = folder / report_name(year)
            paths[year].write_text(render_analysis(con, year), encoding="utf-8")
            fault_point("report")
        summary = summary_markdown(con, years)
    return paths, summary
