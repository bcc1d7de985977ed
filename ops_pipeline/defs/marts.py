"""The one factory for marts: an asset that runs ``sql/marts/<name>.sql`` into ``marts.<name>``."""

from collections.abc import Callable, Sequence

import dagster as dg

from ops_pipeline import sql
from ops_pipeline.defs.resources import OWNER, LakeResource, table_metadata


def build_mart(con, name: str) -> None:
    """(Re)build ``marts.<name>`` in the working database from its SQL file."""
    con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS {sql.query(f'marts/{name}')}")


def sql_mart(
    name: str,
    *,
    deps: Sequence,
    description: str,
    prepare: Callable[..., None] | None = None,
) -> dg.AssetsDefinition:
    """A mart asset over its SQL file; the SQL is shown in the UI as the asset's metadata.

    ``prepare(con, lake)`` runs first, for preconditions that must fail with a clear message.
    """

    @dg.asset(
        key=["marts", name],
        deps=[dg.AssetKey(d) if isinstance(d, list) else d for d in deps],
        group_name="marts",
        kinds={"duckdb", "sql"},
        owners=[OWNER],
        description=description,
        metadata={"sql": dg.MetadataValue.md(f"```sql\n{sql.query(f'marts/{name}')}\n```")},
    )
    def _mart(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        with lake.working_db() as con:
            if prepare is not None:
                prepare(con, lake.lake)
            build_mart(con, name)
            return dg.MaterializeResult(metadata=table_metadata(con, f"marts.{name}"))

    return _mart
