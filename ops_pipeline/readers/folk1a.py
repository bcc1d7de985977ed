"""Statistics Denmark FOLK1A exports: ``OMRÅDE;TID;INDHOLD``, UTF-8 with BOM, CRLF.

Loads all population files into the TEMP table ``folk1a_rows(source_file, source_row, area,
quarter, population)``. Mapping area names to municipality codes is the staging step's work.
"""

from __future__ import annotations

from pathlib import Path

from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.csv_load import load_csv
from ops_pipeline.readers.errors import LandingError, reading
from ops_pipeline.readers.text import fail_on_first, for_duckdb, sql_string

HEADER = ["OMRÅDE", "TID", "INDHOLD"]
QUARTER = r"^\d{4}K[1-4]$"


def read_folk1a(
    con, files: list[Path], scratch: Path, corrections: CorrectionSet | None = None
) -> None:
    """Load FOLK1A CSV exports into TEMP table ``folk1a_rows`` (corrections applied first)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE folk1a_rows (source_file VARCHAR, source_row BIGINT, "
        "area VARCHAR, quarter VARCHAR, population BIGINT)"
    )
    for path in files:
        with reading(path):  # a library error escaping names the file
            text = for_duckdb(path, scratch, allowed=("utf-8",))
            columns = load_csv(con, text, path, table="folk1a_raw", delim=";", header=True)
            if [c.strip() for c in columns] != HEADER:
                raise LandingError(
                    path, f"header is {';'.join(columns)!r}, expected {';'.join(HEADER)!r}", row=1
                )
            if corrections:
                corrections.apply(con, "folk1a_raw", path, columns)
            fail_on_first(
                con,
                "folk1a_raw",
                path,
                "TID",
                f"NOT regexp_full_match(trim(\"TID\"), '{QUARTER}')",
                "is not a quarter such as 2021K1",
            )
            fail_on_first(
                con,
                "folk1a_raw",
                path,
                "INDHOLD",
                "NOT regexp_full_match(trim(\"INDHOLD\"), '\\d+')",
                "is not a number of persons",
            )
            fail_on_first(
                con,
                "folk1a_raw",
                path,
                "INDHOLD",
                'TRY_CAST(trim("INDHOLD") AS BIGINT) IS NULL',
                "is too large for a number of persons",
            )
            fail_on_first(
                con,
                "folk1a_raw",
                path,
                "OMRÅDE",
                "NULLIF(trim(\"OMRÅDE\"), '') IS NULL",
                "is blank",
            )
            con.execute(
                f"""INSERT INTO folk1a_rows
                    SELECT {sql_string(path.name)}, _row, trim("OMRÅDE"), trim("TID"),
                           CAST(trim("INDHOLD") AS BIGINT)
                    FROM folk1a_raw"""
            )
            con.execute("DROP TABLE folk1a_raw")
