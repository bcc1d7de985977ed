"""A faster survey ingest, measured against the pipeline's SQL and the bare reference.

    .venv/bin/python benchmarks/prototype_ingest.py LAKE [--tries 3]

Replays, on LAKE's survey dataset, the dataset statements of the survey ingest in three forms,
each try in a fresh process and database, the forms alternating:

- ``current``: as ``readers/text.load_csv``, ``readers/surveyxact._read_csv`` and
  ``defs/survey._stage_export`` do now: ``read_csv`` into ``sx_raw_dataset`` numbered by
  ``row_number() OVER ()``, a full copy into ``sx_dataset`` to add ``_file``, the status and key
  checks (the duplicate-key check builds a list of places for every key), respondents, answers;
- ``proposed``: the same checks and tables, but one temp table read straight into
  ``sx_dataset`` with ``_file``, its rows numbered by ``rowid`` when a number is needed, and the
  duplicate-key check first looking for a repeated key with a plain ``GROUP BY`` and building
  the places only for that key;
- ``streamed``: as ``proposed``, but the temp table holds only the columns the checks and
  respondents need (key and status flags; DuckDB then skips the other columns' values), and the
  answers are unpivoted straight from a second ``read_csv`` of the file, as the reference does;
- ``reference``: ``read_csv`` + ``UNPIVOT`` into the answers table, nothing else.

Structure and labels (a few hundred rows) are left out: they take milliseconds. Prints the
median seconds and peak memory (VmHWM) of each form.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ANSWERS = "(survey_year INTEGER, respondent VARCHAR, variable VARCHAR, answer VARCHAR)"
RESPONDENTS = """(survey_year INTEGER, respondent VARCHAR, municipality_code INTEGER,
    status INTEGER, source_file VARCHAR, source_row BIGINT)"""
KEY = "respondentid"
FLAGS = {code: f"stato_{code}" for code in range(1, 6)}
FORMS = ("current", "proposed", "streamed", "reference")


def read_csv(path: Path, rejects: bool = True) -> str:
    """The pipeline's read_csv call (load_csv), with or without its rejects tables."""
    stored = ", store_rejects=true, rejects_table='rj', rejects_scan='rs'" if rejects else ""
    return (
        f"read_csv('{path}', encoding='utf-8', delim=';', quote='\"', escape='\"', header=true, "
        f"all_varchar=true, null_padding=false, strict_mode=true{stored})"
    )


