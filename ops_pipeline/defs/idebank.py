"""KL's Idébank (budgeted efficiency proposals): staged rows and proposals → marts of savings."""

import dagster as dg

from ops_pipeline import audit
from ops_pipeline.defs.checks import build_check
from ops_pipeline.defs.gate import GATE_KEY, load_gate
from ops_pipeline.defs.marts import sql_mart
from ops_pipeline.defs.metadata import column_schema, ingest_metadata, schema_metadata
from ops_pipeline.defs.partitions import SINGLE_RUN, YEARS, partition_years
from ops_pipeline.defs.resources import OWNER, LakeResource, table_metadata
from ops_pipeline.quality.suites.marts import (
    IDEBANK_OVERVIEW_SUITE,
    MUNICIPAL_SAVINGS_SUITE,
    PROPOSALS_MART_SUITE,
    SAVINGS_BY_MEASURE_SUITE,
    SAVINGS_POTENTIAL_BY_GROUP_SUITE,
    SAVINGS_POTENTIAL_SUITE,
)
from ops_pipeline.quality.suites.staged import IDEBANK_ROWS_SUITE, PROPOSALS_SUITE
from ops_pipeline.schemas import LANDING_SCHEMAS
from ops_pipeline.staging.idebank import require_population, stage_idebank_rows, stage_proposals

LANDING_IDEBANK = dg.AssetKey(["landing", "idebank"])
IDEBANK_ASSET = "staged/idebank_rows"
PROPOSALS = "staged/proposals"
POPULATION = "staged/population"
MUNICIPALITIES = "reference/municipalities"
SAVINGS = "marts/municipal_savings"
landing_idebank = dg.AssetSpec(
    LANDING_IDEBANK,
    metadata={"dagster/column_schema": column_schema(LANDING_SCHEMAS["idebank"])},
    description="KL's Idébank extracts in landing/idebank/<budget_year>/ (xlsx sheet 'Idébank' "
    "or ';'-separated CSV with Danish numbers): one row per proposal and fagområde.",
    group_name="landing",
    kinds={"csv", "excel"},
    owners=[OWNER],
)


