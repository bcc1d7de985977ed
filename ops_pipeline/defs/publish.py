"""Publishing: the working database's marts → the published warehouse, its exports and the annual
reports, written as one publication and switched in together in one atomic step.

The new warehouse (in the storage format DuckDB 1.x clients read, every mart and column carrying
its contract meaning as a comment), its Parquet and CSV exports and the reports rendered from that
warehouse are written complete into a new folder of ``<lake>/history/`` and published by
repointing the ``<lake>/current`` link (see :mod:`ops_pipeline.history`). A BI tool holding the
old warehouse open keeps reading it undisturbed and never blocks the refresh; a run that fails or
dies before the switch leaves the published warehouse, exports and reports as they were, and the
next run removes what it left.
"""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline import audit, fingerprint, history, progress, warehouse
from ops_pipeline.contracts import mart_contracts
from ops_pipeline.defs.automation import RANGE_END, RANGE_START
from ops_pipeline.defs.metadata import column_schema
from ops_pipeline.defs.resources import OWNER, LakeResource
from ops_pipeline.exports import write_exports
from ops_pipeline.lake import IDEBANK, SURVEY, Lake
from ops_pipeline.quality import build_data_docs
from ops_pipeline.readers.text import sql_identifier, sql_string
from ops_pipeline.report import REPORT_MARTS, REPORT_PREFIX, write_reports
from ops_pipeline.runlock import run_lock

WAREHOUSE_KEY = dg.AssetKey(["published", "warehouse"])
REPORTS_KEY = dg.AssetKey(["reports", "analysis"])


@dataclass(frozen=True)
class Published:
    counts: dict[str, int]  # rows of each published table
    reports: dict[int, Path]  # the reports by budget year, at their stable paths
    summary: str  # the reports' headlines as Markdown, for the UI


def publish_warehouse(
    lake: Lake,
    run_id: str,
    marts: list[str],
    working_db: Path | None = None,
    fingerprint: dict | None = None,
) -> Published:
    """Publish ``marts`` and this run's audit rows as a new warehouse with its exports and its
    reports, and keep the newest publications in ``history/``. The marts are read from
    ``working_db`` (default: the lake's working database); ``fingerprint`` (what they were
    computed from) goes into the publication's manifest.

    Holds the lake's run lock: ``ops-pipeline run`` already holds it (the lock is re-entrant);
    a run started elsewhere (the Dagster UI) while another holds it fails here, unpublished.
    """
    with run_lock(lake):
        history.recover(lake)
        with history.draft(lake, run_id) as new:
            counts = write_warehouse(lake, new.warehouse, run_id, marts, working_db)
            write_exports(new.warehouse, new.exports)
            reports, summary = write_reports(new.warehouse, new.reports)
            progress.mark("report", f"{len(reports)} report{'s' * (len(reports) != 1)}")
            history.publish(lake, new, run_id, counts, fingerprint=fingerprint)
            progress.mark("publish", "switched in")
    folder = history.reports_link(lake)
    return Published(counts, {year: folder / p.name for year, p in reports.items()}, summary)


def write_warehouse(
    lake: Lake, path: Path, run_id: str, marts: list[str], working_db: Path | None = None
) -> dict[str, int]:
    """Copy ``marts`` and this run's audit rows from the working and audit databases into a new
    warehouse file at ``path``, checkpointed (no WAL), every mart and its columns commented with
    the contract's meaning. Returns the rows of each table."""
    counts: dict[str, int] = {}
    con = duckdb.connect()
    try:
        # In the storage format of the oldest clients BI tools ship (warehouse.storage_version).
        con.execute(
            f"ATTACH {sql_string(path)} AS warehouse "
            f"(STORAGE_VERSION {sql_string(warehouse.storage_version())})"
        )
        con.execute("USE warehouse")
        con.execute(f"ATTACH {sql_string(working_db or lake.working_db)} AS working (READ_ONLY)")
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
            describe_mart(con, mart)
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


def describe_mart(con: duckdb.DuckDBPyConnection, mart: str) -> None:
    """``COMMENT ON`` the mart and each of its columns: the contract's text, which BI tools show
    as descriptions. A mart or column the contract does not describe is left without one."""
    contract = mart_contracts().get(mart)
    if contract is None:
        return
    table = f"marts.{sql_identifier(mart)}"
    con.execute(f"COMMENT ON TABLE {table} IS {sql_string(contract.description)}")
    present = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'marts' AND table_name = ?",
            [mart],
        ).fetchall()
    }
    for column in contract.columns:
        if column.name in present:
            con.execute(
                f"COMMENT ON COLUMN {table}.{sql_identifier(column.name)} "
                f"IS {sql_string(column.meaning)}"
            )


