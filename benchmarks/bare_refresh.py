"""The refresh reference: a lake's whole refresh, ``landing/`` to ``marts``, in bare DuckDB SQL.

    python benchmarks/bare_refresh.py LAKE [--code DIR]    (or: steps.py refresh-reference)

The yardstick of ``ops-pipeline run``: the same data work and nothing else. It reads every landing
file the pipeline reads, builds the staged tables the mart SQL reads, and runs the pipeline's own
``ops_pipeline/sql/marts/*.sql`` (from DIR, default this checkout) verbatim, in dependency order,
into schema ``marts`` of a fresh ``LAKE/work/refresh_reference.duckdb``:

- ``reference.municipalities``: DIR's ``ops_pipeline/reference/municipalities.csv``, ``read_csv``.
- ``staged.population``: every ``landing/population/*.csv`` (FOLK1A, UTF-8) in one ``read_csv``,
  joined to the municipalities by name; one row per municipality and quarter.
- ``staged.survey_*``, per ``landing/survey/<year>/``: ``structure.csv`` and ``labels.csv`` with
  ``read_csv`` into ``survey_variables`` (question and item split at the last " - ") and
  ``survey_labels``; ``dataset.csv`` with ``read_csv`` twice, straight from the file: the status
  flags the structure names (question ``statoverall``) into ``survey_respondents``, and an
  ``UNPIVOT`` of the answer columns (the structure's variables but the key, ``kommunekode`` and
  the flags; cells trimmed, blanks dropped) into ``survey_answers``. A workbook export is read
  with fastexcel (every cell as text, as the pipeline reads it), its ``Dataset`` or
  ``Dataset(1)``, ``Dataset(2)``, … sheets one after the other, and handed to DuckDB as Arrow.
- ``staged.proposals``: every ``landing/idebank/<year>/*.csv`` (``read_csv``, Danish numbers) and
  ``*.xlsx`` (sheet ``Idébank`` through fastexcel), in one ``UNION ALL`` grouped by year and ID.

Encodings as the pipeline reads them: a file that is valid UTF-8 (or ASCII) is read as UTF-8, one
with a UTF-16 LE BOM as UTF-16, any other is Windows-1252: DuckDB reads it as Latin-1 when it has
no byte 0x80-0x9F (where the two differ), and a UTF-8 copy of it in
``LAKE/work/refresh_reference_tmp/`` when it has one (the en dash of a structure file), since
DuckDB refuses those bytes as Latin-1 and knows no Windows-1252.

Left out, as the pipeline's own work around the data: the landing gate (the files are found by
the same names), every check (encodings, status flags, keys, municipality codes, Danish
numbers, population present, proposals that disagree), rejected rows, provenance columns the
marts do not read, the audit, Great Expectations, Dagster, the publication, exports and reports.
So on a lake the pipeline refuses, this reference may build marts anyway: it is compared with the
pipeline only on lakes the pipeline publishes. **Corrections** (``LAKE/corrections/``) are not
applied: a lake with a corrections file is refused, and the sample generator writes none.

Prints one JSON line: ``seconds`` from opening the database to closing it (imports excluded),
the seconds of each phase, and the rows of each mart. ``compare(lake)`` checks every mart against
the published ``LAKE/warehouse.duckdb``.
"""

from __future__ import annotations

import argparse
import codecs
import graphlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

import duckdb

DATABASE = Path("work") / "refresh_reference.duckdb"
SCRATCH = Path("work") / "refresh_reference_tmp"  # UTF-8 copies of Windows-1252 files
REPO = Path(__file__).resolve().parents[1]
KEYS = ("respondentid", "respnokk")  # the respondent key, the first of these the dataset has
MUNICIPALITY = "kommunekode"
STATUS_QUESTION = "statoverall"
SURVEY_FILES = ("dataset", "labels", "structure")
DELIMITERS = (";", ",", "\t")  # of a CSV export, found in structure.csv's header
DATASET_SHEET = re.compile(r"^Dataset\((\d+)\)$")
CHUNK = 1 << 24
# Deleted from a chunk of bytes, leaves those where Windows-1252 and Latin-1 differ.
NOT_C1 = bytes(range(0x80)) + bytes(range(0xA0, 0x100))

