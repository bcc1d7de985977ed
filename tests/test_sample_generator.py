"""Unit test of the sample-lake generator: determinism, file formats and the published figures.

The figures are computed here with DuckDB SQL straight from the generated files (the pipeline
asserts them again end-to-end through its marts).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pytest

from ops_pipeline.lake import Lake
from ops_pipeline.landing import gate
from ops_pipeline.reference import FOLK1A_FILE, MUNICIPALITIES_FILE
from ops_pipeline.sample.employee_survey import EMPLOYEE_CHUNK_ROWS
from ops_pipeline.sample.generator import write_sample_lake
from ops_pipeline.staging.survey import stage_survey

SEEDS = (2022, 7)
SCALE_VARIABLES = ("s_1", "s_2_1", "s_2_2", "s_2_3", "s_2_4", "s_2_5", "s_2_6")
IDEBANK_HEADER = [
    "ID",
    "Kommunenr",
    "Kommune",
    "Budgetår",
    "Titel",
    "Beskrivelse",
    "Fagområde",
    "Tiltagstype",
    "Effekt 2021",
    "Effekt 2022",
    "Effekt 2023",
    "Effekt 2024",
    "Relevant for andre kommuner",
    "Serviceforringelse",
]
STRUCTURE_HEADER = (
    "questionName;variableName;questionType;subType;questionText;choiceValue;choiceText"
)


@pytest.fixture(scope="module")
def lakes(tmp_path_factory) -> dict[tuple[int, int], Path]:
    """One generated lake per (seed, scale), shared by the tests of this module."""
    made = {}
    for seed, scale in [(s, 1) for s in SEEDS] + [(2022, 3)]:
        lake = tmp_path_factory.mktemp(f"lake_{seed}_{scale}")
        write_sample_lake(lake, seed=seed, scale=scale)
        made[seed, scale] = lake
    return made


def _files(lake: Path) -> dict[str, bytes]:
    return {
        p.relative_to(lake).as_posix(): p.read_bytes()
        for p in sorted(lake.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes(lakes, tmp_path):
    returned = write_sample_lake(tmp_path, seed=2022)
    again = _files(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in returned) == sorted(again)
    assert again == _files(lakes[2022, 1])
    other = _files(lakes[7, 1])
    assert other.keys() == again.keys()
    assert (
        other["landing/idebank/2021/idebank_2021.csv"]
        != again["landing/idebank/2021/idebank_2021.csv"]
    )


def test_refuses_to_overwrite(lakes):
    lake = lakes[7, 1]
    before = _files(lake)
    with pytest.raises(FileExistsError, match=re.escape(str(lake / "landing"))):
        write_sample_lake(lake, seed=7)
    assert _files(lake) == before


def test_formats(lakes):
    landing = lakes[2022, 1] / "landing"
    assert (landing / "population" / FOLK1A_FILE.name).read_bytes() == FOLK1A_FILE.read_bytes()
    for name in ("dataset.csv", "labels.csv", "structure.csv"):
        raw = (landing / "survey/2022" / name).read_bytes()
        raw.decode("cp1252")  # strict: every byte is defined in Windows-1252
        assert raw.count(b"\n") == raw.count(b"\r\n") > 0
        assert not raw.startswith(b"\xef\xbb\xbf")
    structure = (landing / "survey/2022/structure.csv").read_bytes().decode("cp1252")
    assert structure.startswith(STRUCTURE_HEADER + "\r\n")
    assert "statoverall;stato_4;Closed;Multiple;Samlet status;4;Gennemført\r\n" in structure
    assert "følgende? - Øget brug af digitalisering og ny teknologi;;" in structure
    labels = text_of(landing / "survey/2022/labels.csv")
    assert "stato_1;0;Ikke valgt" in labels and "s_2_4;3;I nogen grad" in labels

    extract = (landing / "idebank/2021/idebank_2021.csv").read_bytes()
    assert extract.startswith(b"\xef\xbb\xbf" + ";".join(IDEBANK_HEADER).encode() + b"\r\n")
    workbook = openpyxl.load_workbook(landing / "idebank/2021/idebank_2021_nordjylland.xlsx")
    assert workbook.sheetnames == ["Idébank"]
    assert [c.value for c in workbook["Idébank"][1]] == IDEBANK_HEADER


def text_of(path: Path) -> str:
    return path.read_bytes().decode("cp1252")


def _survey(con, lake: Path, scratch: Path) -> None:
    """Load the cp1252 dataset into table ``survey`` (decoded by Python, read by DuckDB)."""
    utf8 = scratch / "dataset.csv"
    utf8.write_text(text_of(lake / "landing/survey/2022/dataset.csv"), encoding="utf-8")
    con.execute(
        "CREATE TABLE survey AS "
        "SELECT * FROM read_csv(?, delim=';', header=true, all_varchar=true)",
        [str(utf8)],
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_survey_figures(lakes, tmp_path, seed):
    con = duckdb.connect()
    _survey(con, lakes[seed, 1], tmp_path)
    invited, responded, completed, one_flag, codes = con.execute(
        """SELECT count(*),
                  count(*) FILTER (stato_3 = '1' OR stato_4 = '1'),
                  count(*) FILTER (stato_4 = '1'),
                  bool_and(stato_1::INT + stato_2::INT + stato_3::INT + stato_4::INT
                           + stato_5::INT = 1),
                  count(DISTINCT kommunekode)
           FROM survey"""
    ).fetchone()
    assert (invited, responded, completed, one_flag, codes) == (98, 81, 66, True, 98)
    reference = {int(r["kommunekode"]) for r in _reference()}
    assert {
        int(c) for (c,) in con.execute("SELECT kommunekode FROM survey").fetchall()
    } == reference

    on = ", ".join(SCALE_VARIABLES)
    con.execute(
        f"""CREATE TABLE answers AS
            SELECT respondentid, stato_4 = '1' AS completed, variable, code::INT AS code
            FROM (UNPIVOT (SELECT * FROM survey WHERE stato_3 = '1' OR stato_4 = '1')
                  ON {on} INTO NAME variable VALUE code)"""
    )
    # Completed respondents answer everything; non-responders nothing; codes are 1-6.
    assert con.execute(
        "SELECT count(*) FROM answers WHERE completed GROUP BY variable"
    ).fetchall() == [(66,)] * len(SCALE_VARIABLES)
    silent = " AND ".join(f"{v} IS NULL" for v in (*SCALE_VARIABLES, "b_1"))
    assert con.execute(
        f"SELECT bool_and({silent}) FROM survey WHERE NOT (stato_3 = '1' OR stato_4 = '1')"
    ).fetchone() == (True,)
    assert con.execute("SELECT min(code), max(code) FROM answers").fetchone() == (1, 6)

    shares = dict(
        con.execute(
            """SELECT variable, count(*) FILTER (code <= 3) / count(*) FROM answers GROUP BY ALL"""
        ).fetchall()
    )
    assert 0.88 <= shares["s_1"] <= 0.92
    assert round(shares["s_2_1"], 2) == 0.97
    assert all(shares["s_2_1"] > share for v, share in shares.items() if v != "s_2_1")
    counts = con.execute(
        "SELECT variable, code, count(*) FROM answers GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    for variable in ("s_2_2", "s_2_3", "s_2_4"):
        by_code = {code: n for v, code, n in counts if v == variable}
        assert all(by_code[3] > n for code, n in by_code.items() if code != 3), variable
        assert shares[variable] > 0.5


def test_survey_at_scale(lakes, tmp_path):
    con = duckdb.connect()
    _survey(con, lakes[2022, 3], tmp_path)
    columns = [c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE survey)").fetchall()]
    assert "kommunekode" not in columns and "respondentid" in columns
    assert con.execute(
        """SELECT count(*), count(DISTINCT respondentid), sum(stato_3::INT + stato_4::INT),
                  sum(stato_4::INT)
           FROM survey"""
    ).fetchone() == (294, 294, 243, 198)


def _reference() -> list[dict[str, str]]:
    with MUNICIPALITIES_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _idebank(con, lake: Path) -> None:
    """Load both extracts into table ``rows`` and the population into ``population``."""
    folder = lake / "landing/idebank/2021"
    effects = ", ".join(
        f"""CAST(replace(replace("Effekt {y}", '.', ''), ',', '.') AS DECIMAL(18, 1)) AS e{y}"""
        for y in range(2021, 2025)
    )
    con.execute(
        f"""CREATE TABLE csv_rows AS
            SELECT "ID" AS id, "Kommunenr"::INT AS code, "Kommune" AS name, "Budgetår"::INT AS year,
                   "Titel" AS title, "Beskrivelse" AS description, "Fagområde" AS area,
                   "Tiltagstype" AS measure, {effects},
                   "Relevant for andre kommuner" AS relevant, "Serviceforringelse" AS service,
                   'csv' AS source
            FROM read_csv(?, delim=';', quote='"', escape='"', header=true, all_varchar=true)""",
        [str(folder / "idebank_2021.csv")],
    )
    sheet = openpyxl.load_workbook(folder / "idebank_2021_nordjylland.xlsx", read_only=True)[
        "Idébank"
    ]
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert all(isinstance(v, (int, float)) or v is None for row in values for v in row[8:12]), (
        "effects in the xlsx are numbers"
    )
    con.register(
        "xlsx",
        pa.table({name: [row[i] for row in values] for i, name in enumerate(IDEBANK_HEADER)}),
    )
    con.execute(
        """CREATE TABLE rows AS
           SELECT * FROM csv_rows
           UNION ALL
           SELECT "ID", "Kommunenr", "Kommune", "Budgetår", "Titel", "Beskrivelse", "Fagområde",
                  "Tiltagstype", "Effekt 2021", "Effekt 2022", "Effekt 2023", "Effekt 2024",
                  "Relevant for andre kommuner", "Serviceforringelse", 'xlsx'
           FROM xlsx"""
    )
    con.register("reference", pa.Table.from_pylist(_reference()))
    con.execute(
        """CREATE TABLE population AS
           SELECT r.kommunekode::INT AS code, r.kommune AS name, f.INDHOLD::BIGINT AS population
           FROM read_csv(?, delim=';', header=true, all_varchar=true) AS f
           JOIN reference AS r ON r.kommune = f."OMRÅDE"
           WHERE f.TID = '2021K1'""",
        [str(lake / "landing/population" / FOLK1A_FILE.name)],
    )


SAVINGS_SQL = """
WITH proposals AS (
    SELECT DISTINCT id, code, e2024,
           lower(trim(relevant)) = 'ja' AND lower(trim(service)) = 'nej' AS qualifying
    FROM rows
),
municipal AS (
    SELECT p.code, p.name, p.population,
           coalesce(sum(-q.e2024 * 1000) FILTER (q.qualifying), 0) / p.population AS per_inhabitant
    FROM population AS p LEFT JOIN proposals AS q USING (code)
    GROUP BY p.code, p.name, p.population
),
ranked AS (SELECT *, rank() OVER (ORDER BY per_inhabitant DESC) AS position FROM municipal),
benchmark AS (
    SELECT avg(per_inhabitant) AS value
    FROM (SELECT per_inhabitant FROM ranked ORDER BY per_inhabitant DESC, code LIMIT 10)
),
potential AS (
    SELECT sum(greatest(0, b.value - r.per_inhabitant) * r.population) AS gap
    FROM ranked AS r CROSS JOIN benchmark AS b
)
SELECT r.name, r.per_inhabitant, r.position, p.gap,
       (SELECT count(*) FROM proposals WHERE qualifying) AS qualifying
