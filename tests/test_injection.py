"""Issue 5: safe inputs. File names, sheet names and column headers from the landing zone reach
SQL only quoted; ``dagster dev`` listens on 127.0.0.1 unless told otherwise; the repository holds
no credentials."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
from lakes import write_idebank_csv
from publications import assert_published_pair, mart_counts

REPO = Path(__file__).parents[1]
EVIL_HEADER = 'x"; DROP TABLE marts.municipal_savings; --'
EVIL_FILE = "'; DROP TABLE x; --.csv"
EVIL_SHEET = "x'; DROP TABLE y; --"
# The tables the names above would drop if they reached SQL unquoted.
CANARIES = ("x", "y")
P9 = ["P9", "751", "Aarhus", "2021", "Robotstøvsugere", "", "Ældre",
      "Digitalisering og teknologi", "0", "0", "-20", "-40", "Ja", "Nej"]  # fmt: skip


def add_column(path: Path, encoding: str, name: str, value: str) -> None:
    """One more column in a landing CSV (``;``), with ``value`` in every row."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding)), delimiter=";"))
    rows = [[*rows[0], name], *([*row, value] for row in rows[1:])]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def hostile_landing(lake: Path) -> None:
    idebank = lake / "landing" / "idebank" / "2021"
    write_idebank_csv(idebank / EVIL_FILE, 2021, [P9])
    add_column(idebank / "extract.csv", "utf-8-sig", EVIL_HEADER, "v")
    workbook = openpyxl.load_workbook(idebank / "supplement.xlsx")
    sheet = workbook["Idébank"]
    sheet.cell(row=1, column=sheet.max_column + 1, value=EVIL_HEADER)
    workbook.create_sheet(EVIL_SHEET)
    workbook.save(idebank / "supplement.xlsx")
    # In the SurveyXact export: a dataset column, also declared a question in the structure.
    survey = lake / "landing" / "survey" / "2022"
    add_column(survey / "dataset.csv", "cp1252", EVIL_HEADER, "1")
    with (survey / "structure.csv").open("a", encoding="cp1252", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\r\n").writerow(
            [EVIL_HEADER, EVIL_HEADER, "Open", "Number", "Et spørgsmål", "", ""]
        )


@pytest.mark.slow
def test_hostile_names_never_reach_sql(lake, run):
    published = mart_counts(lake / "warehouse.duckdb")
    with duckdb.connect(str(lake / "work" / "working.duckdb")) as con:
        for table in CANARIES:
            con.execute(f"CREATE TABLE {table} AS SELECT 1 AS canary")

    hostile_landing(lake)
    code, _, err = run(lake)

    # The names are data: every hostile file, sheet and header is read as such.
    assert code == 0, err
    with duckdb.connect(str(lake / "work" / "working.duckdb"), read_only=True) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert set(CANARIES) <= tables and "municipal_savings" in tables
        files = con.execute("SELECT list(DISTINCT source_file) FROM staged.idebank_rows")
        assert f"landing/idebank/2021/{EVIL_FILE}" in files.fetchall()[0][0]
        variables = con.execute(
            "SELECT count(*) FROM staged.survey_answers WHERE variable = ?", [EVIL_HEADER]
        ).fetchall()
        assert variables == [(6,)]  # every respondent's cell holds 1
    counts = mart_counts(lake / "warehouse.duckdb")
    assert counts == {**published, "proposals": 9}
    assert counts["municipal_savings"] == 98
    assert_published_pair(lake)


def test_dagster_dev_listens_on_localhost():
    """``dagster dev`` passes no host unless given one, and the webserver's default is loopback;
    no command or setting in the repository binds it wider."""
    from dagster_webserver.cli import DEFAULT_WEBSERVER_HOST

    assert DEFAULT_WEBSERVER_HOST == "127.0.0.1"
    settings = ["README.md", "workspace.yaml", "dagster_home/dagster.yaml", "pyproject.toml"]
    paths = [REPO / name for name in settings] + [
        p for folder in ("scripts", ".ci") for p in (REPO / folder).rglob("*") if p.is_file()
    ]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        hosts = re.findall(r"(?:--host|--dagit-host|-h)[ =](\S+)", text)
        assert set(hosts) <= {"127.0.0.1", "localhost"} and "0.0.0.0" not in text, path


CREDENTIALS = {
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "AWS access key": r"\bAKIA[0-9A-Z]{16}\b",
    "GitHub token": r"\bgh[pousr]_[A-Za-z0-9]{36,}",
    "Slack token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    "password in a URL": r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"{}]+@",
    "secret assigned": r"(?i)\b(password|passwd|secret|api_?key|token)\b[\"']?\s*[:=]\s*"
    r"[\"'][^\"'\s{}$]{6,}[\"']",
}


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        cwd=REPO,
        check=True,
    )
    return [REPO / name for name in listed.stdout.decode().split("\0") if name]


def test_no_credentials_in_the_repository():
    found = []
    for path in tracked_files():
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images, Windows-1252 fixtures
        for what, pattern in CREDENTIALS.items():
            found += [(str(path.relative_to(REPO)), what) for _ in re.finditer(pattern, text)]
    assert found == []
    assert not [p for p in tracked_files() if p.name in (".env", ".netrc", ".pgpass")]