def run_fingerprint(con: duckdb.DuckDBPyConnection, tags: dict, max_rejected_rows: int):
    """What this run computed from (:mod:`ops_pipeline.fingerprint`), read from what its gate
    recorded in ``staged.landing_files``; None when it did not refresh every year the gate
    found (a partial refresh leaves other years as an earlier run made them)."""
    rows = con.execute("SELECT file, sha256, source, year FROM staged.landing_files").fetchall()
    years = sorted({str(year) for _, _, source, year in rows if source in (SURVEY, IDEBANK)})
    start, end = tags.get(RANGE_START), tags.get(RANGE_END)
    if not years or start is None or end is None or not (start <= years[0] <= years[-1] <= end):
        return None
    files = [(file, sha256) for file, sha256, _, _ in rows]
    return fingerprint.fingerprint(files, years, max_rejected_rows)


def build_publish_asset(mart_keys: list[dg.AssetKey], tables: list[tuple[str, str]]):
    """The publish step over the given marts (every mart the definitions register): one step
    materialises the warehouse (with its exports) and the reports, because they are switched in
    together. ``tables`` are the published file's tables, for the UI's column schema."""
    marts = [key.path[-1] for key in mart_keys]

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                WAREHOUSE_KEY,
                deps=mart_keys,
                group_name="published",
                kinds={"duckdb"},
                owners=[OWNER],
                description="The published warehouse BI tools read: ``<lake>/warehouse.duckdb`` "
                "(storage format v1.0.0: every DuckDB client from 1.0 opens it) with schema "
                "``marts``, described by the contract's comments, and this run's data-quality "
                "record in schema ``audit``; every mart as Parquet and CSV in ``<lake>/exports/``. "
                "Replaced together with the reports, atomically, and only when every upstream "
                "asset and check of the run succeeded; the last five are kept in history.",
                metadata={"dagster/column_schema": column_schema(tables)},
            ),
            dg.AssetSpec(
                REPORTS_KEY,
                deps=[dg.AssetKey(["marts", name]) for name in REPORT_MARTS],
                group_name="reports",
                kinds={"html", "duckdb"},
                owners=[OWNER],
                description="The annual analysis as self-contained HTML, one file per budget "
                "year in ``<lake>/reports/`` (``analysis_<budget_year>.html``, with the CEO "
                "survey of the spring after it): the headline and its sensitivity, survey "
                "answers per area, the 98 municipalities ranked with the benchmark group, "
                "potential per measure type, changes in rank, comparisons among peers and the "
                "data-quality status. Rendered from the warehouse being published (its marts "
                "only) and published with it. Opens offline: charts are inline SVG.",
                # The UI's "columns" of a folder of reports: the files people open.
                metadata={
                    "dagster/column_schema": column_schema(
                        [(f"{REPORT_PREFIX}<budget_year>.html", "HTML, self-contained")]
                    )
                },
            ),
        ],
        name="publish",
    )
    def publish(context: dg.AssetExecutionContext, lake: LakeResource):
        with lake.working_db() as con:
            inputs = run_fingerprint(con, context.run.tags, lake.max_rejected_rows)
        # Rendered while the warehouse, exports and reports are written (in the quality worker).
        rendered = build_data_docs(lake.lake.docs)
        published = publish_warehouse(
            lake.lake, context.run.run_id, marts, lake.working_path, inputs
        )
        docs = rendered()
        publication = history.current_publication(lake.lake)  # the one just published
        counts = published.counts
        yield dg.MaterializeResult(
            asset_key=WAREHOUSE_KEY,
            metadata={
                "path": dg.MetadataValue.path(str(lake.lake.warehouse)),
                "exports": dg.MetadataValue.path(str(history.exports_link(lake.lake))),
                "publication": dg.MetadataValue.path(str(publication.path)),
                "storage_version": dg.MetadataValue.text(str(publication.storage_version)),
                "data_docs": dg.MetadataValue.path(str(docs or lake.lake.docs)),
                "tables": dg.MetadataValue.json(counts),
                "dagster/row_count": dg.MetadataValue.int(sum(counts.values())),
            },
        )
        reports = published.reports
        metadata = {
            "paths": dg.MetadataValue.json({str(y): str(p) for y, p in reports.items()}),
            "publication": dg.MetadataValue.path(str(publication.reports)),
            "summary": dg.MetadataValue.md(
                published.summary or "Ingen budgetår i Idébanken: ingen rapport."
            ),
        }
        if reports:
            metadata["latest"] = dg.MetadataValue.path(str(reports[max(reports)]))
        yield dg.MaterializeResult(asset_key=REPORTS_KEY, metadata=metadata)

    return publish