def stage(con: duckdb.DuckDBPyConnection, path: Path, form: str) -> None:
    """The dataset statements of one form (see the module docstring)."""
    header = path.open(encoding="latin-1").readline().rstrip("\r\n").split(";")
    answers = [c for c in header if c != KEY and c not in FLAGS.values() and c != "kommunekode"]
    on = ", ".join(f'"{c}"' for c in answers)
    con.execute("CREATE SCHEMA staged")
    con.execute(f"CREATE TABLE staged.survey_answers {ANSWERS}")
    if form == "reference":
        con.execute(
            f"""INSERT INTO staged.survey_answers SELECT 2022, {KEY}, variable, answer
                FROM (UNPIVOT (SELECT * FROM {read_csv(path, rejects=False)})
                      ON {on} INTO NAME variable VALUE answer)"""
        )
        return
    con.execute(f"CREATE TABLE staged.survey_respondents {RESPONDENTS}")
    if form == "current":
        con.execute(
            "CREATE TEMP TABLE sx_raw_dataset AS SELECT *, (row_number() OVER () + 1)::BIGINT "
            f"AS _row FROM {read_csv(path)}"
        )
        con.execute("SELECT * FROM rj ORDER BY line LIMIT 1").fetchall()
        con.execute(
            "CREATE TEMP TABLE sx_dataset AS SELECT *, 'dataset.csv' AS _file FROM sx_raw_dataset"
        )
        con.execute("DROP TABLE sx_raw_dataset")
        row = "_row"
    else:
        kept = "*" if form == "proposed" else ", ".join([KEY, *FLAGS.values()])
        con.execute(
            f"CREATE TEMP TABLE sx_dataset AS SELECT {kept}, 'dataset.csv' AS _file "
            f"FROM {read_csv(path)}"
        )
        con.execute("SELECT * FROM rj ORDER BY line LIMIT 1").fetchall()
        row = "(rowid + 2)"  # rows in file order: rowid 0 is spreadsheet row 2
    con.execute("SELECT count(*) FROM sx_dataset").fetchall()

    file_expr = "'survey/2022/' || _file"
    is_set = {c: f"coalesce(trim({v}), '0') = '1'" for c, v in FLAGS.items()}
    bad_flag = " OR ".join(f"coalesce(trim({v}), '0') NOT IN ('0', '1')" for v in FLAGS.values())
    count_set = " + ".join(f"({cond})::INTEGER" for cond in is_set.values())
    key = f"NULLIF(trim({KEY}), '')"
    for condition in (bad_flag, f"{count_set} <> 1", f"{key} IS NULL"):
        con.execute(
            f"SELECT {file_expr}, {row} FROM sx_dataset WHERE {condition} "
            f"ORDER BY _file, {row} LIMIT 1"
        ).fetchall()
    if form == "current":
        con.execute(
            f"""SELECT {key}, list({file_expr} || ' row ' || {row} ORDER BY _file, {row})
                FROM sx_dataset GROUP BY 1 HAVING count(*) > 1 ORDER BY min({row}) LIMIT 1"""
        ).fetchall()
    else:
        repeated = con.execute(
            f"SELECT {key} FROM sx_dataset GROUP BY 1 HAVING count(*) > 1 LIMIT 1"
        ).fetchall()
        assert not repeated  # with one, the places of that key only are listed, as now

    status = "CASE " + " ".join(f"WHEN {cond} THEN {c}" for c, cond in is_set.items()) + " END"
    con.execute(
        f"""INSERT INTO staged.survey_respondents
            SELECT 2022, {key}, NULL::INTEGER, {status}, {file_expr}, {row} FROM sx_dataset"""
    )
    cleaned = ", ".join(f'NULLIF(trim("{c}"), \'\') AS "{c}"' for c in answers)
    # A second read skips the rows the first one rejected (store_rejects ignores them).
    source = read_csv(path).replace("'rj'", "'rj2'").replace("'rs'", "'rs2'")
    con.execute(
        f"""INSERT INTO staged.survey_answers
            SELECT 2022, respondent, variable, answer FROM (
                UNPIVOT (SELECT {key} AS respondent, {cleaned}
                         FROM {source if form == "streamed" else "sx_dataset"})
                ON {on} INTO NAME variable VALUE answer)"""
    )
    con.execute("DROP TABLE sx_dataset")


def one_try(lake: Path, form: str) -> dict:
    database = lake / "work" / f"prototype-{form}.duckdb"
    database.parent.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(database))
    stage(con, lake / "landing" / "survey" / "2022" / "dataset.csv", form)
    con.close()
    seconds = time.perf_counter() - started
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM staged.survey_answers").fetchone()[0]
    database.unlink()
    status = Path("/proc/self/status").read_text()
    peak = int(re.search(r"^VmHWM:\s*(\d+) kB", status, re.M)[1]) / 1024
    return {"seconds": seconds, "peak_mb": peak, "answers": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("lake", type=Path)
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--form", choices=FORMS, help=argparse.SUPPRESS)  # one try, as a child
    args = parser.parse_args()
    lake = args.lake.resolve()
    if args.form:
        print(json.dumps(one_try(lake, args.form)))
        return 0
    tries: dict[str, list[dict]] = {form: [] for form in FORMS}
    for _ in range(args.tries):
        for form in FORMS:
            child = [sys.executable, __file__, str(lake), "--form", form]
            done = subprocess.run(child, capture_output=True, text=True, check=True)
            tries[form].append(json.loads(done.stdout))
    answers = {t["answers"] for form in FORMS for t in tries[form]}
    assert len(answers) == 1, f"the forms staged different answer counts: {answers}"
    reference = statistics.median(t["seconds"] for t in tries["reference"])
    print(f"{'form':<10} {'median s':>9} {'tries s':<22} {'÷ reference':>11} {'peak MB':>8}")
    for form in FORMS:
        seconds = [t["seconds"] for t in tries[form]]
        median = statistics.median(seconds)
        print(
            f"{form:<10} {median:9.2f} {', '.join(f'{s:.2f}' for s in seconds):<22} "
            f"{median / reference:11.2f} {max(t['peak_mb'] for t in tries[form]):8.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
