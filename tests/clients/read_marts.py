"""A BI client's read of the published warehouse, as canonical JSON (tests/test_clients.py).

    <python> tests/clients/read_marts.py WAREHOUSE [--hold]

Run by each Python venv of ``.clients/`` (duckdb 1.0.0, duckdb 1.4.x) and imported by the test
itself, whose duckdb 2.0.1 reads the same file for the expected answer. Opens ``WAREHOUSE``
read-only, lists the tables of schema ``marts`` (``information_schema``, as BI tools do), reads
every row of every mart ordered by all its columns, and prints one line of JSON::

    {"client": "python duckdb 1.0.0", "engine": "v1.0.0", "tables": [...],
     "marts": {mart: {"columns": [...], "types": [...], "rows": [[...], ...]}}}

Values as JSON: NULL as null, booleans, integers, doubles as numbers that read back as the same
double (Python's shortest repr), non-finite doubles as the strings "NaN", "Infinity",
"-Infinity", lists as arrays. Any other type fails loudly, so that a new one is considered.

With ``--hold`` the connection stays open after the first read until a line arrives on standard
input, then every mart is read again through it and printed as a second line: a session that
lives across a refresh.

Runs on every duckdb from 1.0.0 on and on Python 3.8+; only the standard library and duckdb.
"""

import json
import math
import sys

import duckdb

TABLES = (
    "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = 'marts' AND table_type = 'BASE TABLE' ORDER BY table_name"
)


def _value(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, list):
        return [_value(v) for v in value]
    raise TypeError(f"no canonical JSON for {type(value).__name__} {value!r}")


def read_marts(con) -> dict:
    """Every mart the connection sees: ``{"tables": [...], "marts": {...}}``, in one snapshot."""
    con.execute("BEGIN TRANSACTION")
    try:
        tables = [name for (name,) in con.execute(TABLES).fetchall()]
        marts = {}
        for name in tables:
            quoted = '"' + name.replace('"', '""') + '"'
            relation = con.sql(f"SELECT * FROM marts.{quoted} ORDER BY ALL")
            marts[name] = {
                "columns": list(relation.columns),
                "types": [str(t) for t in relation.types],
                "rows": [[_value(v) for v in row] for row in relation.fetchall()],
            }
    finally:
        con.execute("COMMIT")
    return {"tables": tables, "marts": marts}


def read_json(con) -> str:
    """:func:`read_marts` as one line of JSON, with the client and engine versions."""
    (engine,) = con.execute("SELECT version()").fetchone()
    read = {"client": f"python duckdb {duckdb.__version__}", "engine": engine, **read_marts(con)}
    return json.dumps(read, ensure_ascii=False, allow_nan=False)


def main(argv: list) -> int:
    warehouse, *flags = argv
    con = duckdb.connect(warehouse, read_only=True)
    try:
        print(read_json(con), flush=True)
        if "--hold" in flags:
            sys.stdin.readline()
            print(read_json(con), flush=True)
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