FROM ranked AS r CROSS JOIN potential AS p
"""


@pytest.mark.parametrize(("seed", "scale"), [(2022, 1), (7, 1), (2022, 3)])
def test_idebank_figures(lakes, seed, scale):
    con = duckdb.connect()
    _idebank(con, lakes[seed, scale])
    # Well-formed: rows of one ID agree but for Fagområde, IDs are in one extract only, the
    # last-year effect is never blank, Ja/Nej only, the budget year and codes are right.
    assert con.execute(
        """SELECT count(*) FROM (
               SELECT id FROM rows GROUP BY id
               HAVING count(DISTINCT (code, name, year, title, description, measure, e2021,
                                      e2022, e2023, e2024, relevant, service, source)) > 1)"""
    ).fetchone() == (0,)
    assert (
        con.execute(
            """SELECT bool_and(e2024 IS NOT NULL), bool_and(year = 2021),
                  bool_and(lower(trim(relevant)) IN ('ja', 'nej')),
                  bool_and(lower(trim(service)) IN ('ja', 'nej')),
                  bool_and(regexp_full_match(id, 'IB-2021-[0-9]{5,}')),
                  bool_and(code IN (SELECT code FROM population))
           FROM rows"""
        ).fetchone()
        == (True,) * 6
    )

    figures = {name: (spi, rank) for name, spi, rank, _, _ in con.execute(SAVINGS_SQL).fetchall()}
    _, _, _, potential, qualifying = con.execute(SAVINGS_SQL).fetchone()
    assert qualifying > 400 * scale
    spi, rank = figures["Frederikssund"]
    assert rank == 1 and 570 <= spi < 600
    assert all(2 <= figures[name][1] <= 10 for name in ("Furesø", "Hørsholm", "Billund"))
    assert 2.1e9 < potential < 2.2e9


def test_idebank_looks_real(lakes):
    """The awkward cases a reader must handle occur in the sample."""
    con = duckdb.connect()
    _idebank(con, lakes[2022, 1])
    checks = con.execute(
        """SELECT
             count(*) FILTER (description LIKE '%;%'),
             count(*) FILTER (description LIKE '%"%'),
             count(*) FILTER (description LIKE '%' || chr(10) || '%'),
             count(*) FILTER (left(description, 1) IN ('=', '+', '-', '@')),
             count(*) FILTER (e2021 IS NULL),
             count(*) FILTER (e2024 > 0 AND relevant = 'Ja' AND service = 'Nej'),
             count(*) FILTER (relevant NOT IN ('Ja', 'Nej') OR service NOT IN ('Ja', 'Nej')),
             count(*) FILTER (name NOT IN (SELECT name FROM population)),
             count(*) FILTER (e2024 <> round(e2024)),
             (SELECT count(*) FROM (SELECT id FROM rows GROUP BY id HAVING count(*) > 1))
           FROM rows"""
    ).fetchone()
    assert all(n > 0 for n in checks), checks


# ---------------------------------------------------------------------------------------------
# The employee-survey shape and the Idébank row target, for benchmarks
# ---------------------------------------------------------------------------------------------

EMPLOYEE = {"survey_respondents": 1_000, "survey_variables": 10}
EMPLOYEE_SURVEY = "landing/survey/2022"


@pytest.fixture(scope="module")
def employee_lake(tmp_path_factory) -> Path:
    lake = tmp_path_factory.mktemp("employee_lake")
    write_sample_lake(lake, seed=2022, **EMPLOYEE)
    return lake


def _employee_dataset(lake: Path) -> duckdb.DuckDBPyConnection:
    """The dataset as table ``survey`` (all text), with its line number as ``line``."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE survey AS SELECT *, row_number() OVER () + 1 AS line "
        "FROM read_csv(?, delim=';', header=true, all_varchar=true)",
        [str(lake / EMPLOYEE_SURVEY / "dataset.csv")],
    )
    return con


