"""The annual analysis as a report people look at: ``<lake>/reports/analysis_<budget_year>.html``,
and the mart of fair comparisons it shows (the benchmark within groups of peers)."""

import os
from pathlib import Path

import dagster as dg

from ops_pipeline.defs.marts import sql_mart
from ops_pipeline.defs.resources import OWNER, LakeResource
from ops_pipeline.readers.text import sql_string
from ops_pipeline.report import render_analysis, report_years, summary_markdown
from ops_pipeline.schemas import column_schema

REPORTS_FOLDER = "reports"
REPORT_PREFIX = "analysis_"
TEMPORARY_PREFIX = ".analysis-"

SAVINGS = "marts/municipal_savings"

savings_potential_by_group = sql_mart(
    "savings_potential_by_group",
    deps=[["marts", "municipal_savings"]],
    description="Fair comparisons: the potential if every municipality matched the best of its "
    "peers, with the benchmark (mean savings per inhabitant of the group's top 3 or 5) taken "
    "within its region or its population size band; methods gap and level as savings_potential.",
    year_column="budget_year",
    column_lineage={
        "budget_year": [(SAVINGS, "budget_year")],
        "group": [(SAVINGS, "region"), (SAVINGS, "population")],
        "members": [(SAVINGS, "municipality_code")],
        "benchmark_per_inhabitant": [(SAVINGS, "savings_per_inhabitant")],
        "potential_dkk": [(SAVINGS, "savings_per_inhabitant"), (SAVINGS, "population")],
        "group_order": [(SAVINGS, "region"), (SAVINGS, "population")],
    },
)

# Everything the report reads from the working database.
REPORT_INPUTS = [
    ["marts", "municipal_savings"],
    ["marts", "savings_potential"],
    ["marts", "savings_potential_by_group"],
    ["marts", "savings_by_measure"],
    ["marts", "idebank_overview"],
    ["marts", "survey_response"],
    ["marts", "survey_potential"],
    ["staged", "survey_answers"],
    ["staged", "survey_respondents"],
]


def write_atomically(path: Path, text: str) -> None:
    """Write beside ``path`` and rename over it: a reader sees the old file or the new one."""
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{os.getpid()}-{path.name}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@dg.asset(
    key=["reports", "analysis"],
    deps=[dg.AssetKey(key) for key in REPORT_INPUTS],
    group_name="reports",
    kinds={"html", "duckdb"},
    owners=[OWNER],
    # The UI's "columns" of a folder of reports: the files people open.
    metadata={
        "dagster/column_schema": column_schema(
            [(f"{REPORT_PREFIX}<budget_year>.html", "HTML, self-contained")]
        )
    },
)
def analysis_report(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """The annual analysis as self-contained HTML, one file per budget year in ``<lake>/reports/``
    (``analysis_<budget_year>.html``, with the CEO survey of the spring after it): the headline
    and its sensitivity, survey answers per area, the 98 municipalities ranked with the benchmark
    group, potential per measure type, changes in rank, comparisons among peers and the
    data-quality status. Opens offline: charts are inline SVG. Reports of budget years no longer
    in the lake are removed."""
    folder = lake.lake.root / REPORTS_FOLDER
    with lake.working_db() as con:
        # The quality gates record their results in the lake's audit database.
        if lake.lake.audit_db.exists():
            con.execute(f"ATTACH {sql_string(lake.lake.audit_db)} AS audit (READ_ONLY)")
        years = report_years(con)
        pages = {year: render_analysis(con, year) for year in years}
        summary = summary_markdown(con, years)
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(f"{TEMPORARY_PREFIX}*.tmp"):
        leftover.unlink(missing_ok=True)
    paths = {}
    for year, page in pages.items():
        paths[year] = folder / f"{REPORT_PREFIX}{year}.html"
        write_atomically(paths[year], page)
    for stale in set(folder.glob(f"{REPORT_PREFIX}*.html")) - set(paths.values()):
        context.log.info(f"Removing {stale.name}: its budget year is no longer in the lake")
        stale.unlink()
    metadata = {
        "paths": dg.MetadataValue.json({str(y): str(p) for y, p in paths.items()}),
        "summary": dg.MetadataValue.md(summary or "Ingen budgetår i Idébanken: ingen rapport."),
    }
    if paths:
        metadata["latest"] = dg.MetadataValue.path(str(paths[max(paths)]))
    return dg.MaterializeResult(metadata=metadata)
