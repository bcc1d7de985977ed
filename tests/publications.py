"""What the publishing tests check of a lake: the published warehouse and exports, as bytes and as
a consistent pair, and what a crash may have left behind. Plain functions over a lake folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

REPO = Path(__file__).parents[1]


def run_cli(
    dagster_home: Path, *args: str, env: dict | None = None, **popen
) -> subprocess.CompletedProcess:
    """``ops-pipeline`` in its own process, as the ``cli`` fixture runs it (usable in module
    fixtures too). ``popen`` goes to :func:`subprocess.run` (``preexec_fn`` for a limit)."""
    environment = {**os.environ, "DAGSTER_HOME": str(dagster_home), **(env or {})}
    environment.pop("OPS_DATA_LAKE", None)
    return subprocess.run(
        [sys.executable, "-m", "ops_pipeline.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=600,
        **popen,
    )


def run_in_process(dagster_home: Path, *args: str) -> int:
    """``ops-pipeline`` in this process (as the console script calls it, Dagster and GX already
    imported: seconds less than a process of its own), for module and session fixtures."""
    from ops_pipeline import cli

    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        return cli.main(list(args))
    finally:
        if before is None:
            os.environ.pop("DAGSTER_HOME")
        else:
            os.environ["DAGSTER_HOME"] = before


def start_cli(
    dagster_home: Path, log: Path, *args: str, env: dict | None = None
) -> subprocess.Popen:
    """``ops-pipeline`` started in the background, its standard input a pipe and its output in
    ``<log>.out`` and ``<log>.err`` (files: a pipe nobody reads could fill up and stall it)."""
    environment = {**os.environ, "DAGSTER_HOME": str(dagster_home), **(env or {})}
    environment.pop("OPS_DATA_LAKE", None)
    with open(f"{log}.out", "w") as out, open(f"{log}.err", "w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "ops_pipeline.cli", *args],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            text=True,
            env=environment,
            cwd=REPO,
        )


def published_files(lake: Path, *, reports: bool = False) -> dict[str, bytes]:
    """The bytes a BI tool or a spreadsheet reads: the warehouse and every export (and with
    ``reports``, the annual reports people open)."""
    files = {"warehouse.duckdb": (lake / "warehouse.duckdb").read_bytes()}
    folders = ["exports", "reports"] if reports else ["exports"]
    for folder in folders:
        if (lake / folder).exists():
            files.update(
                {f"{folder}/{p.name}": p.read_bytes() for p in sorted((lake / folder).iterdir())}
            )
    return files


def leftovers(lake: Path) -> list[Path]:
    """Temporary names of unfinished publications (and of older versions of the pipeline)."""
    found = [p for p in lake.glob(".*") if p.name.endswith((".tmp", ".tmp.wal"))]
    history = lake / "history"
    if history.is_dir():
        found += [p for p in history.iterdir() if p.name.startswith(".")]
    return sorted(found)


def mart_names(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
            ).fetchall()
        ]


def assert_published_pair(lake: Path) -> str:
    """The published warehouse, exports and reports are one complete publication of
    ``history/``, the exports hold exactly the warehouse's marts and the reports are one per
    budget year of that warehouse, as its manifest lists. Returns the publication's folder
    name."""
    current = lake / "current"
    assert current.is_symlink(), "no publication switched in"
    publication = current.resolve()
    assert publication.parent == (lake / "history").resolve()
    assert not publication.name.startswith(".") and (publication / "publication.json").is_file()
    assert (lake / "warehouse.duckdb").resolve() == publication / "warehouse.duckdb"
    assert (lake / "exports").resolve() == publication / "exports"
    assert (lake / "reports").resolve() == publication / "reports"
    manifest = json.loads((publication / "publication.json").read_text(encoding="utf-8"))
    reports = sorted(p.name for p in (lake / "reports").iterdir())
    assert reports == manifest["reports"]
    assert not list(publication.glob("*.wal"))
    marts = mart_names(lake / "warehouse.duckdb")
    assert marts, "the warehouse has no marts"
    exports = sorted(p.name for p in (lake / "exports").iterdir())
    assert exports == sorted([f"{m}.csv" for m in marts] + [f"{m}.parquet" for m in marts])
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        for mart in marts:
            table = con.sql(f'SELECT * FROM marts."{mart}"').to_arrow_table()
            parquet = pq.read_table(lake / "exports" / f"{mart}.parquet")
            assert parquet.to_pylist() == table.to_pylist(), mart
            text = (lake / "exports" / f"{mart}.csv").read_bytes().decode("utf-8-sig")
            assert text.endswith("\r\n") and text.split("\r\n")[0].split(";") == table.column_names
        years = con.execute("SELECT DISTINCT budget_year FROM marts.municipal_savings").fetchall()
    assert reports == sorted(f"analysis_{year}.html" for (year,) in years)
    return publication.name


def mart_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            name: con.execute(f'SELECT count(*) FROM marts."{name}"').fetchall()[0][0]
            for name in mart_names(warehouse)
        }