def test_employee_survey_shape(employee_lake):
    header = (employee_lake / EMPLOYEE_SURVEY / "dataset.csv").read_bytes().split(b"\r\n")[0]
    assert header.decode().split(";") == [
        "respondentid",
        *(f"q_{k}" for k in range(1, 11)),
        *(f"stato_{k}" for k in range(1, 6)),
    ]
    con = _employee_dataset(employee_lake)
    flags = " + ".join(f"stato_{k}::INT" for k in range(1, 6))
    rows, distinct, one_flag, responded, increasing = con.execute(
        f"""SELECT count(*), count(DISTINCT respondentid), bool_and({flags} = 1),
                   count(*) FILTER (stato_3 = '1' OR stato_4 = '1'),
                   bool_and(respondentid::BIGINT > prev)
            FROM (SELECT *, lag(respondentid::BIGINT, 1, 0) OVER (ORDER BY line) AS prev
                  FROM survey)"""
    ).fetchone()
    assert (rows, distinct, one_flag, increasing) == (1_000, 1_000, True, True)
    assert 700 < responded < 860  # about 78 pct.

    con.execute(
        """CREATE TABLE cells AS
           SELECT respondentid, stato_3 = '1' AS partial, stato_4 = '1' AS completed,
                  stato_3 = '1' OR stato_4 = '1' AS responded,
                  variable, answer
           FROM (UNPIVOT survey ON COLUMNS('^q_') INTO NAME variable VALUE answer)"""
    )
    # UNPIVOT keeps NULLs only with INCLUDE NULLS: cells holds the answers.
    codes, silent_answers, last_by_partial = con.execute(
        """SELECT list(DISTINCT answer ORDER BY answer),
                  count(*) FILTER (NOT responded),
                  count(*) FILTER (partial AND variable = 'q_10')
           FROM cells"""
    ).fetchone()
    assert codes == ["1", "2", "3", "4", "5", "6"]
    assert silent_answers == 0  # status 1, 2 and 5 leave every item blank
    assert last_by_partial == 0  # a partial respondent stops before the last item
    completed, answered = con.execute(
        """SELECT (SELECT count(*) FROM survey WHERE stato_4 = '1'),
                  count(*) FILTER (completed) FROM cells"""
    ).fetchone()
    assert 0.9 * completed * 10 < answered < completed * 10  # a few items left blank


