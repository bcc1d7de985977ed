"""KL's Idébank (budgeted efficiency proposals): staged rows and proposals → marts of savings."""

from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline import audit, sql
from ops_pipeline.defs.checks import build_check
from ops_pipeline.defs.gate import GATE_KEY, load_gate
from ops_pipeline.defs.marts import sql_mart
from ops_pipeline.defs.metadata import column_schema, ingest_metadata, schema_metadata
from ops_pipeline.defs.partitions import SINGLE_RUN, YEARS, partition_years
from ops_pipeline.defs.resources import OWNER, LakeResource, table_metadata
from ops_pipeline.faults import fault_point
from ops_pipeline.lake import IDEBANK, Lake
from ops_pipeline.landing import Inventory
from ops_pipeline.quality.suites.marts import (
    IDEBANK_OVERVIEW_SUITE,
    MUNICIPAL_SAVINGS_SUITE,
    PROPOSALS_MART_SUITE,
    SAVINGS_BY_MEASURE_SUITE,
    SAVINGS_POTENTIAL_BY_GROUP_SUITE,
    SAVINGS_POTENTIAL_SUITE,
)
from ops_pipeline.quality.suites.staged import IDEBANK_ROWS_SUITE, PROPOSALS_SUITE
from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.idebank import read_idebank
from ops_pipeline.schemas import LANDING_SCHEMAS, ddl

LANDING_IDEBANK = dg.AssetKey(["landing", "idebank"])
IDEBANK_ASSET = "staged/idebank_rows"
PROPOSALS = "staged/proposals"
POPULATION = "staged/population"
MUNICIPALITIES = "reference/municipalities"
SAVINGS = "marts/municipal_savings"
# Every column of a proposal's rows but Fagområde: rows of one ID must agree on these.
PROPOSAL_COLUMNS = (
    "municipality_code",
    "municipality_name",
    "stated_budget_year",
    "title",
    "description",
    "measure_type",
    "effect_year_1",
    "effect_year_2",
    "effect_year_3",
    "effect_year_4",
    "relevant",
    "service_reduction",
)


def stage_idebank_rows(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    inventory: Inventory,
    years: list[int],
    corrections: CorrectionSet | None = None,
) -> dict[Path, int]:
    """Replace staged.idebank_rows of ``years`` from the files the landing gate let through (and
    drop years no longer in the landing zone); return the files read with their rows."""
    con.execute(f"CREATE TABLE IF NOT EXISTS staged.idebank_rows {ddl('staged.idebank_rows')}")
    con.execute(
        "DELETE FROM staged.idebank_rows WHERE budget_year IN (SELECT unnest(?)) "
        "OR budget_year NOT IN (SELECT unnest(?))",
        [years, inventory.years(IDEBANK)],
    )
    if corrections:
        corrections.skip_unrefreshed(IDEBANK, years)
    files: dict[Path, int] = {}
    # A year partition with only a survey has no extract to stage.
    for year in sorted(set(years) & set(inventory.years(IDEBANK))):
        folder = lake.source_folder(IDEBANK) / str(year)
        extracts = inventory.files_of(IDEBANK, year)
        paths = read_idebank(con, extracts, year, lake.scratch, corrections)
        fault_point("ingest")
        rows = dict(
            con.execute("SELECT source_file, count(*) FROM ib_rows GROUP BY ALL").fetchall()
        )
        files.update({path: rows.get(path.name, 0) for path in paths})
        sql.insert(
            con, "staged.idebank_rows", {"year": year, "folder": lake.relative(folder) + "/"}
        )
        con.execute("DROP TABLE ib_rows")
    return files


def stage_proposals(con: duckdb.DuckDBPyConnection) -> None:
    """staged.proposals: one row per distinct proposal; rows of one ID that disagree are an error
    naming both rows."""
    content = "struct_pack(" + ", ".join(PROPOSAL_COLUMNS) + ")"
    conflict = con.execute(
        f"""WITH r AS (
                SELECT *, {content} AS content,
                       row_number() OVER (PARTITION BY budget_year, id
                                          ORDER BY source_file, source_row) AS n
                FROM staged.idebank_rows
            )
            SELECT r.id, f.source_file, f.source_row, r.source_file, r.source_row,
                   f.content, r.content
            FROM r JOIN r AS f ON f.budget_year = r.budget_year AND f.id = r.id AND f.n = 1
            WHERE r.content IS DISTINCT FROM f.content
            ORDER BY r.budget_year, r.source_file, r.source_row LIMIT 1"""
    ).fetchall()
    if conflict:
        pid, file_a, row_a, file_b, row_b, first, other = conflict[0]
        column = next(c for c in PROPOSAL_COLUMNS if first[c] != other[c])
        raise LandingError(
            file_b,
            f"proposal {pid!r} disagrees with {file_a} row {row_a} in {column} "
            f"({other[column]!r} vs {first[column]!r}): rows of one ID may differ only in "
            "Fagområde",
            row=row_b,
            column=column,
        )
    con.execute(f"CREATE OR REPLACE TABLE staged.proposals AS {sql.query('staged/proposals')}")


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


class MissingPopulationError(LandingError):
    """A budget year with Idébank data and no population on 1 January of that year."""


def require_population(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """Every municipality needs a population on 1 January of every budget year with proposals."""
    missing = con.execute(
        """SELECT y.budget_year, m.municipality
           FROM (SELECT DISTINCT budget_year FROM staged.proposals) y
           CROSS JOIN reference.municipalities m
           LEFT JOIN staged.population p
             ON p.municipality_code = m.municipality_code AND p.area_kind = 'municipality'
            AND p.quarter = y.budget_year::VARCHAR || 'K1'
           WHERE p.population IS NULL
           ORDER BY y.budget_year, m.municipality_code"""
    ).fetchall()
    if missing:
        year = missing[0][0]
        names = [name for y, name in missing if y == year]
        what = (
            "no population at all"
            if len(names) == 98
            else f"no population for {', '.join(names[:5])}"
        )
        raise MissingPopulationError(
            lake.relative(lake.source_folder("population")),
            f"budget year {year} has Idébank data but {what} in quarter {year}K1 "
            "(per-inhabitant figures use the population of 1 January)",
        )


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
