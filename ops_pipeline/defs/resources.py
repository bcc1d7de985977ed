"""The lake resource every asset uses: paths of the lake and the working DuckDB database."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline import audit
from ops_pipeline.defs.metadata import column_schema
from ops_pipeline.lake import Lake
from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.text import REJECTS_TABLE, limit_duckdb

OWNER = "team:data-engineering"

# Schemas of the working database, in the order data flows through them.
WORKING_SCHEMAS = ("reference", "staged", "marts")


class LakeResource(dg.ConfigurableResource):
    """One data lake: ``landing/`` in, the working database and published warehouse out."""

    root: str
    # How many rows readers may fail to parse before the quality gate stops the run. Zero by
    # default: a lost row changes a ranking. Raise it only knowingly, for one refresh
    # (``ops-pipeline run --max-rejected-rows N``); rejected rows stay in the audit either way.
    max_rejected_rows: int = 0
    # Another working database than the lake's (``ops-pipeline check`` builds in a throwaway one).
    working_database: str = ""

    @property
    def lake(self) -> Lake:
        return Lake(Path(self.root))

    @contextmanager
    def working_db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the working database; one writer at a time (runs are serialised).

        Landing errors raised inside name their file relative to the lake, as people see it.
        """
        lake = self.lake
        lake.work.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.working_database or str(lake.working_db))
        try:
            limit_duckdb(con, lake.work / "duckdb_tmp")
            for schema in WORKING_SCHEMAS:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            yield con
        except LandingError as error:
            error.file = lake.relative(Path(error.file))
            raise
        finally:
            con.close()

    def record_ingest(
        self,
        con: duckdb.DuckDBPyConnection,
        run_id: str,
        asset: str,
        files: dict[Path, int],
        corrections: CorrectionSet,
    ) -> dict:
        """Record what a staging step read: files (checksum, size, rows), rejected rows and
        applied corrections, in the audit and, for the gates, in ``staged.rejected_rows``.

        Returns materialisation metadata summing it up.
        """
        lake = self.lake
        at = audit.now()
        partitions = sorted({lake.partition_of(path) for path in files})
        # Checksums and sizes as the gate took them: each file is hashed once per run.
        gated = {
            file: (sha256, size)
            for file, sha256, size in con.execute(
                "SELECT file, sha256, size_bytes FROM staged.landing_files"
            ).fetchall()
        }
        ingested = [
            (
                run_id,
                asset,
                lake.partition_of(path),
                lake.relative(path),
                *gated[lake.relative(path)],
                rows,
                at,
            )
            for path, rows in files.items()
        ]
        con.execute(f"CREATE TABLE IF NOT EXISTS staged.rejected_rows {REJECTED_ROWS_DDL}")
        con.execute(
            "DELETE FROM staged.rejected_rows WHERE asset = ? AND partition IN (SELECT unnest(?))",
            [asset, partitions],
        )
        con.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {REJECTS_TABLE} (file VARCHAR, line BIGINT, "
            "column_name VARCHAR, reason VARCHAR, raw VARCHAR)"
        )
        rejected = [
            (
                asset,
                lake.partition_of(Path(file)),
                lake.relative(Path(file)),
                line,
                column,
                reason,
                raw,
            )
            for file, line, column, reason, raw in con.execute(
                f"SELECT * FROM {REJECTS_TABLE} ORDER BY file, line"
            ).fetchall()
        ]
        con.execute(f"DELETE FROM {REJECTS_TABLE}")
        if rejected:
            con.executemany(
                "INSERT INTO staged.rejected_rows VALUES (?, ?, ?, ?, ?, ?, ?)", rejected
            )
        applied = [
            (
                run_id,
                asset,
                lake.partition_of(lake.landing / c.file),
                c.source,
                c.source_row,
                c.file,
                c.key,
                c.field,
                c.value,
                c.reason,
                changed,
                at,
                status,
            )
            for c, changed, status in [
                *((c, n, "applied") for c, n in corrections.applied),
                *((c, 0, SKIPPED) for c in corrections.skipped),
            ]
        ]
        audit.append(lake.audit_db, "ingested_files", ingested)
        audit.append(
            lake.audit_db,
            "rejected_rows",
            [(run_id, a, p, f, ln, c, r, raw, at) for a, p, f, ln, c, r, raw in rejected],
        )
        audit.append(lake.audit_db, "corrections", applied)
        return {
            "landing_files": dg.MetadataValue.md(
                "| file | rows | sha256 |\n|---|---|---|\n"
                + "\n".join(
                    f"| {f} | {rows} | `{digest[:12]}` |"
                    for _, _, _, f, digest, _, rows, _ in ingested
                )
            ),
            "rejected_rows": dg.MetadataValue.int(len(rejected)),
            "corrections_applied": dg.MetadataValue.int(len(corrections.applied)),
            "corrections_skipped": dg.MetadataValue.int(len(corrections.skipped)),
        }


# The audit's status of a correction whose file belongs to a year the run does not refresh.
SKIPPED = "skipped: the run does not refresh its year"
REJECTED_ROWS_DDL = """(asset VARCHAR, partition VARCHAR, file VARCHAR, line BIGINT,
    column_name VARCHAR, reason VARCHAR, raw VARCHAR)"""


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    """Row count and column schema of a working-database table, as materialisation metadata."""
    schema, name = table.split(".")
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    rows = con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchall()[0][0]
    return {
        "dagster/row_count": dg.MetadataValue.int(int(rows)),
        "dagster/column_schema": column_schema(columns, table),
        "dagster/table_name": dg.MetadataValue.text(f"working.{schema}.{name}"),
    }
