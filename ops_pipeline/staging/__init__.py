"""Staging: from the files the landing gate let through to the ``staged`` schema.

One module per source; plain functions over a DuckDB connection, no Dagster. The assets in
``defs/`` call them; the SQL of each staged table is in ``sql/staged/``.
"""

from ops_pipeline.schemas import ddl


def clear_years(con, table: str, year_column: str, years: list[int], landed: list[int]) -> None:
    """Make ``table`` (created if new) ready for ``years``: their rows go, and so do the rows of
    years no longer in the landing zone (``landed``), so a removed year folder leaves no rows."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} {ddl(table)}")
    con.execute(
        f"DELETE FROM {table} WHERE {year_column} IN (SELECT unnest(?)) "
        f"OR {year_column} NOT IN (SELECT unnest(?))",
        [years, landed],
    )
