"""The one factory for marts: an asset that runs ``sql/marts/<name>.sql`` into ``marts.<name>``."""

from collections.abc import Callable, Sequence

import dagster as dg

from ops_pipeline import sql
from ops_pipeline.defs.metadata import schema_metadata
from ops_pipeline.defs.partitions import SINGLE_RUN, YEARS, partition_years
from ops_pipeline.defs.resources import OWNER, LakeResource, table_metadata


def lineage_metadata(column_lineage: dict[str, list[tuple[str, str]]] | None) -> dict:
    """``dagster/column_lineage``: which upstream columns each mart column is computed from."""
    if not column_lineage:
        return {}
    return {
        "dagster/column_lineage": dg.TableColumnLineage(
            deps_by_column={
                column: [
                    dg.TableColumnDep(dg.AssetKey(asset.split("/")), source)
                    for asset, source in sources
                ]
                for column, sources in column_lineage.items()
            }
        )
    }


def build_mart(con, name: str, years: list[int] | None = None, year_column: str = "") -> None:
    """Build ``marts.<name>`` in the working database from its SQL file, evaluating it once.

    With ``years``, only those years' rows are replaced (and rows of years no longer staged are
    dropped): rerunning one year leaves every other year's rows as they were.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE mart_rows AS {sql.query(f'marts/{name}')}")
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' "
        "AND table_name = ?",
        [name],
    ).fetchall()[0][0]
    if years is None or not exists or _schema(con, f"marts.{name}") != _schema(con, "mart_rows"):
        # First build, or the SQL's columns changed: build every year.
        con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS SELECT * FROM mart_rows")
    else:
        con.execute(
            f"DELETE FROM marts.{name} WHERE {year_column} IN (SELECT unnest(?)) "
            f"OR {year_column} NOT IN (SELECT {year_column} FROM mart_rows)",
            [years],
        )
        con.execute(
            f"INSERT INTO marts.{name} SELECT * FROM mart_rows "
            f"WHERE {year_column} IN (SELECT unnest(?))",
            [years],
        )
    con.execute("DROP TABLE mart_rows")


def _schema(con, relation: str) -> list[tuple]:
    return [tuple(row[:2]) for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def sql_mart(
    name: str,
    *,
    deps: Sequence,
    description: str,
    year_column: str,
    prepare: Callable[..., None] | None = None,
    column_lineage: dict[str, list[tuple[str, str]]] | None = None,
) -> dg.AssetsDefinition:
    """A mart asset over its SQL file, partitioned by year (``year_column``); the SQL is shown
    in the UI as the asset's metadata.

    ``prepare(con, lake)`` runs first, for preconditions that must fail with a clear message.
    ``column_lineage`` maps a mart column to the (asset, column) pairs it is computed from.
    """

    @dg.asset(
        key=["marts", name],
        deps=[dg.AssetKey(d) if isinstance(d, list) else d for d in deps],
        group_name="marts",
        kinds={"duckdb", "sql"},
        owners=[OWNER],
        description=description,
        metadata={
            "sql": dg.MetadataValue.md(f"```sql\n{sql.query(f'marts/{name}')}\n```"),
            **schema_metadata(f"marts.{name}"),
            **lineage_metadata(column_lineage),
        },
        partitions_def=YEARS,
        backfill_policy=SINGLE_RUN,
    )
    def _mart(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        with lake.working_db() as con:
            if prepare is not None:
                prepare(con, lake.lake)
            build_mart(con, name, partition_years(context), year_column)
            return dg.MaterializeResult(metadata=table_metadata(con, f"marts.{name}"))

    return _mart
