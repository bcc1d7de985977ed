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
