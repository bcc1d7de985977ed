"""Staging KL's Idébank: the extracts of each budget year → staged.idebank_rows → staged.proposals,
and the population every budget year needs."""

from pathlib import Path

import duckdb

from ops_pipeline import sql
from ops_pipeline.faults import fault_point
from ops_pipeline.lake import IDEBANK, Lake
from ops_pipeline.landing import Inventory
from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.idebank import read_idebank
from ops_pipeline.staging import clear_years

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
    clear_years(con, "staged.idebank_rows", "budget_year", years, inventory.years(IDEBANK))
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