SETUP = """
CREATE SCHEMA reference; CREATE SCHEMA staged; CREATE SCHEMA marts;
CREATE TABLE staged.survey_respondents (survey_year INTEGER, respondent VARCHAR,
    responded BOOLEAN, completed BOOLEAN);
CREATE TABLE staged.survey_answers (survey_year INTEGER, respondent VARCHAR, variable VARCHAR,
    answer VARCHAR);
CREATE TABLE staged.survey_variables (survey_year INTEGER, variable VARCHAR,
    question_type VARCHAR, sub_type VARCHAR, question VARCHAR, item VARCHAR);
CREATE TABLE staged.survey_labels (survey_year INTEGER, variable VARCHAR, code VARCHAR,
    label VARCHAR);
"""


def refresh(lake: Path, code: Path = REPO) -> dict:
    """Build ``marts`` of a fresh LAKE/work/refresh_reference.duckdb from LAKE/landing/."""
    if any(not p.name.startswith(".") for p in (lake / "corrections").glob("*")):
        raise SystemExit(f"{lake / 'corrections'}: corrections are not applied by the reference")
    database = lake / DATABASE
    database.parent.mkdir(parents=True, exist_ok=True)
    for stale in (database, database.with_name(database.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(lake / SCRATCH, ignore_errors=True)
    phases = {}
    started = time.perf_counter()
    con = duckdb.connect(str(database))
    con.execute(SETUP)
    for phase, stage in (
        ("reference", lambda: stage_municipalities(con, code)),
        ("population", lambda: stage_population(con, lake)),
        ("survey", lambda: stage_surveys(con, lake)),
        ("idebank", lambda: stage_proposals(con, lake)),
        ("marts", lambda: build_marts(con, code)),
    ):
        begun = time.perf_counter()
        stage()
        phases[phase] = time.perf_counter() - begun
    begun = time.perf_counter()
    con.close()  # the checkpoint that writes the tables to the file
    phases["close"] = time.perf_counter() - begun
    seconds = time.perf_counter() - started
    with duckdb.connect(str(database), read_only=True) as con:
        marts = {
            p.stem: con.execute(f"SELECT count(*) FROM marts.{p.stem}").fetchone()[0]
            for p in mart_files(code)
        }
    return {"seconds": seconds, "phases": phases, "marts": marts}


def stage_municipalities(con, code: Path) -> None:
    path = code / "ops_pipeline" / "reference" / "municipalities.csv"
    con.execute(
        f"""CREATE TABLE reference.municipalities AS
            SELECT CAST(kommunekode AS INTEGER) AS municipality_code, kommune AS municipality,
                   region, landsdel
            FROM read_csv({quote(path)}, delim = ';', header = true, all_varchar = true)"""
    )


def stage_population(con, lake: Path) -> None:
    files = ", ".join(quote(p) for p in visible(lake / "landing" / "population", ".csv"))
    con.execute(
        f"""CREATE TABLE staged.population AS
            SELECT quarter, CAST(left(quarter, 4) AS INTEGER) AS year,
                   'municipality' AS area_kind, m.municipality_code,
                   any_value(f.population) AS population
            FROM (SELECT trim("TID") AS quarter, trim("OMRÅDE") AS area,
                         CAST(trim("INDHOLD") AS BIGINT) AS population
                  FROM read_csv([{files}], encoding = 'utf-8', delim = ';', quote = '"',
                                escape = '"', header = true, all_varchar = true)) AS f
            JOIN reference.municipalities AS m ON m.municipality = f.area
            GROUP BY ALL"""
    )


def stage_surveys(con, lake: Path) -> None:
    for folder in year_folders(lake / "landing" / "survey"):
        files = {p.name.lower(): p for p in visible(folder)}
        workbooks = [p for name, p in files.items() if name.endswith(".xlsx")]
        if workbooks:
            sources = survey_workbook(con, workbooks[0])
        else:
            sources = survey_csv(files, lake / SCRATCH)
        stage_survey(con, int(folder.name), *sources)


def survey_csv(files: dict[str, Path], scratch: Path) -> tuple[str, str, str]:
    """The SQL that reads each file of a CSV export (dataset, structure, labels)."""
    texts = {name: readable(files[f"{name}.csv"], scratch) for name in SURVEY_FILES}
    path, encoded = texts["structure"]
    codec = {"utf-16": "utf-16", "utf-8": "utf-8-sig"}[encoded] if encoded != "latin-1" else encoded
    with path.open(encoding=codec, newline="") as fh:
        header = fh.readline()
    delim = next(d for d in DELIMITERS if header.split(d)[0] == "questionName")
    return tuple(
        read_csv(*texts[name], delim=delim, header=name != "labels")
        for name in ("dataset", "structure", "labels")
    )


def survey_workbook(con, path: Path) -> tuple[str, str, str]:
    """A workbook export's sheets as Arrow tables registered on ``con``, every cell as text."""
    import fastexcel  # only a workbook needs it

    reader = fastexcel.read_excel(path)
    names = reader.sheet_names
    sheets = ["Dataset"] if "Dataset" in names else []
    sheets += sorted(
        (s for s in names if DATASET_SHEET.match(s)),
        key=lambda s: int(DATASET_SHEET.match(s)[1]),
    )

    def register(view: str, sheet: str, header: bool) -> str:
        table = reader.load_sheet(sheet, header_row=0 if header else None, dtypes="string")
        table = table.to_arrow()
        if not header:  # columns named as DuckDB names those of a CSV without a header
            table = table.rename_columns([f"column{i}" for i in range(table.num_columns)])
        con.register(view, table)
        return view

    structure = register("sx_structure_sheet", "Structure", True)
    labels = register("sx_labels_sheet", "Labels", False)
    parts = [register(f"sx_dataset_{i}", sheet, True) for i, sheet in enumerate(sheets)]
    dataset = "(" + " UNION ALL ".join(f"SELECT * FROM {p}" for p in parts) + ")"
    return dataset, structure, labels


def stage_survey(con, year: int, dataset: str, structure: str, labels: str) -> None:
    """The staged survey tables of one year from the SQL that reads each part of its export."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sx_structure AS
            SELECT NULLIF(trim("questionName"), '') AS question_name,
                   NULLIF(trim("variableName"), '') AS variable,
                   NULLIF(trim("questionType"), '') AS question_type,
                   NULLIF(trim("subType"), '') AS sub_type,
                   NULLIF(trim("questionText"), '') AS t,
                   NULLIF(trim("choiceValue"), '') AS choice_value
            FROM {structure}"""
    )
    con.execute(
        f"""INSERT INTO staged.survey_variables
            SELECT {year}, variable, first(question_type ORDER BY rowid),
                   first(sub_type ORDER BY rowid),
                   trim(CASE WHEN contains(t, ' - ') THEN regexp_extract(t, '(?s)^(.*) - ', 1)
                             ELSE t END),
                   CASE WHEN contains(t, ' - ')
                        THEN NULLIF(trim(regexp_extract(t, '(?s)^.* - (.*)$', 1)), '') END
            FROM sx_structure WHERE variable IS NOT NULL
            GROUP BY variable, t"""
    )
    con.execute(
        f"""INSERT INTO staged.survey_labels
            SELECT {year}, trim(column0), trim(column1), trim(column2)
            FROM {labels} WHERE NULLIF(trim(column0), '') IS NOT NULL"""
    )
    columns = [c[0] for c in con.execute(f"SELECT * FROM {dataset} LIMIT 0").description]
    key = next((k for k in KEYS if k in columns), None)
    if key is None:  # a respondent is its row: the dataset is read once, into a table
        con.execute(f"CREATE OR REPLACE TEMP TABLE sx_dataset AS SELECT * FROM {dataset}")
        dataset, respondent = "sx_dataset", "rowid::VARCHAR"
    else:
        respondent = f"NULLIF(trim({ident(key)}), '')"
    flags = con.execute(
        "SELECT variable, CAST(choice_value AS INTEGER) FROM sx_structure "
        "WHERE question_name = ? ORDER BY rowid",
        [STATUS_QUESTION],
    ).fetchall()
    status = " ".join(f"WHEN trim({ident(v)}) = '1' THEN {c}" for v, c in flags)
    con.execute(
        f"""INSERT INTO staged.survey_respondents
            SELECT {year}, respondent, status IN (3, 4), status = 4
            FROM (SELECT {respondent} AS respondent, CASE {status} END AS status FROM {dataset})"""
    )
    # The answer columns: the structure's variables the dataset has, but the key and the flags.
    con.execute(
        "SET VARIABLE answer_columns = (SELECT list(DISTINCT variable) FROM sx_structure "
        "WHERE variable NOT IN (SELECT unnest(?)))",
        [[v for v, _ in flags] + [key or "", MUNICIPALITY]],
    )
    answers = con.execute("SELECT getvariable('answer_columns')").fetchone()[0] or []
    if not set(columns) & set(answers):
        return
    # UNPIVOT drops NULLs: a blank cell is no answer and has no row.
    con.execute(
        f"""INSERT INTO staged.survey_answers
            SELECT {year}, "__respondent", variable, answer FROM (
                UNPIVOT (SELECT {respondent} AS "__respondent",
                                NULLIF(trim(COLUMNS(lambda c: list_contains(
                                    getvariable('answer_columns'), c))), '')
                         FROM {dataset})
                ON COLUMNS(* EXCLUDE ("__respondent")) INTO NAME variable VALUE answer)"""
    )


def stage_proposals(con, lake: Path) -> None:
    """staged.proposals: one row per budget year and ID, from every extract of every year."""
    selects = []
    for folder in year_folders(lake / "landing" / "idebank"):
        year = int(folder.name)
        for i, path in enumerate(visible(folder)):
            if path.suffix.lower() == ".csv":
                source = read_csv(*readable(path, lake / SCRATCH), delim=";", header=True)
                selects.append(proposal_rows(year, source, danish=True))
            elif path.suffix.lower() == ".xlsx":
                import fastexcel  # only a workbook needs it

                sheet = fastexcel.read_excel(path).load_sheet("Idébank", dtypes="string")
                con.register(f"ib_{year}_{i}", sheet.to_arrow())
                selects.append(proposal_rows(year, f"ib_{year}_{i}", danish=False))
    con.execute(
        f"""CREATE TABLE staged.proposals AS
            SELECT budget_year, id, any_value(municipality_code) AS municipality_code,
                   any_value(title) AS title, any_value(measure_type) AS measure_type,
                   list_sort(list_distinct(list(policy_area))) AS policy_areas,
                   -1000 * any_value(effect) AS saving_dkk, any_value(qualifying) AS qualifying
            FROM ({" UNION ALL ".join(selects)})
            GROUP BY budget_year, id"""
    )


def proposal_rows(year: int, source: str, *, danish: bool) -> str:
    """The columns the marts read of one extract's rows: cells trimmed, blanks NULL, typed."""

    def cell(name: str) -> str:
        return f"NULLIF(trim({ident(name)}), '')"

    effect = cell(f"Effekt {year + 3}")  # at full phase-in, in 1.000 kr.
    if danish:  # -1.250,5
        effect = f"replace(replace({effect}, '.', ''), ',', '.')"
    return f"""SELECT {year} AS budget_year, {cell("ID")} AS id,
                      CAST(CAST({cell("Kommunenr")} AS DOUBLE) AS INTEGER) AS municipality_code,
                      {cell("Titel")} AS title, {cell("Tiltagstype")} AS measure_type,
                      {cell("Fagområde")} AS policy_area, CAST({effect} AS DOUBLE) AS effect,
                      lower({cell("Relevant for andre kommuner")}) = 'ja'
                          AND NOT lower({cell("Serviceforringelse")}) = 'ja' AS qualifying
               FROM {source}"""


def read_csv(path: Path, encoding: str, *, delim: str, header: bool) -> str:
    return (
        f"read_csv({quote(path)}, encoding = '{encoding}', delim = {quote(delim)}, "
        f"quote = '\"', escape = '\"', header = {header}, all_varchar = true)"
    )


def build_marts(con, code: Path) -> None:
    """The pipeline's mart SQL files verbatim, each after the marts it reads."""
    queries = {p.stem: p.read_text(encoding="utf-8") for p in mart_files(code)}
    graph = {
        name: {m for m in re.findall(r"\bmarts\.(\w+)", strip_comments(sql)) if m != name}
        for name, sql in queries.items()
    }
    for name in graphlib.TopologicalSorter(graph).static_order():
        con.execute(f"CREATE TABLE marts.{name} AS {queries[name]}")


def mart_files(code: Path) -> list[Path]:
    return sorted((code / "ops_pipeline" / "sql" / "marts").glob("*.sql"))


def strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def compare(lake: Path, code: Path = REPO) -> dict[str, int]:
    """Every mart of the reference against the published LAKE/warehouse.duckdb: the same tables
    (one per mart SQL file), columns and types, row counts, and rows (``EXCEPT ALL`` both ways,
    every column, doubles to the last bit). Returns the rows per mart; raises ``MartMismatch``
    naming the table and a differing row."""
    con = duckdb.connect()
    con.execute(f"ATTACH {quote(lake / DATABASE)} AS ref (READ_ONLY)")
    con.execute(f"ATTACH {quote(lake / 'warehouse.duckdb')} AS pub (READ_ONLY)")

    def tables(db: str) -> list[str]:
        return [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                "AND schema_name = 'marts' ORDER BY 1",
                [db],
            ).fetchall()
        ]

    expected = [p.stem for p in mart_files(code)]
    if tables("ref") != expected or tables("pub") != expected:
        raise MartMismatch(
            f"marts: the reference has {tables('ref')}, the warehouse {tables('pub')}, the SQL "
            f"files {expected}"
        )
    rows = {}
    for table in expected:
        ref, pub = f"ref.marts.{table}", f"pub.marts.{table}"
        shapes = [con.execute(f"DESCRIBE {t}").fetchall() for t in (ref, pub)]
        if [s[:2] for s in shapes[0]] != [s[:2] for s in shapes[1]]:
            raise MartMismatch(
                f"marts.{table}: columns {[s[:2] for s in shapes[0]]} in the reference, "
                f"{[s[:2] for s in shapes[1]]} in the warehouse"
            )
        counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in (ref, pub)]
        for a, b, where in ((ref, pub, "reference"), (pub, ref, "warehouse")):
            extra = con.execute(f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b} LIMIT 1")
            row = extra.fetchone()
            if row is not None:
                shown = dict(zip([d[0] for d in extra.description], row, strict=True))
                raise MartMismatch(
                    f"marts.{table}: {counts[0]} rows in the reference, {counts[1]} in the "
                    f"warehouse; this row is only in the {where}: {shown}"
                )
        if counts[0] != counts[1]:  # not reached: EXCEPT ALL counts duplicates
            raise MartMismatch(f"marts.{table}: {counts[0]} rows in the reference, {counts[1]}")
        rows[table] = counts[0]
    con.close()
    return rows


