"""Open-format copies of the marts for tools that do not read DuckDB: ``exports/<mart>.parquet``
and ``exports/<mart>.csv``, written from a finished warehouse file (so they hold exactly what it
holds) into the publication that carries it.

- Parquet, written by pyarrow from DuckDB's Arrow stream: the schema is the table's own.
- CSV as a Danish spreadsheet opens it: UTF-8 with a BOM, ``;`` between cells, CRLF, a decimal
  comma in DOUBLE and DECIMAL columns, lists as ``a, b``. Text cells starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return get a leading ``'`` so a spreadsheet shows them as text
  instead of evaluating them as formulas (CSV injection); numeric columns, and text cells that are
  just a signed number, are left as they are. The formatting is one DuckDB query per mart.
"""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from ops_pipeline.faults import fault_point
from ops_pipeline.readers.text import sql_identifier, sql_string

MARTS_SCHEMA = "marts"
# A text cell a spreadsheet would evaluate: it starts like a formula and is not a plain number.
_FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"[+-]?[0-9]+([.,][0-9]+)?"
_DECIMAL_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
_NESTED_TYPES = ("STRUCT", "MAP", "UNION")  # may carry text from the landing zone


def write_exports(warehouse: Path, folder: Path) -> list[str]:
    """Write every table of schema ``marts`` of ``warehouse`` as Parquet and CSV into ``folder``;
    return the marts written, sorted. Publishing makes the files durable (fsync)."""
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marts = mart_names(con)
        for n, mart in enumerate(marts):
            if n == len(marts) // 2:
                fault_point("export")
            write_parquet(con, mart, folder / f"{mart}.parquet")
            write_csv(con, mart, folder / f"{mart}.csv")
    return marts


def mart_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY table_name",
            [MARTS_SCHEMA],
        ).fetchall()
    ]


def write_parquet(con: duckdb.DuckDBPyConnection, mart: str, path: Path) -> Path:
    """The mart as Parquet, streamed batch by batch through Arrow."""
    reader = con.sql(f"SELECT * FROM {_table(mart)}").to_arrow_reader()
    with pq.ParquetWriter(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
    return path


def write_csv(con: duckdb.DuckDBPyConnection, mart: str, path: Path) -> Path:
    """The mart as a CSV for spreadsheets (see the module docstring)."""
    # DuckDB's COPY cannot write a BOM: it writes the body, which is then put after one.
    body = path.with_name(f".{path.name}.part")
    try:
        con.execute(
            f"COPY ({csv_query(con, mart)}) TO {sql_string(body)} "
            "(FORMAT csv, DELIMITER ';', HEADER, QUOTE '\"', NEW_LINE '\r\n')"
        )
        with path.open("wb") as out, body.open("rb") as src:
            out.write(codecs.BOM_UTF8)
            shutil.copyfileobj(src, out)
    finally:
        body.unlink(missing_ok=True)
    return path


def csv_query(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    """SELECT of a mart with every column formatted for the CSV export."""
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [MARTS_SCHEMA, mart],
    ).fetchall()
    cells = ", ".join(
        f"{_csv_cell(sql_identifier(name), data_type)} AS {sql_identifier(name)}"
        for name, data_type in columns
    )
    return f"SELECT {cells} FROM {_table(mart)}"


def _csv_cell(column: str, data_type: str) -> str:
    if data_type.startswith(_DECIMAL_TYPES):
        return f"replace(CAST({column} AS VARCHAR), '.', ',')"
    if data_type == "VARCHAR[]":
        return _neutralised(f"array_to_string({column}, ', ')")
    if data_type == "VARCHAR":
        return _neutralised(column)
    if data_type.endswith("]") or data_type.startswith(_NESTED_TYPES):
        return _neutralised(f"CAST({column} AS VARCHAR)")
    # Whole numbers, booleans, dates and times: as COPY writes them.
    return column


def _neutralised(text: str) -> str:
    return (
        f"CASE WHEN regexp_matches({text}, {sql_string(_FORMULA_START)}) "
        f"AND NOT regexp_full_match({text}, {sql_string(_PLAIN_NUMBER)}) "
        f"THEN '''' || {text} ELSE {text} END"
    )


def _table(mart: str) -> str:
    return f"{MARTS_SCHEMA}.{sql_identifier(mart)}"
