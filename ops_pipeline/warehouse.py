"""The published DuckDB file: the storage format it is written in, copying it into that format,
and counting its rows.

DuckDB 2.0 writes storage v2.0.0+ by default, which no DuckDB 1.x client opens; the BI tools in
the field ship 1.x drivers, so published warehouses are written in v1.0.0 unless
``$OPS_WAREHOUSE_STORAGE_VERSION`` says otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb

from ops_pipeline.readers.text import sql_identifier, sql_string

STORAGE_VERSION_ENV_VAR = "OPS_WAREHOUSE_STORAGE_VERSION"
DEFAULT_STORAGE_VERSION = "v1.0.0"


class StorageVersionError(ValueError):
    """``$OPS_WAREHOUSE_STORAGE_VERSION`` is not a storage version."""


def storage_version() -> str:
    """The storage format published warehouses are written in (``$OPS_WAREHOUSE_STORAGE_VERSION``,
    default v1.0.0)."""
    chosen = os.environ.get(STORAGE_VERSION_ENV_VAR) or DEFAULT_STORAGE_VERSION
    if not re.fullmatch(r"v\d+\.\d+\.\d+", chosen):
        raise StorageVersionError(
            f"{STORAGE_VERSION_ENV_VAR}={chosen!r}: not a DuckDB storage version such as v1.0.0"
        )
    return chosen


def copy_warehouse(source: Path, target: Path) -> None:
    """``source`` as a new warehouse file at ``target`` in :func:`storage_version`'s format: the
    same bytes when it is in that format already, else every table and comment rewritten."""
    wanted = storage_version()
    if warehouse_storage_version(source) == wanted:
        shutil.copyfile(source, target)
        return
    with duckdb.connect() as con:
        con.execute(f"ATTACH {sql_string(source)} AS source (READ_ONLY)")
        con.execute(f"ATTACH {sql_string(target)} AS target (STORAGE_VERSION {sql_string(wanted)})")
        con.execute("COPY FROM DATABASE source TO target")
        con.execute("CHECKPOINT target")


def warehouse_storage_version(warehouse: Path) -> str:
    """The storage format a DuckDB file is written in, e.g. ``v1.0.0`` (the oldest DuckDB that
    reads it)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH {sql_string(warehouse)} AS probe (READ_ONLY)")
        (tags,) = con.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = 'probe'"
        ).fetchone()
    return tags.get("storage_version", "").removesuffix("+")


def table_counts(warehouse: Path) -> dict[str, int]:
    """Rows of every table of a warehouse file, as ``{"schema.table": rows}``."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL"
        ).fetchall()
        return {
            f"{schema}.{table}": con.execute(
                f"SELECT count(*) FROM {sql_identifier(schema)}.{sql_identifier(table)}"
            ).fetchall()[0][0]
            for schema, table in tables
        }
