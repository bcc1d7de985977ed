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
from pathlib import Path

import duckdb

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
