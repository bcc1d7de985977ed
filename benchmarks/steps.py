"""The steps the benchmark measures besides ``ops-pipeline run``, each run in its own process.

    python benchmarks/steps.py ingest LAKE       the pipeline's stage_survey on a fresh working DB
    python benchmarks/steps.py reference LAKE    the same ingest in bare DuckDB SQL
    python benchmarks/steps.py refresh-reference LAKE [--code DIR]
                                                 the whole refresh, landing/ to marts, in bare
                                                 DuckDB SQL (benchmarks/bare_refresh.py), with
                                                 the mart SQL of DIR's ops_pipeline/

Each prints one JSON line: the seconds of the step itself (from opening the database to closing
it, imports excluded); for the ingest steps the answer rows staged and the UTF-8 copies the
pipeline's reader made of Windows-1252 files, for the refresh reference its phases and the rows
of each mart. ``run_benchmark.py`` starts these and measures the process's memory from outside.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

# Columns of an export that are not answers: the key, the municipality and the status flags.
KEY = "respondentid"
NOT_ANSWERS = (KEY, "kommunekode")
STATUS_PREFIX = "stato_"
CHUNK = 1 << 24


def ingest(root: Path) -> dict:
    """``stage_survey`` of every survey year into a fresh ``work/working.duckdb``, as the
    ``staged_survey`` asset does (minus Dagster's metadata and audit queries)."""
    from ops_pipeline.defs.resources import WORKING_SCHEMAS
    from ops_pipeline.lake import SURVEY, Lake
    from ops_pipeline.landing import gate
    from ops_pipeline.staging.survey import stage_survey

    lake = Lake(root)
    inventory, _ = gate(lake)
    years = inventory.years(SURVEY)
    lake.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(lake.working_db))
    for schema in WORKING_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    stage_survey(con, lake, inventory, years)
    con.close()  # includes the checkpoint that writes the tables to the file
    seconds = time.perf_counter() - started
    with duckdb.connect(str(lake.working_db), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM staged.survey_answers").fetchone()[0]
    # The reader's UTF-8 copies of Windows-1252 files with bytes 0x80-0x9F.
    copies = sorted(p.name for p in lake.scratch.glob("*")) if lake.scratch.is_dir() else []
    return {"seconds": seconds, "answers": rows, "utf8_copies": copies}


def reference(root: Path) -> dict:
    """The bare-SQL equivalent: ``read_csv`` of each dataset, ``UNPIVOT`` into one table.

    Windows-1252 and Latin-1 agree on every byte but 0x80-0x9F: a dataset without those is read
    as Latin-1 (or UTF-8 when it is ASCII), as the pipeline's reader does; one with them would
    need the pipeline's UTF-8 copy, and this reference refuses it rather than time something
    else.
    """
    datasets = sorted(root.glob("landing/survey/*/dataset.csv"))
    encodings = {path: _encoding(path) for path in datasets}
    excluded = {path: _not_answers(path, encodings[path]) for path in datasets}
    database = root / "work" / "reference.duckdb"
    database.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(database))
    con.execute(
        "CREATE TABLE answers (survey_year INTEGER, respondent VARCHAR, variable VARCHAR, "
        "answer VARCHAR)"
    )
    for path in datasets:
        con.execute(
            f"""INSERT INTO answers
                SELECT {int(path.parent.name)}, {KEY}, variable, answer FROM (
                    UNPIVOT (SELECT * FROM read_csv(?, encoding = '{encodings[path]}',
                                                    delim = ';', header = true,
                                                    all_varchar = true))
                    ON COLUMNS(* EXCLUDE ({", ".join(excluded[path])}))
                    INTO NAME variable VALUE answer
                )""",
            [str(path)],
        )
    con.close()
    seconds = time.perf_counter() - started
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM answers").fetchone()[0]
    return {"seconds": seconds, "answers": rows, "utf8_copies": []}


def _encoding(path: Path) -> str:
    """DuckDB's name for the encoding to read a Windows-1252 or ASCII dataset with."""
    ascii_only = True
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if any(0x80 <= b <= 0x9F for b in chunk.translate(None, bytes(range(0x80)))):
                raise SystemExit(f"{path}: has bytes 0x80-0x9F; the reference reads Latin-1 only")
            ascii_only = ascii_only and chunk.isascii()
    return "utf-8" if ascii_only else "latin-1"


def _not_answers(path: Path, encoding: str) -> list[str]:
    with path.open(encoding=encoding, newline="") as fh:
        header = fh.readline().rstrip("\r\n").split(";")
    return [c for c in header if c in NOT_ANSWERS or c.startswith(STATUS_PREFIX)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=("ingest", "reference", "refresh-reference"))
    parser.add_argument("lake", type=Path)
    parser.add_argument(
        "--code",
        type=Path,
        default=Path(__file__).resolve().parents[1],
        help="refresh-reference: the folder whose ops_pipeline/ holds the mart SQL and the "
        "municipalities (default: this checkout)",
    )
    args = parser.parse_args(argv)
    if args.step == "refresh-reference":
        from bare_refresh import refresh

        print(json.dumps(refresh(args.lake.resolve(), args.code.resolve())))
        return 0
    step = ingest if args.step == "ingest" else reference
    print(json.dumps(step(args.lake.resolve())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
