"""The one Definitions object of ops-pipeline: assets, resources, executor and the refresh job.

The lake comes from ``OPS_DATA_LAKE`` (else ``data_lake/`` in the repository), for ``dagster dev``
and the command line alike.
"""

import dagster as dg

from ops_pipeline import audit
from ops_pipeline.defs import gate, idebank, publish, reference, survey
from ops_pipeline.defs.automation import build_automation
from ops_pipeline.defs.progress import LOGGERS
from ops_pipeline.defs.resources import LakeResource
from ops_pipeline.fingerprint import code_version
from ops_pipeline.lake import lake_path

REFRESH_JOB = "annual_refresh"

# Everything the publish step publishes from, in the order data flows.
BUILT = [
    gate.landing_files,
    reference.municipalities,
    reference.landing_population,
    reference.population,
    survey.landing_survey,
    survey.staged_survey,
    survey.survey_response,
    survey.survey_potential,
    survey.survey_answer_counts,
    idebank.landing_idebank,
    idebank.idebank_rows,
    idebank.proposals_staged,
    idebank.municipal_savings,
    idebank.savings_potential,
    idebank.savings_by_measure,
    idebank.idebank_overview,
    idebank.proposals_mart,
    idebank.savings_potential_by_group,
]
MART_KEYS = [
    key
    for assets in BUILT
    if isinstance(assets, dg.AssetsDefinition)
    for key in assets.keys
    if key.path[0] == "marts"
]
# The published file's "columns" for the UI: the tables BI tools find in it.
PUBLISHED_TABLES = [(f"marts.{key.path[-1]}", "table") for key in MART_KEYS] + [
    (f"audit.{table}", "table (this run's data quality)") for table in audit.PUBLISHED_COLUMNS
]
# Every computed asset's code version is the package's (code, SQL, reference data, pinned
# dependencies): the one the CLI compares with the publication's before refreshing.
ASSETS = [
    assets.map_asset_specs(lambda spec: spec.replace_attributes(code_version=code_version()))
    if isinstance(assets, dg.AssetsDefinition)
    else assets
    for assets in [*BUILT, publish.build_publish_asset(MART_KEYS, PUBLISHED_TABLES)]
]
CHECKS = [*reference.CHECKS, *survey.CHECKS, *idebank.CHECKS]

refresh_job = dg.define_asset_job(
    REFRESH_JOB,
    selection=dg.AssetSelection.all(),
    description="Landing files → staged tables → marts → published warehouse, every year found.",
)


SCHEDULE, SENSOR = build_automation(refresh_job)


# What `ops-pipeline check` runs: every step but those that publish (warehouse, reports).
CHECKED = [
    key
    for assets in ASSETS
    if isinstance(assets, dg.AssetsDefinition)
    for key in assets.keys
    if key.path[0] not in ("published", "reports")
]


def build_definitions(
    lake: str | None = None, max_rejected_rows: int = 0, working_database=None
) -> dg.Definitions:
    """Definitions bound to one lake (``--lake``, else ``OPS_DATA_LAKE``, else the default);
    ``working_database`` replaces the lake's working database (``ops-pipeline check``)."""
    resource = LakeResource(
        root=str(lake_path(lake)),
        max_rejected_rows=max_rejected_rows,
        working_database=str(working_database or ""),
    )
    return dg.Definitions(
        # Code references: the UI links each asset to the file and line that defines it.
        assets=dg.with_source_code_references(ASSETS),
        asset_checks=CHECKS,
        jobs=[refresh_job],
        schedules=[SCHEDULE],
        sensors=[SENSOR],
        resources={"lake": resource},
        loggers=LOGGERS,
        # Every step of a refresh is small DuckDB work on one file: one process, steps in order,
        # for the refresh job and for runs launched from the UI's asset graph alike. The
        # multiprocess executor would start a process per step (seconds each) and several writers.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