def test_employee_survey_encoding(employee_lake):
    folder = employee_lake / EMPLOYEE_SURVEY
    for name in ("dataset.csv", "labels.csv", "structure.csv"):
        raw = (folder / name).read_bytes()
        raw.decode("cp1252")  # strict: every byte is defined in Windows-1252
        assert raw.count(b"\n") == raw.count(b"\r\n") > 0
        assert not raw.startswith(b"\xef\xbb\xbf")
    assert (folder / "dataset.csv").read_bytes().isascii()
    structure = (folder / "structure.csv").read_bytes()
    # Bytes where Windows-1252 differs from Latin-1 (the en dash) and Danish letters: a reader
    # that takes the file for UTF-8 or Latin-1 gets it wrong.
    assert b"\x96" in structure and "æ".encode("cp1252") in structure
    text = structure.decode("cp1252")
    assert text.startswith(STRUCTURE_HEADER + "\r\n")
    assert (
        "q_2;q_2;Closed;Single;Trivsel og arbejdsmiljø – i hvilken grad er du enig i følgende "
        "om din nærmeste leder? - Der er gensidig tillid;;\r\n"
    ) in text
    assert "statoverall;stato_4;Closed;Multiple;Samlet status;4;Gennemført\r\n" in text
    labels = text_of(folder / "labels.csv")
    assert "q_10;1;I meget høj grad\r\n" in labels and "stato_5;1;Valgt\r\n" in labels