class MartMismatch(RuntimeError):
    """A mart of the reference differs from the published warehouse's."""


def readable(path: Path, scratch: Path) -> tuple[Path, str]:
    """The file DuckDB should read for a landing text file, and DuckDB's name of its encoding:
    the file itself as 'utf-8' (valid UTF-8, ASCII included), 'utf-16' (UTF-16 LE BOM) or
    'latin-1' (Windows-1252 without bytes 0x80-0x9F), else a UTF-8 copy of it in ``scratch``."""
    with path.open("rb") as fh:
        if fh.read(2) == codecs.BOM_UTF16_LE:
            return path, "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8, c1 = True, False
        while chunk := fh.read(CHUNK):
            if chunk.isascii() and not decoder.getstate()[0]:  # nothing pending: valid as it is
                continue
            c1 = c1 or bool(chunk.translate(None, NOT_C1))
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        return path, "utf-8"
    if not c1:
        return path, "latin-1"
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / f"{len(list(scratch.iterdir()))}-{path.name}"
    with (
        path.open(encoding="cp1252", newline="") as src,
        copy.open("w", encoding="utf-8", newline="") as dst,
    ):
        while text := src.read(CHUNK):
            dst.write(text)
    return copy, "utf-8"


def year_folders(source: Path) -> list[Path]:
    return [p for p in visible(source) if p.is_dir() and re.fullmatch(r"20\d\d", p.name)]


def visible(folder: Path, suffix: str | None = None) -> list[Path]:
    """The entries of a folder the landing gate reads: not hidden, no Office lock files."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith((".", "~$")) and (suffix is None or p.suffix.lower() == suffix)
    )


def quote(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("lake", type=Path)
    parser.add_argument("--code", type=Path, default=REPO, help="where ops_pipeline/ is")
    args = parser.parse_args(argv)
    print(json.dumps(refresh(args.lake.resolve(), args.code.resolve())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
