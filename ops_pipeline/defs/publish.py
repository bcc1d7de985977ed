"""Publishing: the working database's marts → ``<lake>/warehouse.duckdb``, in one atomic step.

The new warehouse is written beside the old one under a temporary name and renamed over it. A BI
tool holding the old file open keeps reading the old file (its inode) undisturbed and never blocks
the refresh; a run that fails before the rename leaves the published file untouched.
"""

import os
from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline import sql
from ops_pipeline.defs.resources import OWNER, LakeResource
from ops_pipeline.lake import Lake
from ops_pipeline.readers.text import sql_identifier, sql_string

PUBLISHED_SCHEMAS = ("marts",)
TEMPORARY_PREFIX = ".warehouse-"


def publish_warehouse(lake: Lake, run_id: str) -> dict[str, int]:
    """Copy the published schemas of the working database into a new warehouse file and rename it
    over ``warehouse.duckdb``. Returns the row count of each published table."""
    target = lake.warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{TEMPORARY_PREFIX}{run_id}.duckdb.tmp")
    _remove(temporary)
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(temporary))
        try:
            con.execute(f"ATTACH {sql_string(lake.working_db)} AS working (READ_ONLY)")
            for schema in PUBLISHED_SCHEMAS:
                con.execute(f"CREATE SCHEMA {schema}")
                tables = con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_catalog = 'working' AND table_schema = ? ORDER BY table_name",
                    [schema],
                ).fetchall()
                for (table,) in tables:
                    name = f"{schema}.{sql_identifier(table)}"
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM working.{name}")
                    counts[f"{schema}.{table}"] = con.execute(
                        f"SELECT count(*) FROM {name}"
                    ).fetchall()[0][0]
            missing = [m for m in sql.mart_names() if f"marts.{m}" not in counts]
            if missing:
                raise RuntimeError(f"cannot publish: marts not built: {', '.join(missing)}")
            con.execute("DETACH working")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _fsync(temporary)
        os.replace(temporary, target)
        _fsync(target.parent)
    finally:
        _remove(temporary)
    return counts


def stale_temporaries(lake: Lake) -> list[Path]:
    """Temporary warehouses a killed run left behind (never the published file)."""
    return sorted(lake.root.glob(f"{TEMPORARY_PREFIX}*.duckdb.tmp*"))


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dg.asset(
    key=["published", "warehouse"],
    deps=[dg.AssetKey(["marts", name]) for name in sql.mart_names()],
    group_name="published",
    kinds={"duckdb"},
    owners=[OWNER],
)
def warehouse(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """The published warehouse BI tools read: ``<lake>/warehouse.duckdb`` with schema ``marts``.
    Replaced atomically, and only when every upstream asset and check of the run succeeded."""
    for stale in stale_temporaries(lake.lake):
        stale.unlink(missing_ok=True)
    counts = publish_warehouse(lake.lake, context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(lake.lake.warehouse)),
            "tables": dg.MetadataValue.json(counts),
            "dagster/row_count": dg.MetadataValue.int(sum(counts.values())),
        }
    )
