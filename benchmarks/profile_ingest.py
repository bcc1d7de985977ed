"""Where the survey ingest spends its time: each SQL statement of ``stage_survey``, timed.

    .venv/bin/python benchmarks/profile_ingest.py LAKE

Runs ``stage_survey`` on a fresh working database of LAKE (everything but ``landing/`` is
removed first) through a connection that times every statement, and prints the statements by
time with the process's RSS after each, then the time spent outside DuckDB (Python: encoding
checks, copies).
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path

import duckdb
import psutil


class TimedConnection:
    """A DuckDB connection that records the seconds and the RSS after every ``execute``."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        self.statements: list[tuple[float, float, str]] = []

    def execute(self, sql: str, *args):
        started = time.perf_counter()
        result = self._con.execute(sql, *args)
        seconds = time.perf_counter() - started
        rss = psutil.Process().memory_info().rss / 2**20
        self.statements.append((seconds, rss, " ".join(sql.split())))
        return result

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def main(lake_root: Path) -> None:
    from ops_pipeline.defs.resources import WORKING_SCHEMAS
    from ops_pipeline.lake import SURVEY, Lake
    from ops_pipeline.landing import gate
    from ops_pipeline.staging.survey import stage_survey

    for path in lake_root.iterdir():
        if path.name != "landing":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    lake = Lake(lake_root.resolve())
    lake.work.mkdir()
    started = time.perf_counter()
    con = TimedConnection(duckdb.connect(str(lake.working_db)))
    for schema in WORKING_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    inventory, _ = gate(lake)
    stage_survey(con, lake, inventory, inventory.years(SURVEY))
    closing = time.perf_counter()
    con.close()
    total = time.perf_counter() - started
    close = time.perf_counter() - closing
    in_sql = sum(s for s, _, _ in con.statements)

    print(f"stage_survey + close: {total:.2f} s; peak RSS {_peak_mb():.0f} MB")
    print(f"{'s':>7} {'share':>6} {'RSS MB':>7}  statement")
    for seconds, rss, sql in sorted(con.statements, reverse=True)[:12]:
        shown = re.sub(r"'[^']*/", "'…/", sql)  # paths shortened
        print(f"{seconds:7.2f} {seconds / total:6.0%} {rss:7.0f}  {shown[:150]}")
    print(f"{close:7.2f} {close / total:6.0%} {'':>7}  close (checkpoint)")
    rest = total - in_sql - close
    print(f"{rest:7.2f} {rest / total:6.0%} {'':>7}  outside DuckDB (Python)")


def _peak_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s*(\d+) kB", status, re.M)[1]) / 1024


if __name__ == "__main__":
    main(Path(sys.argv[1]))
