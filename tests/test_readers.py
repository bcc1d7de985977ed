"""Readers on the real SurveyXact export in every form of the contract, and on broken files."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from lakes import FIXTURE, read_fixture, write_idebank_csv, write_surveyxact

from ops_pipeline.lake import Lake
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.idebank import read_idebank
from ops_pipeline.readers.surveyxact import read_surveyxact

STATUS_SQL = """
    SELECT count(*) AS invited,
           count(*) FILTER (WHERE stato_3 = '1' OR stato_4 = '1') AS responded,
           count(*) FILTER (WHERE stato_4 = '1') AS completed
    FROM sx_dataset
"""


def files_in(folder):
    """The files of an export folder, as the landing gate hands them to a reader."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".xlsx"))


def fixture_in(form: str, folder, split_rows=None):
    if form == "original":
        shutil.copytree(FIXTURE, folder)
        return folder
    structure, labels, dataset = read_fixture()
    write_surveyxact(folder, structure, labels, dataset, form, split_rows=split_rows)
    return folder


@pytest.mark.parametrize(
    ("form", "expected_form"),
    [
        ("original", "csv-semicolon-cp1252"),
        ("comma-ansi", "csv-comma-cp1252"),
        ("tab-utf16", "csv-tab-utf-16-le"),
        ("xlsx", "xlsx"),
    ],
)
def test_fixture_status_counts_in_every_form(tmp_path, form, expected_form):
    folder = fixture_in(form, tmp_path / "export", split_rows=400 if form == "xlsx" else None)
    con = duckdb.connect()
    export = read_surveyxact(con, files_in(folder), tmp_path / "scratch")
    assert export.form == expected_form
    assert len(export.dataset_columns) == 242
    assert con.execute(STATUS_SQL).fetchall() == [(999, 425, 340)]
    # Text survives every encoding: Norwegian letters in the structure table.
    texts = con.execute("SELECT question_text FROM sx_structure WHERE variable = 'i_01'").fetchall()
    assert "følgende?" in texts[0][0]
    if form == "xlsx":
        sheets = con.execute("SELECT DISTINCT _file FROM sx_dataset ORDER BY 1").fetchall()
        assert [s for (s,) in sheets] == [f"export.xlsx[Dataset({n})]" for n in (1, 2, 3)]


def test_windows_1252_characters_are_decoded_as_such(tmp_path):
    structure, labels, dataset = read_fixture()
    structure[1][4] = "Spørgsmål – med “citat” og €"
    folder = tmp_path / "export"
    write_surveyxact(folder, structure, labels, dataset, "semicolon-ansi")
    con = duckdb.connect()
    read_surveyxact(con, files_in(folder), tmp_path / "scratch")
    text = con.execute("SELECT question_text FROM sx_structure ORDER BY _row LIMIT 1").fetchall()
    assert text == [("Spørgsmål – med “citat” og €",)]


def test_undefined_windows_1252_byte_names_file_and_offset(tmp_path):
    folder = fixture_in("original", tmp_path / "export")
    data = (folder / "labels.csv").read_bytes()
    (folder / "labels.csv").write_bytes(data[:100] + b"\x81" + data[100:])
    with pytest.raises(LandingError, match=r"labels\.csv: byte 0x81 at offset 100 is undefined"):
        read_surveyxact(duckdb.connect(), files_in(folder), tmp_path / "scratch")


def test_truncated_dataset_keeps_the_cut_row_as_a_rejected_row(tmp_path):
    folder = fixture_in("original", tmp_path / "export")
    data = (folder / "dataset.csv").read_bytes()
    (folder / "dataset.csv").write_bytes(data[: len(data) // 2])
    con = duckdb.connect()
    read_surveyxact(con, files_in(folder), tmp_path / "scratch")
    rejects = con.execute("SELECT file, line, reason, raw FROM reader_rejects").fetchall()
    assert len(rejects) == 1
    file, line, reason, raw = rejects[0]
    assert file.endswith("dataset.csv") and reason.startswith("missing columns")
    lines = data[: len(data) // 2].decode("latin-1").splitlines()
    assert line == len(lines) and raw == lines[-1]  # verbatim, and nothing else lost
    assert con.execute("SELECT count(*) FROM sx_dataset").fetchall() == [(len(lines) - 2,)]


def test_xlsx_without_labels_sheet(tmp_path):
    structure, labels, dataset = read_fixture()
    folder = tmp_path / "export"
    path = write_surveyxact(folder, structure, labels, dataset, "xlsx")
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    del workbook["Labels"]
    workbook.save(path)
    with pytest.raises(LandingError, match=r"export\.xlsx: has no sheet 'Labels'"):
        read_surveyxact(duckdb.connect(), files_in(folder), tmp_path / "scratch")


def test_idebank_danish_numbers_and_quoted_text(tmp_path):
    folder = tmp_path / "2021"
    write_idebank_csv(
        folder / "x.csv",
        2021,
        [
            [
                "A",
                "101",
                "København",
                "2021",
                "T",
                'a;b "c"\nd',
                "Ældre",
                "Indkøb og udbud",
                "",
                "1.000",
                "-12.345,5",
                "-1.250,25",
                "ja",
                " nej ",
            ]
        ],
        encoding="cp1252",
    )
    con = duckdb.connect()
    read_idebank(con, files_in(folder), 2021, tmp_path / "scratch")
    assert con.execute(
        "SELECT description, effect_year_1, effect_year_2, effect_year_3, effect_year_4, "
        "relevant, service_reduction FROM ib_rows"
    ).fetchall() == [('a;b "c"\nd', 0.0, 1000.0, -12345.5, -1250.25, True, False)]


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [
        (11, "12,3,4", r"x\.csv, row 2, column 'Effekt 2024': value '12,3,4' is not a Danish"),
        (11, "", r"x\.csv, row 2, column 'Effekt 2024': the cell is blank"),
        (12, "måske", r"row 2, column 'Relevant for andre kommuner': value 'måske' must be Ja"),
        (1, "abc", r"row 2, column 'Kommunenr': value 'abc' is not a whole number"),
    ],
)
def test_idebank_bad_cells_name_row_and_column(tmp_path, cell, value, message):
    row = [
        "A",
        "101",
        "København",
        "2021",
        "T",
        "",
        "Ældre",
        "Indkøb",
        "0",
        "0",
        "0",
        "-1",
        "Ja",
        "Nej",
    ]
    row[cell] = value
    write_idebank_csv(tmp_path / "2021" / "x.csv", 2021, [row])
    with pytest.raises(LandingError, match=message):
        read_idebank(duckdb.connect(), files_in(tmp_path / "2021"), 2021, tmp_path / "scratch")


def test_lake_years_ignore_other_folders(tmp_path):
    for name in ("2021", "2022", "notes", "20x1"):
        (tmp_path / "landing" / "survey" / name).mkdir(parents=True)
    assert Lake(tmp_path).years("survey") == [2021, 2022]
