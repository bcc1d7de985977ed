"""The annual analysis as a report people look at: one self-contained HTML file per budget year.

Plain functions over a DuckDB connection to a published warehouse (no Dagster here): ``data``
queries small aggregates, ``charts`` draws them as inline SVG, ``danish`` formats numbers the
Danish way, ``analysis`` fills the template and ``files`` writes a publication's reports.
Nothing in a report loads from the network.
"""

from ops_pipeline.report.analysis import render_analysis, report_years, summary_markdown
from ops_pipeline.report.files import (
    REPORT_MARTS,
    REPORT_PREFIX,
    missing_marts,
    report_name,
    write_reports,
)

__all__ = [
    "REPORT_MARTS",
    "REPORT_PREFIX",
    "missing_marts",
    "render_analysis",
    "report_name",
    "report_years",
    "summary_markdown",
    "write_reports",
]
