"""Quality gates without Dagster, behind one interface: :func:`validate` runs a suite (``suites/``)
against a DuckDB connection and returns its :class:`SuiteOutcome` (``outcomes.py``: what failed,
where, in one line per problem); :func:`build_data_docs` renders the HTML Data Docs. Great
Expectations 1.x is the engine (``runner.py``), imported only when a suite first runs, in this
process or in the quality worker the command line starts (``worker.py``)."""

from ops_pipeline.quality.expectations import Suite
from ops_pipeline.quality.outcomes import ExpectationOutcome, SuiteOutcome, audit_rows
from ops_pipeline.quality.runner import build_data_docs, start_worker, validate
from ops_pipeline.quality.suites import SUITES

__all__ = [
    "SUITES",
    "ExpectationOutcome",
    "Suite",
    "SuiteOutcome",
    "audit_rows",
    "build_data_docs",
    "start_worker",
    "validate",
]
