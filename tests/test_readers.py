"""Readers on the real SurveyXact export in every form of the contract, and on broken files."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from lakes import FIXTURE, read_fixture, write_idebank_csv, write_surveyxact

from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.folk1a import read_folk1a
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


IDEBANK_ROW = ["A", "101", "København", "2021", "T", "", "Ældre", "Indkøb", "0", "0", "0", "-1"]
IDEBANK_ROW += ["Ja", "Nej"]
MIB = 1 << 20


@pytest.mark.parametrize("flavour", ["semicolon-ansi", "comma-ansi", "tab-utf16"])
def test_surveyxact_repeated_header_names_both_columns(tmp_path, flavour):
    structure, labels, dataset = read_fixture()
    dataset[0][9] = f" {dataset[0][2]} "  # the same name, once trimmed
    folder = tmp_path / "export"
    write_surveyxact(folder, structure, labels, dataset, flavour)
    name = dataset[0][2]
    with pytest.raises(LandingError) as excinfo:
        read_surveyxact(duckdb.connect(), files_in(folder), tmp_path / "scratch")
    assert str(excinfo.value) == (
        f"{folder / 'dataset.csv'}, row 1, column '{name}': column '{name}' repeats column "
        f"'{name}' (columns 3 and 10): each column name may appear once"
    )


def test_idebank_repeated_quoted_header_is_an_error(tmp_path):
    path = write_idebank_csv(tmp_path / "2021" / "x.csv", 2021, [IDEBANK_ROW])
    data = path.read_bytes().decode("utf-8-sig")
    # Two "Effekt 2024" columns, one quoted, one in other letter case: DuckDB would rename one.
    data = data.replace("Effekt 2023;", '"effekt 2024";', 1)
    path.write_bytes(data.encode("utf-8-sig"))
    with pytest.raises(LandingError) as excinfo:
        read_idebank(duckdb.connect(), files_in(tmp_path / "2021"), 2021, tmp_path / "scratch")
    assert str(excinfo.value) == (
        f"{path}, row 1, column 'Effekt 2024': column 'Effekt 2024' repeats column "
        "'effekt 2024' (columns 11 and 12): each column name may appear once"
    )


def test_folk1a_repeated_header_is_an_error(tmp_path):
    path = tmp_path / "folk1a.csv"
    path.write_bytes("\ufeffOMRÅDE;TID;TID\r\nHele landet;2021K1;5840045\r\n".encode())
    with pytest.raises(LandingError) as excinfo:
        read_folk1a(duckdb.connect(), [path], tmp_path / "scratch")
    assert str(excinfo.value) == (
        f"{path}, row 1, column 'TID': column 'TID' repeats column 'TID' (columns 2 and 3): "
        "each column name may appear once"
    )


def _idebank_with_description(folder, size: int):
    """An Idébank CSV whose second proposal's quoted Beskrivelse makes a record of ``size``
    bytes (line breaks inside it)."""
    first = ";".join(IDEBANK_ROW)
    rest = [";".join(IDEBANK_ROW[:5]), ";".join(IDEBANK_ROW[6:])]
    room = size - len(rest[0].encode()) - len(rest[1].encode()) - 4  # two ';', two quotes
    text = ("tekst " * 16 + "\r\n") * (room // 98)
    text += "x" * (room - len(text))
    record = f'{rest[0]};"{text}";{rest[1]}'
    assert len(record.encode()) == size
    path = write_idebank_csv(folder / "x.csv", 2021, [])
    with path.open("ab") as fh:
        fh.write(f"{first}\r\n{record}\r\n{first.replace('A', 'B', 1)}\r\n".encode())
    return path, text


def test_idebank_record_of_almost_10_mib_is_read(tmp_path):
    path, text = _idebank_with_description(tmp_path / "2021", int(9.9 * MIB))
    con = duckdb.connect()
    read_idebank(con, files_in(tmp_path / "2021"), 2021, tmp_path / "scratch")
    rows = con.execute("SELECT source_row, length(description) FROM ib_rows").fetchall()
    assert rows == [(2, None), (3, len(text)), (4, None)]
    assert con.execute("SELECT count(*) FROM reader_rejects").fetchall() == [(0,)]


def test_idebank_record_of_exactly_10_mib_is_read(tmp_path):
    _idebank_with_description(tmp_path / "2021", 10 * MIB)
    con = duckdb.connect()
    read_idebank(con, files_in(tmp_path / "2021"), 2021, tmp_path / "scratch")
    assert con.execute("SELECT count(*) FROM ib_rows").fetchall() == [(3,)]


def test_idebank_record_over_10_mib_names_file_and_line(tmp_path):
    path, _ = _idebank_with_description(tmp_path / "2021", int(10.1 * MIB))
    with pytest.raises(LandingError) as excinfo:
        read_idebank(duckdb.connect(), files_in(tmp_path / "2021"), 2021, tmp_path / "scratch")
    assert str(excinfo.value) == (
        f"{path}, line 3: a record (quoted line breaks included) is longer than 10,485,760 "
        "bytes (10 MiB), the most a record may hold"
    )


def test_record_over_10_mib_after_the_sniffed_rows_names_its_line(tmp_path):
    structure, labels, dataset = read_fixture()
    dataset += [list(dataset[-1]) for _ in range(25_000)]  # past DuckDB's sniffer sample
    dataset[-100][4] = "a\n" + "x" * (10 * MIB)
    folder = tmp_path / "export"
    write_surveyxact(folder, structure, labels, dataset, "tab-utf16")
    with pytest.raises(LandingError) as excinfo:
        read_surveyxact(duckdb.connect(), files_in(folder), tmp_path / "scratch")
    line = sum(1 + sum(cell.count("\n") for cell in row) for row in dataset[:-100]) + 1
    assert str(excinfo.value) == (
        f"{folder / 'dataset.csv'}, line {line}: a record (quoted line breaks included) is "
        "longer than 10,485,760 bytes (10 MiB), the most a record may hold"
    )


def test_folk1a_population_too_large_names_row_and_column(tmp_path):
    path = tmp_path / "folk1a.csv"
    path.write_bytes(
        "\ufeffOMRÅDE;TID;INDHOLD\r\nHele landet;2021K1;5840045\r\n"
        "København;2021K1;12345678901234567890\r\n".encode()
    )
    with pytest.raises(LandingError) as excinfo:
        read_folk1a(duckdb.connect(), [path], tmp_path / "scratch")
    assert str(excinfo.value) == (
        f"{path}, row 3, column 'INDHOLD': value '12345678901234567890' is too large for a "
        "number of persons"
    )


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [
        (
            1,
            "12345678901",
            "column 'Kommunenr': value '12345678901' is too large for a whole number "
            "(at most 2147483647)",
        ),
        (
            3,
            "20210000000",
            "column 'Budgetår': value '20210000000' is too large for a whole number "
            "(at most 2147483647)",
        ),
        (11, "9" * 400, f"column 'Effekt 2024': value '{'9' * 400}' is too large for a number"),
    ],
)
def test_idebank_numbers_too_large_name_row_and_column(tmp_path, cell, value, message):
    row = list(IDEBANK_ROW)
    row[cell] = value
    path = write_idebank_csv(tmp_path / "2021" / "x.csv", 2021, [IDEBANK_ROW, row])
    with pytest.raises(LandingError) as excinfo:
        read_idebank(duckdb.connect(), files_in(tmp_path / "2021"), 2021, tmp_path / "scratch")
    assert str(excinfo.value) == f"{path}, row 3, {message}"


TOO_LONG = (
    "a record (quoted line breaks included) is longer than 10,485,760 bytes (10 MiB), the most "
    "a record may hold"
)


@pytest.mark.parametrize(
    ("encoding", "words"),
    [
        ("cp1252", "Ældre – “tekst” "),  # bytes 0x80–0x9F: read from a UTF-8 copy
        ("cp1252", "Ældre og børn "),  # Latin-1 to DuckDB
        ("utf-8-sig", "Ældre – “tekst” "),
    ],
)
@pytest.mark.parametrize("extra", [0, 1])
def test_idebank_record_limit_counts_the_files_own_bytes(tmp_path, encoding, words, extra):
    # DuckDB counts a record in UTF-8: a Danish Windows-1252 record of 10 MiB is ~10.5 there.
    codec = "utf-8" if encoding == "utf-8-sig" else encoding  # the BOM only once
    head = ";".join(["B", *IDEBANK_ROW[1:5]]) + ';"'
    tail = '";' + ";".join(IDEBANK_ROW[6:])
    room = 10 * MIB + extra - len((head + tail).encode(codec))
    unit = words * 6 + "\r\n"
    text = unit * (room // len(unit.encode(codec)))
    text += "x" * (room - len(text.encode(codec)))
    path = write_idebank_csv(tmp_path / "2021" / "x.csv", 2021, [IDEBANK_ROW], encoding=encoding)
    with path.open("ab") as fh:
        fh.write(f"{head}{text}{tail}\r\n".encode(codec))
    con = duckdb.connect()
    if extra:
        with pytest.raises(LandingError) as excinfo:
            read_idebank(con, files_in(tmp_path / "2021"), 2021, tmp_path / "scratch")
        assert str(excinfo.value) == f"{path}, line 3: {TOO_LONG}"
    else:
        read_idebank(con, files_in(tmp_path / "2021"), 2021, tmp_path / "scratch")
        rows = con.execute("SELECT id, description FROM ib_rows ORDER BY source_row").fetchall()
        assert rows == [("A", None), ("B", text)]


def test_utf16_record_over_10_mib_of_the_file_is_refused(tmp_path):
    # 10 MiB and 2 bytes in UTF-16 is only 5 MiB as UTF-8, what DuckDB counts.
    structure, labels, dataset = read_fixture()
    row = ["" if v is None else str(v) for v in dataset[-1]]
    row[4] = "a\n"
    size = len("\t".join(row).encode("utf-16-le")) + 4  # the two quotes around the cell
    row[4] += "x" * ((10 * MIB + 2 - size) // 2)
    dataset[-1] = row
    folder = tmp_path / "export"
    write_surveyxact(folder, structure, labels, dataset, "tab-utf16")
    line = sum(1 + sum(str(cell).count("\n") for cell in r) for r in dataset[:-1]) + 1
    with pytest.raises(LandingError) as excinfo:
        read_surveyxact(duckdb.connect(), files_in(folder), tmp_path / "scratch")
    assert str(excinfo.value) == f"{folder / 'dataset.csv'}, line {line}: {TOO_LONG}"


@pytest.mark.parametrize("extra", [0, 1])
def test_folk1a_lf_record_of_10_mib_and_one_byte_is_refused(tmp_path, extra):
    # With LF line breaks DuckDB's own limit lets one byte more through.
    path = tmp_path / "folk1a.csv"
    area = "Ø" * ((10 * MIB + extra - len(";2021K1;5")) // 2)
    area += "x" * (10 * MIB + extra - len(f"{area};2021K1;5".encode()))
    path.write_bytes(
        f"\ufeffOMRÅDE;TID;INDHOLD\nHele landet;2021K1;5840045\n{area};2021K1;5\n".encode()
    )
    con = duckdb.connect()
    if extra:
        with pytest.raises(LandingError) as excinfo:
            read_folk1a(con, [path], tmp_path / "scratch")
        assert str(excinfo.value) == f"{path}, line 3: {TOO_LONG}"
    else:
        read_folk1a(con, [path], tmp_path / "scratch")
        assert con.execute("SELECT max(strlen(area)) FROM folk1a_rows").fetchall() == [
            (len(area.encode()),)
        ]


def test_idebank_column_named_like_the_row_number_is_an_error(tmp_path):
    path = write_idebank_csv(tmp_path / "2021" / "x.csv", 2021, [[*IDEBANK_ROW, "7"]])
    data = path.read_bytes().decode("utf-8-sig").replace("\r\n", ";_row\r\n", 1)
    path.write_bytes(data.encode("utf-8-sig"))
    with pytest.raises(LandingError) as excinfo:
        read_idebank(duckdb.connect(), files_in(tmp_path / "2021"), 2021, tmp_path / "scratch")
    assert str(excinfo.value) == (
        f"{path}, row 1, column '_row': column 15 is named '_row', the name the reader gives "
        "the row number"
    )


@pytest.mark.parametrize("flavour", ["semicolon-ansi", "xlsx"])
def test_padded_dataset_names_are_read_as_the_structure_names_them(tmp_path, flavour):
    """`` respondentid`` and ``s_2_1 `` in the dataset's header are the key and a variable, not
    unknown columns whose answers vanish."""
    from lakes import small_survey

    plain = small_survey(tmp_path / "plain")
    with duckdb.connect() as con:
        expected = read_surveyxact(con, files_in(plain), tmp_path / "s1").dataset_columns
        rows = con.execute("SELECT respondentid, s_2_1 FROM sx_dataset ORDER BY _row").fetchall()
    structure, labels, dataset = (
        [line.split(";") for line in (plain / f"{name}.csv").read_text("cp1252").splitlines()]
        for name in ("structure", "labels", "dataset")
    )
    padded = {"respondentid": " respondentid", "s_2_1": "s_2_1  "}
    dataset[0] = [padded.get(name, name) for name in dataset[0]]
    folder = write_surveyxact(tmp_path / "padded", structure, labels, dataset, flavour)
    with duckdb.connect() as con:
        export = read_surveyxact(
            con, files_in(folder if folder.is_dir() else folder.parent), tmp_path / "s2"
        )
        assert export.dataset_columns == expected
        assert "respondentid" in expected and "s_2_1" in expected
        got = con.execute("SELECT respondentid, s_2_1 FROM sx_dataset ORDER BY _row").fetchall()
    assert got == rows and len(rows) == 6
