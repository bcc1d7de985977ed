"""Reference data: the 98 municipalities (shipped with the package) and FOLK1A population."""

import dagster as dg

from ops_pipeline import audit
from ops_pipeline.defs.checks import build_check
from ops_pipeline.defs.gate import GATE_KEY, load_gate
from ops_pipeline.defs.metadata import column_schema, ingest_metadata, schema_metadata
from ops_pipeline.defs.resources import OWNER, LakeResource, table_metadata
from ops_pipeline.quality.suites.staged import MUNICIPALITIES_SUITE, POPULATION_SUITE
from ops_pipeline.schemas import LANDING_SCHEMAS
from ops_pipeline.staging.reference import load_municipalities, stage_population

LANDING_POPULATION = dg.AssetKey(["landing", "population"])
POPULATION_ASSET = "staged/population"


@dg.asset(
    key=["reference", "municipalities"],
    group_name="reference",
    kinds={"duckdb", "csv"},
    owners=[OWNER],
    metadata=schema_metadata("reference.municipalities"),
)
def municipalities(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """The 98 Danish municipalities with code, name, region and landsdel (Danmarks Statistik's
    geographic hierarchy, shipped in the package; Christiansø is not a municipality)."""
    with lake.working_db() as con:
        load_municipalities(con)
        return dg.MaterializeResult(metadata=table_metadata(con, "reference.municipalities"))


municipalities_check = build_check(MUNICIPALITIES_SUITE)


landing_population = dg.AssetSpec(
    LANDING_POPULATION,
    metadata={"dagster/column_schema": column_schema(LANDING_SCHEMAS["population"])},
    description="FOLK1A exports from Statistics Denmark in landing/population/ "
    "(OMRÅDE;TID;INDHOLD, UTF-8 with BOM): persons per area on the first day of each quarter.",
    group_name="landing",
    kinds={"csv"},
    owners=[OWNER],
)


@dg.asset(
    key=["staged", "population"],
    deps=[LANDING_POPULATION, GATE_KEY, municipalities],
    group_name="staged",
    kinds={"duckdb"},
    owners=[OWNER],
    metadata=schema_metadata("staged.population"),
)
def population(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Population per area and quarter from FOLK1A, with each area's kind (country, region,
    municipality, Christiansø) and municipality code. Per-inhabitant figures of budget year Y
    use quarter YK1 (1 January)."""
    with lake.working_db() as con:
        inventory, corrections = load_gate(con, lake.lake)
        files = stage_population(con, lake.lake, inventory, corrections)
        ingest = ingest_metadata(
            audit.record_ingest(
                con, lake.lake, context.run.run_id, POPULATION_ASSET, files, corrections
            )
        )
        metadata = table_metadata(con, "staged.population")
    return dg.MaterializeResult(metadata={**metadata, **ingest})


population_check = build_check(POPULATION_SUITE)


# The quality gate of each asset above, for the Definitions.
CHECKS = [municipalities_check, population_check]
