"""The annual analysis as a report people look at: one self-contained HTML file per budget year.

Plain functions over a DuckDB connection to the working database (no Dagster here): ``data``
queries small aggregates, ``charts`` draws them as inline SVG, ``danish`` formats numbers the
Danish way, and ``analysis`` fills the template. Nothing in a report loads from the network.
"""

from ops_pipeline.report.analysis import render_analysis, report_years, summary_markdown

__all__ = ["render_analysis", "report_years", "summary_markdown"]
