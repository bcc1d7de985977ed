"""Reference data: the 98 municipalities (shipped with the package) and FOLK1A population."""

from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline import audit, reference, sql
from ops_pipeline.defs.checks import build_check
from ops_pipeline.defs.gate import GATE_KEY, load_gate
from ops_pipeline.defs.metadata import column_schema, ingest_metadata, schema_metadata
from ops_pipeline.defs.resources import OWNER, LakeResource, table_metadata
from ops_pipeline.lake import POPULATION, Lake
from ops_pipeline.landing import Inventory
from ops_pipeline.quality.suites.staged import MUNICIPALITIES_SUITE, POPULATION_SUITE
from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.folk1a import read_folk1a
from ops_pipeline.readers.text import sql_string
from ops_pipeline.schemas import LANDING_SCHEMAS, ddl

LANDING_POPULATION = dg.AssetKey(["landing", "population"])
POPULATION_ASSET = "staged/population"
# Areas of FOLK1A that are not municipalities and map to no code.
NATIONAL_AREA = "Hele landet"
NON_MUNICIPAL_AREA = "Christiansø"


def load_municipalities(con: duckdb.DuckDBPyConnection) -> None:
    """reference.municipalities from the packaged list (see reference/SOURCES.md)."""
    con.execute(
        f"CREATE OR REPLACE TABLE reference.municipalities {ddl('reference.municipalities')}"
    )
    con.executemany(
        "INSERT INTO reference.municipalities VALUES (?, ?, ?, ?)",
        [(m.code, m.name, m.region, m.landsdel) for m in reference.municipalities()],
    )


def stage_population(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    inventory: Inventory,
    corrections: CorrectionSet | None = None,
) -> dict[Path, int]:
    """staged.population from every FOLK1A file the landing gate let through in
    ``landing/population/``; return the files read with their rows."""
    files = inventory.files_of(POPULATION)
    if not files:
        raise LandingError(lake.relative(lake.source_folder(POPULATION)), "no FOLK1A file")
    read_folk1a(con, files, lake.scratch, corrections)
    rows = dict(
        con.execute("SELECT source_file, count(*) FROM folk1a_rows GROUP BY ALL").fetchall()
    )
    con.execute(
        f"UPDATE folk1a_rows SET source_file = "
        f"{sql_string(lake.relative(lake.source_folder(POPULATION)) + '/')} || source_file"
    )
    unknown = con.execute(
        """SELECT source_file, source_row, area FROM folk1a_rows
           WHERE area NOT IN (SELECT municipality FROM reference.municipalities)
             AND area NOT IN (SELECT region FROM reference.municipalities)
             AND area NOT IN (?, ?)
           ORDER BY source_file, source_row LIMIT 1""",
        [NATIONAL_AREA, NON_MUNICIPAL_AREA],
    ).fetchall()
    if unknown:
        file, row, area = unknown[0]
        raise LandingError(
            file,
            f"area {area!r} is neither a municipality of the reference list, a region, "
            f"{NATIONAL_AREA!r} nor {NON_MUNICIPAL_AREA!r}",
            row=row,
            column="OMRÅDE",
        )
    conflict = con.execute(
        """SELECT a.area, a.quarter, a.source_file, a.source_row, a.population,
                  b.source_file, b.source_row, b.population
           FROM folk1a_rows a JOIN folk1a_rows b
             ON a.area = b.area AND a.quarter = b.quarter AND a.population <> b.population
            AND (a.source_file, a.source_row) < (b.source_file, b.source_row)
           ORDER BY a.source_file, a.source_row LIMIT 1"""
    ).fetchall()
    if conflict:
        area, quarter, file_a, row_a, pop_a, file_b, row_b, pop_b = conflict[0]
        raise LandingError(
            file_b,
            f"{area} {quarter} is {pop_b}, but {file_a} row {row_a} says {pop_a}",
            row=row_b,
            column="INDHOLD",
        )
    con.execute(f"CREATE OR REPLACE TABLE staged.population AS {sql.query('staged/population')}")
    return {path: rows.get(path.name, 0) for path in files}


@dg.asset(
    key=["reference", "municipalities"],
    group_name="reference",
    kinds={"duckdb", "csv"},
    owners=[OWNER],
    code_version="1",
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
