"""SQL of the pipeline, one file per table: ``staged/<table>.sql`` and ``marts/<mart>.sql``.

A mart's definition lives only in its file; assets, tests and reports read it from here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent


@cache
def query(name: str) -> str:
    """The SELECT of ``<layer>/<table>``, e.g. ``query("marts/survey_response")``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def insert(con, table: str, parameters: dict | None = None) -> None:
    """Append the rows of ``table``'s SQL file (``staged.x`` runs ``staged/x.sql``) to it, the
    query evaluated once; ``parameters`` fill its ``$name`` placeholders."""
    con.execute(f"INSERT INTO {table} {query(table.replace('.', '/'))}", parameters or {})


def create(con, table: str, parameters: dict | None = None) -> None:
    """Replace ``table`` by the rows of its SQL file (``staged.x`` runs ``staged/x.sql``)."""
    con.execute(
        f"CREATE OR REPLACE TABLE {table} AS {query(table.replace('.', '/'))}", parameters or {}
    )