@dg.asset(
    key=["staged", "idebank_rows"],
    deps=[LANDING_IDEBANK, GATE_KEY],
    group_name="staged",
    kinds={"duckdb"},
    owners=[OWNER],
    metadata=schema_metadata("staged.idebank_rows"),
    partitions_def=YEARS,
    backfill_policy=SINGLE_RUN,
)
def idebank_rows(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Every row of every Idébank extract, typed (Danish numbers parsed, Ja/Nej as booleans, blank
    early effects as 0), with the budget year of its folder and its file and row."""
    with lake.working_db() as con:
        inventory, corrections = load_gate(con, lake.lake)
        years = partition_years(context, inventory)
        files = stage_idebank_rows(con, lake.lake, inventory, years, corrections)
        ingest = ingest_metadata(
            audit.record_ingest(
                con, lake.lake, context.run.run_id, IDEBANK_ASSET, files, corrections
            )
        )
        metadata = table_metadata(con, "staged.idebank_rows")
    return dg.MaterializeResult(metadata={**metadata, **ingest})


idebank_rows_check = build_check(IDEBANK_ROWS_SUITE)


@dg.asset(
    key=["staged", "proposals"],
    deps=[idebank_rows],
    group_name="staged",
    kinds={"duckdb"},
    owners=[OWNER],
    metadata=schema_metadata("staged.proposals"),
    partitions_def=YEARS,
    backfill_policy=SINGLE_RUN,
)
def proposals_staged(context: dg.AssetExecutionContext, lake: LakeResource):
    """One row per distinct proposal (an ID listed under several fagområder counts once), with
    its fagområder, yearly saving at full phase-in in kroner (minus the last year's effect × 1,000)
    and whether it qualifies: relevant for other municipalities and no service reduction."""
    with lake.working_db() as con:
        stage_proposals(con)
        return dg.MaterializeResult(metadata=table_metadata(con, "staged.proposals"))


proposals_staged_check = build_check(PROPOSALS_SUITE)


municipal_savings = sql_mart(
    "municipal_savings",
    deps=[proposals_staged, ["staged", "population"], ["reference", "municipalities"]],
    description="All 98 municipalities per budget year: distinct qualifying proposals, their "
    "yearly savings at full phase-in, savings per inhabitant (FOLK1A on 1 January) and the rank.",
    prepare=require_population,
    year_column="budget_year",
    column_lineage={
        "budget_year": [(PROPOSALS, "budget_year")],
        "municipality_code": [(MUNICIPALITIES, "municipality_code")],
        "municipality": [(MUNICIPALITIES, "municipality")],
        "region": [(MUNICIPALITIES, "region")],
        "population": [(POPULATION, "population")],
        "proposals": [(PROPOSALS, "id"), (PROPOSALS, "qualifying")],
        "savings_dkk": [(PROPOSALS, "saving_dkk"), (PROPOSALS, "qualifying")],
        "savings_per_inhabitant": [(PROPOSALS, "saving_dkk"), (POPULATION, "population")],
        "rank": [(PROPOSALS, "saving_dkk"), (POPULATION, "population")],
    },
)


municipal_savings_check = build_check(MUNICIPAL_SAVINGS_SUITE)
savings_potential = sql_mart(
    "savings_potential",
    deps=[municipal_savings],
    description="What would be freed each year if every municipality matched the benchmark (the "
    "mean savings per inhabitant of the top_n): method gap (headline) or level, top_n 5/10/15/20.",
    year_column="budget_year",
    column_lineage={
        "budget_year": [(SAVINGS, "budget_year")],
        "benchmark_per_inhabitant": [(SAVINGS, "savings_per_inhabitant")],
        "potential_dkk": [(SAVINGS, "savings_per_inhabitant"), (SAVINGS, "population")],
    },
)


savings_potential_check = build_check(SAVINGS_POTENTIAL_SUITE)
savings_by_measure = sql_mart(
    "savings_by_measure",
    deps=[proposals_staged],
    description="Qualifying proposals and savings per measure type (Tiltagstype) and their share "
    "of the year's qualifying savings.",
    year_column="budget_year",
    column_lineage={
        "budget_year": [(PROPOSALS, "budget_year")],
        "measure_type": [(PROPOSALS, "measure_type")],
        "proposals": [(PROPOSALS, "id"), (PROPOSALS, "qualifying")],
        "savings_dkk": [(PROPOSALS, "saving_dkk"), (PROPOSALS, "qualifying")],
        "share_of_savings": [(PROPOSALS, "saving_dkk"), (PROPOSALS, "qualifying")],
    },
)


savings_by_measure_check = build_check(SAVINGS_BY_MEASURE_SUITE)
idebank_overview = sql_mart(
    "idebank_overview",
    deps=[proposals_staged],
    description="Per budget year: distinct proposals, qualifying proposals, municipalities with "
    "qualifying proposals and total qualifying savings.",
    year_column="budget_year",
    column_lineage={
        "budget_year": [(PROPOSALS, "budget_year")],
        "proposals": [(PROPOSALS, "id")],
        "qualifying_proposals": [(PROPOSALS, "id"), (PROPOSALS, "qualifying")],
        "municipalities_with_proposals": [(PROPOSALS, "municipality_code")],
        "savings_dkk": [(PROPOSALS, "saving_dkk"), (PROPOSALS, "qualifying")],
    },
)


idebank_overview_check = build_check(IDEBANK_OVERVIEW_SUITE)
proposals_mart = sql_mart(
    "proposals",
    deps=[proposals_staged],
    description="One row per distinct proposal for drill-down from a municipality: title, measure "
    "type, fagområder, saving at full phase-in and whether it qualifies.",
    year_column="budget_year",
    column_lineage={
        column: [(PROPOSALS, column)]
        for column in (
            "budget_year",
            "id",
            "municipality_code",
            "title",
            "measure_type",
            "policy_areas",
            "saving_dkk",
            "qualifying",
        )
    },
)


proposals_mart_check = build_check(PROPOSALS_MART_SUITE)
savings_potential_by_group = sql_mart(
    "savings_potential_by_group",
    deps=[["marts", "municipal_savings"]],
    description="Fair comparisons: the potential if every municipality matched the best of its "
    "peers, with the benchmark (mean savings per inhabitant of the group's top 3 or 5) taken "
    "within its region or its population size band; methods gap and level as savings_potential.",
    year_column="budget_year",
    column_lineage={
        "budget_year": [(SAVINGS, "budget_year")],
        "peer_group": [(SAVINGS, "region"), (SAVINGS, "population")],
        "members": [(SAVINGS, "municipality_code")],
        "benchmark_per_inhabitant": [(SAVINGS, "savings_per_inhabitant")],
        "potential_dkk": [(SAVINGS, "savings_per_inhabitant"), (SAVINGS, "population")],
        "group_order": [(SAVINGS, "region"), (SAVINGS, "population")],
    },
)


savings_potential_by_group_check = build_check(SAVINGS_POTENTIAL_BY_GROUP_SUITE)


# The quality gate of each asset above, for the Definitions.
CHECKS = [
    idebank_rows_check,
    proposals_staged_check,
    municipal_savings_check,
    savings_potential_check,
    savings_by_measure_check,
    idebank_overview_check,
    proposals_mart_check,
    savings_potential_by_group_check,
]