def test_employee_survey_is_deterministic(employee_lake, tmp_path):
    write_sample_lake(tmp_path / "again", seed=2022, **EMPLOYEE)
    assert _files(tmp_path / "again") == _files(employee_lake)
    write_sample_lake(tmp_path / "other", seed=7, **EMPLOYEE)
    other = (tmp_path / "other" / EMPLOYEE_SURVEY / "dataset.csv").read_bytes()
    assert other != (employee_lake / EMPLOYEE_SURVEY / "dataset.csv").read_bytes()


def test_employee_survey_across_chunks(tmp_path):
    respondents = EMPLOYEE_CHUNK_ROWS + 5
    write_sample_lake(tmp_path, survey_respondents=respondents, survey_variables=2)
    con = _employee_dataset(tmp_path)
    assert con.execute(
        """SELECT count(*), bool_and(respondentid::BIGINT > prev)
           FROM (SELECT respondentid, lag(respondentid::BIGINT, 1, 0) OVER (ORDER BY line) AS prev
                 FROM survey)"""
    ).fetchone() == (respondents, True)


def test_pipeline_stages_the_employee_survey(employee_lake, tmp_path):
    """The survey ingest reads the employee export: every answer cell becomes one row."""
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "landing").symlink_to(employee_lake / "landing")
    con = duckdb.connect(str(tmp_path / "working.duckdb"))
    con.execute("CREATE SCHEMA staged")
    inventory, _ = gate(Lake(lake))
    stage_survey(con, Lake(lake), inventory, [2022])
    cells = _employee_dataset(employee_lake).execute(
        "SELECT count(*) FROM (UNPIVOT survey ON COLUMNS('^q_') INTO NAME variable VALUE answer)"
    )
    assert con.execute("SELECT count(*) FROM staged.survey_answers").fetchone() == cells.fetchone()
    assert con.execute(
        "SELECT count(*), count(DISTINCT question), count(DISTINCT item) "
        "FROM staged.survey_variables WHERE variable LIKE 'q\\_%' ESCAPE '\\'"
    ).fetchone() == (10, 1, 10)
    # Decoded as Windows-1252: the en dash (0x96) is not a control character.
    assert con.execute(
        "SELECT DISTINCT question FROM staged.survey_variables WHERE variable = 'q_1'"
    ).fetchall() == [
        ("Trivsel og arbejdsmiljø – i hvilken grad er du enig i følgende om din nærmeste leder?",)
    ]
    assert con.execute(
        "SELECT count(*), count(municipality_code) FROM staged.survey_respondents"
    ).fetchone() == (1_000, 0)


def test_idebank_rows(lakes, tmp_path):
    write_sample_lake(tmp_path, seed=2022, idebank_rows=5_000)
    con = duckdb.connect()
    _idebank(con, tmp_path)
    assert 4_500 <= con.execute("SELECT count(*) FROM rows").fetchone()[0] <= 5_500
    # The survey is the CEO survey of scale 1, as without the option.
    survey = {k: v for k, v in _files(tmp_path).items() if k.startswith("landing/survey/")}
    assert survey == {
        k: v for k, v in _files(lakes[2022, 1]).items() if k.startswith("landing/survey/")
    }


@pytest.mark.parametrize(
    "options",
    [
        {"survey_variables": 10},
        {"survey_respondents": 0},
        {"survey_respondents": 10, "survey_variables": 0},
        {"idebank_rows": 0},
        {"scale": 2, "survey_respondents": 10},
        {"scale": 2, "idebank_rows": 1_000},
    ],
)
def test_employee_options_are_checked(tmp_path, options):
    with pytest.raises(ValueError):
        write_sample_lake(tmp_path, **options)
