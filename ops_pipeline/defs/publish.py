"""Publishing: the working database's marts → ``<lake>/warehouse.duckdb``, in one atomic step.

The new warehouse is written beside the old one under a temporary name and renamed over it. A BI
tool holding the old file open keeps reading the old file (its inode) undisturbed and never blocks
the refresh; a run that fails before the rename leaves the published file untouched.
"""

import os
from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline import audit
from ops_pipeline.defs.quality.checks import build_data_docs
from ops_pipeline.defs.resources import OWNER, LakeResource
from ops_pipeline.lake import Lake
from ops_pipeline.readers.text import sql_identifier, sql_string

TEMPORARY_PREFIX = ".warehouse-"


def publish_warehouse(lake: Lake, run_id: str, marts: list[str]) -> dict[str, int]:
    """Copy ``marts`` and this run's audit rows into a new warehouse file and rename it over
    ``warehouse.duckdb``. Returns the row count of each published table."""
    target = lake.warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{TEMPORARY_PREFIX}{run_id}.duckdb.tmp")
    _remove(temporary)
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(temporary))
        try:
            con.execute(f"ATTACH {sql_string(lake.working_db)} AS working (READ_ONLY)")
            built = {
                name
                for (name,) in con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_catalog = 'working' AND table_schema = 'marts'"
                ).fetchall()
            }
            missing = sorted(set(marts) - built)
            if missing:
                raise RuntimeError(f"cannot publish: marts not built: {', '.join(missing)}")
            con.execute("CREATE SCHEMA marts")
            for mart in sorted(marts):
                name = f"marts.{sql_identifier(mart)}"
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM working.{name}")
                counts[f"marts.{mart}"] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][
                    0
                ]
            con.execute("DETACH working")
            # Data quality of this run for BI: no raw rejected rows (they may hold personal data).
            audit.connect(lake.audit_db).close()
            con.execute(f"ATTACH {sql_string(lake.audit_db)} AS audit_log (READ_ONLY)")
            con.execute("CREATE SCHEMA audit")
            for table, columns in audit.PUBLISHED_COLUMNS.items():
                con.execute(
                    f"CREATE TABLE audit.{table} AS SELECT {columns} FROM audit_log.{table} "
                    "WHERE run_id = ?",
                    [run_id],
                )
                counts[f"audit.{table}"] = con.execute(
                    f"SELECT count(*) FROM audit.{table}"
                ).fetchall()[0][0]
            con.execute("DETACH audit_log")
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


def build_warehouse_asset(mart_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publish step over the given marts (every mart the definitions register)."""
    marts = [key.path[-1] for key in mart_keys]

    @dg.asset(
        key=["published", "warehouse"],
        deps=mart_keys,
        group_name="published",
        kinds={"duckdb"},
        owners=[OWNER],
    )
    def warehouse(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        """The published warehouse BI tools read: ``<lake>/warehouse.duckdb`` with schema
        ``marts`` and this run's data-quality record in schema ``audit``. Replaced atomically,
        and only when every upstream asset and check of the run succeeded."""
        return _publish(context, lake, marts)

    return warehouse


def _publish(context: dg.AssetExecutionContext, lake: LakeResource, marts: list[str]):
    for stale in stale_temporaries(lake.lake):
        stale.unlink(missing_ok=True)
    counts = publish_warehouse(lake.lake, context.run.run_id, marts)
    docs = build_data_docs(lake.lake.docs)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(lake.lake.warehouse)),
            "data_docs": dg.MetadataValue.path(str(docs or lake.lake.docs)),
            "tables": dg.MetadataValue.json(counts),
            "dagster/row_count": dg.MetadataValue.int(sum(counts.values())),
        }
    )
