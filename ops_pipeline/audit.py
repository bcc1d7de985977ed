"""The audit trail of a lake: ``<lake>/audit.duckdb``, appended by every run, failed ones too.

- ``ingested_files``: every landing file read, with checksum, size, rows and the run that read it.
- ``rejected_rows``: rows a reader could not parse, verbatim, with file, line and reason.
- ``validation_results``: the outcome of every expectation of every quality gate.
- ``corrections``: every correction from ``<lake>/corrections/`` that a run applied, or skipped
  because the run did not refresh its file's year (``status``).
- ``ignored_entries``: landing and corrections entries the gate ignored, with the rule.

No BI tool needs this file. The published warehouse carries the rows of its own run in schema
``audit`` (rejected rows without their raw text, which may hold personal data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ops_pipeline import sql
from ops_pipeline.readers.csv_load import REJECTS_TABLE
from ops_pipeline.schemas import ddl

if TYPE_CHECKING:
    from ops_pipeline.lake import Lake
    from ops_pipeline.readers.corrections import CorrectionSet

TABLES = {
    "ingested_files": """(run_id VARCHAR, asset VARCHAR, partition VARCHAR, file VARCHAR,
        sha256 VARCHAR, size_bytes BIGINT, rows BIGINT, read_at TIMESTAMPTZ)""",
    "rejected_rows": """(run_id VARCHAR, asset VARCHAR, partition VARCHAR, file VARCHAR,
        line BIGINT, column_name VARCHAR, reason VARCHAR, raw VARCHAR, recorded_at TIMESTAMPTZ)""",
    "validation_results": """(run_id VARCHAR, asset VARCHAR, partition VARCHAR, check_name VARCHAR,
        expectation VARCHAR, column_name VARCHAR, success BOOLEAN, element_count BIGINT,
        unexpected_count BIGINT, unexpected_sample VARCHAR, docs_page VARCHAR,
        checked_at TIMESTAMPTZ)""",
    "corrections": """(run_id VARCHAR, asset VARCHAR, partition VARCHAR, corrections_file VARCHAR,
        corrections_row BIGINT, file VARCHAR, key VARCHAR, field VARCHAR, value VARCHAR,
        reason VARCHAR, rows_changed BIGINT, applied_at TIMESTAMPTZ, status VARCHAR)""",
    "ignored_entries": "(run_id VARCHAR, path VARCHAR, rule VARCHAR)",
}
# Columns added to a table after lakes were created with it: added on open.
ADDED_COLUMNS = {"corrections": [("status", "VARCHAR")]}
# What the published warehouse shows of each table (no raw rows there).
PUBLISHED_COLUMNS = {
    "ingested_files": "run_id, asset, partition, file, sha256, size_bytes, rows, read_at",
    "rejected_rows": "run_id, asset, partition, file, line, column_name, reason, recorded_at",
    "validation_results": "run_id, asset, partition, check_name, expectation, column_name, "
    "success, element_count, unexpected_count, checked_at",
    "corrections": "run_id, asset, partition, corrections_file, corrections_row, file, key, "
    "field, value, reason, rows_changed, applied_at, status",
    "ignored_entries": "run_id, path, rule",
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open (and create) the audit database."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for table, columns in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} {columns}")
    for table, added in ADDED_COLUMNS.items():
        for column, kind in added:
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
    return con


def append(path: Path, table: str, rows: list[tuple]) -> None:
    """Append rows (in the column order of ``TABLES[table]``) to the audit database."""
    if not rows:
        return
    import pyarrow as pa

    columns = list(zip(*rows, strict=True))
    # One bulk insert from Arrow: DuckDB's executemany binds row by row.
    batch = pa.table({f"c{i}": list(values) for i, values in enumerate(columns)})
    with connect(path) as con:
        con.register("audit_batch", batch)
        con.execute(f"INSERT INTO {table} SELECT * FROM audit_batch")


# The audit's status of a correction whose file belongs to a year the run does not refresh.
SKIPPED = "skipped: the run does not refresh its year"


@dataclass(frozen=True)
class Ingest:
    """What one staging step read, as recorded: files (as people see them) with checksum and
    rows, the rows readers rejected, and the corrections applied and skipped."""

    files: list[tuple[str, str, int]]  # (file, sha256, rows)
    rejected_rows: int
    corrections_applied: int
    corrections_skipped: int


def record_ingest(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    run_id: str,
    asset: str,
    files: dict[Path, int],
    corrections: CorrectionSet,
) -> Ingest:
    """Record what a staging step read: files (checksum, size, rows), rejected rows and
    applied corrections, in the audit and, for the quality gates, in ``staged.rejected_rows``
    (the step's rows of the years it read replaced)."""
    at = now()
    # Checksums and sizes as the gate took them: each file is hashed once per run.
    gated = {
        file: (sha256, size)
        for file, sha256, size in con.execute(
            "SELECT file, sha256, size_bytes FROM staged.landing_files"
        ).fetchall()
    }
    ingested = [
        (run_id, asset, lake.partition_of(path), lake.relative(path), *gated[lake.relative(path)])
        + (rows, at)
        for path, rows in files.items()
    ]
    con.execute(f"CREATE TABLE IF NOT EXISTS staged.rejected_rows {ddl('staged.rejected_rows')}")
    con.execute(
        "DELETE FROM staged.rejected_rows WHERE asset = ? AND partition IN (SELECT unnest(?))",
        [asset, sorted({lake.partition_of(path) for path in files})],
    )
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {REJECTS_TABLE} (file VARCHAR, line BIGINT, "
        "column_name VARCHAR, reason VARCHAR, raw VARCHAR)"
    )
    # The lake's naming rule once per file, the rows in SQL.
    shown = [
        (file, lake.relative(Path(file)), lake.partition_of(Path(file)))
        for (file,) in con.execute(f"SELECT DISTINCT file FROM {REJECTS_TABLE}").fetchall()
    ]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE reject_files (file VARCHAR, shown VARCHAR, partition VARCHAR)"
    )
    if shown:
        con.executemany("INSERT INTO reject_files VALUES (?, ?, ?)", shown)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE step_rejects AS {sql.query('staged/rejected_rows')}",
        {"asset": asset},
    )
    con.execute("INSERT INTO staged.rejected_rows SELECT * FROM step_rejects")
    rejected = con.execute("SELECT * FROM step_rejects").fetchall()
    con.execute(f"DELETE FROM {REJECTS_TABLE}")
    con.execute("DROP TABLE reject_files; DROP TABLE step_rejects")
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
    append(lake.audit_db, "ingested_files", ingested)
    append(
        lake.audit_db,
        "rejected_rows",
        [(run_id, a, p, f, ln, c, r, raw, at) for a, p, f, ln, c, r, raw in rejected],
    )
    append(lake.audit_db, "corrections", applied)
    return Ingest(
        files=[(f, digest, rows) for _, _, _, f, digest, _, rows, _ in ingested],
        rejected_rows=len(rejected),
        corrections_applied=len(corrections.applied),
        corrections_skipped=len(corrections.skipped),
    )
