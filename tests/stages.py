"""One source of a lake staged at the asset level: the landing gate, the municipality reference
and the source's staged tables with their checks, as a refresh runs them, without the other
sources, the marts and the publication (seconds less than a run). For tests of what a bad landing
file does to the step that reads it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ops_pipeline.definitions import REFRESH_JOB, build_definitions
from ops_pipeline.defs import gate, idebank, reference, survey
from ops_pipeline.defs.automation import RANGE_END, RANGE_START
from ops_pipeline.defs.partitions import sync_years
from ops_pipeline.lake import Lake
from ops_pipeline.landing import scan

# What every source's staging reads first: the landing gate and the municipality reference.
BASE = [*gate.landing_files.keys, *reference.municipalities.keys]
# Each source's staged tables, by its folder under landing/.
SOURCES = {
    "population": [*reference.population.keys],
    "survey": [*survey.staged_survey.keys],
    "idebank": [*idebank.idebank_rows.keys, *idebank.proposals_staged.keys],
}


def stage(root: Path, instance: dg.DagsterInstance, source: str) -> dg.ExecuteInProcessResult:
    """Every year of the lake's landing zone through the gate, the reference and ``source``'s
    staging steps, with their checks."""
    years = sync_years(instance, scan(Lake(root)))
    job = build_definitions(str(root)).resolve_job_def(REFRESH_JOB)
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        asset_selection=[*BASE, *SOURCES[source]],
        tags={RANGE_START: years[0], RANGE_END: years[-1]},
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
