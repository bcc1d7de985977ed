"""Staging the reference data: the packaged municipality list → reference.municipalities, and
the FOLK1A files of ``landing/population/`` → staged.population."""

from pathlib import Path

import duckdb

from ops_pipeline import reference, sql
from ops_pipeline.lake import POPULATION, Lake
from ops_pipeline.landing import Inventory
from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.folk1a import read_folk1a
from ops_pipeline.readers.text import sql_string
from ops_pipeline.schemas import ddl

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
