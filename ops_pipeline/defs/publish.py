"""Publishing: the working database's marts → ``<lake>/warehouse.duckdb`` and ``<lake>/exports/``,
switched in together in one atomic step.

The new warehouse and its Parquet and CSV exports are written complete into a new folder of
``<lake>/history/`` and published by repointing the ``<lake>/current`` link (see
:mod:`ops_pipeline.history`). A BI tool holding the old warehouse open keeps reading it undisturbed
and never blocks the refresh; a run that fails or dies before the switch leaves the published
warehouse and exports as they were, and the next run removes what it left.
"""

from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline import audit, history
from ops_pipeline.defs.quality.checks import build_data_docs
from ops_pipeline.defs.resources import OWNER, LakeResource
from ops_pipeline.exports import write_exports
from ops_pipeline.lake import Lake
from ops_pipeline.readers.text import sql_identifier, sql_string
from ops_pipeline.runlock import run_lock


def publish_warehouse(lake: Lake, run_id: str, marts: list[str]) -> dict[str, int]:
    """Publish ``marts`` and this run's audit rows as a new warehouse with its exports, and keep
    the newest publications in ``history/``. Returns the row count of each published table.

    Holds the lake's run lock: ``ops-pipeline run`` already holds it (the lock is re-entrant);
    a run started elsewhere (the Dagster UI) while another holds it fails here, unpublished.
    """
    with run_lock(lake):
        history.recover(lake)
        with history.draft(lake, run_id) as new:
            counts = write_warehouse(lake, new.warehouse, run_id, marts)
            write_exports(new.warehouse, new.exports)
            history.publish(lake, new, run_id, counts)
    return counts


def write_warehouse(lake: Lake, path: Path, run_id: str, marts: list[str]) -> dict[str, int]:
    """Copy ``marts`` and this run's audit rows from the working and audit databases into a new
    warehouse file at ``path``, checkpointed (no WAL). Returns the rows of each table."""
    counts: dict[str, int] = {}
    con = duckdb.connect()
    try:
        # In the storage format of the oldest clients BI tools ship (history.STORAGE_VERSION).
        con.execute(
            f"ATTACH {sql_string(path)} AS warehouse "
            f"(STORAGE_VERSION {sql_string(history.storage_version())})"
        )
        con.execute("USE warehouse")
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
            counts[f"marts.{mart}"] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
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
        con.execute("CHECKPOINT warehouse")
    finally:
        con.close()
    return counts


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
        ``marts`` and this run's data-quality record in schema ``audit``, and every mart as
        Parquet and CSV in ``<lake>/exports/``. Replaced together atomically, and only when every
        upstream asset and check of the run succeeded; the last five are kept in history."""
        return _publish(context, lake, marts)

    return warehouse


def _publish(context: dg.AssetExecutionContext, lake: LakeResource, marts: list[str]):
    counts = publish_warehouse(lake.lake, context.run.run_id, marts)
    docs = build_data_docs(lake.lake.docs)
    published = history.current_publication(lake.lake)  # the one just published
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(lake.lake.warehouse)),
            "exports": dg.MetadataValue.path(str(history.exports_link(lake.lake))),
            "publication": dg.MetadataValue.path(str(published.path)),
            "data_docs": dg.MetadataValue.path(str(docs or lake.lake.docs)),
            "tables": dg.MetadataValue.json(counts),
            "dagster/row_count": dg.MetadataValue.int(sum(counts.values())),
        }
    )
