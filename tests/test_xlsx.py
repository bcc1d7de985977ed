"""Workbooks, however built, are read right or refused by name: ops_pipeline.readers.xlsx."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import zipfile

import duckdb
import openpyxl
import pytest
from lakes import IDEBANK_HEADER, read_fixture, write_idebank_xlsx, write_surveyxact

from ops_pipeline.readers import xlsx_archive
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.idebank import read_idebank
from ops_pipeline.readers.surveyxact import read_surveyxact
from ops_pipeline.readers.xlsx import open_workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_PART = "xl/worksheets/sheet1.xml"
HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>b</t></is></c></row>'
)


def hand_made(path, sheet_xml: str | bytes, *, sheet="Idébank", shared: str | None = None):
    """A minimal workbook with one sheet whose XML is given (and shared strings, if given)."""
    data = sheet_xml.encode() if isinstance(sheet_xml, str) else sheet_xml
    rels = f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
            f'<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{RELS}">{rels}</Relationships>'
        )
        z.writestr(SHEET_PART, data)
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{shared}</sst>')
    return path


def sheet(cells: str, dimension: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{MAIN}">{dim}<sheetData>{cells}</sheetData></worksheet>'


def refusal(path, sheet_name="Idébank", *, header=False) -> str:
    with pytest.raises(LandingError) as caught:
        open_workbook(path).read_sheet(sheet_name, header=header)
    return str(caught.value)


def part_size(path, name=SHEET_PART) -> int:
    return zipfile.ZipFile(path).getinfo(name).file_size


# -- what would abort or exhaust the process -------------------------------------------------


def test_declared_dimension_beyond_the_xml_is_refused_not_an_abort(tmp_path):
    # fastexcel alone aborts the process on this 1.6 KB workbook (a Rust allocation failure for
    # the span A1:XFD1048576, exit 134): read it in a child so that a regression cannot take
    # pytest down with it.
    cells = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    )
    path = hand_made(tmp_path / "x.xlsx", sheet(cells, "A1:XFD1048576"))
    child = textwrap.dedent(
        f"""
        from pathlib import Path
        from ops_pipeline.readers.errors import LandingError
        from ops_pipeline.readers.xlsx import open_workbook
        try:
            open_workbook(Path({str(path)!r})).read_sheet("Idébank", header=True)
        except LandingError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"{path}[Idébank]: declares 17,179,869,184 cells (A1:XFD1048576) in "
        f"{part_size(path):,} bytes of XML: refused (export larger tables as CSV)"
    )


def test_dimension_outside_excels_grid_is_refused(tmp_path):
    path = hand_made(tmp_path / "x.xlsx", sheet("", "B2:A1"))
    with pytest.raises(LandingError) as caught:
        open_workbook(path)
    assert str(caught.value) == (
        f"{path}[Idébank]: declares the dimension 'B2:A1', which is not a range of Excel's grid "
        "(A1:XFD1048576): refused"
    )


def test_two_cells_far_apart_are_refused_by_their_span(tmp_path):
    # No dimension, 200 bytes of cells: fastexcel would allocate every cell from A1 to P1000000.
    cells = (
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1000000"><c r="P1000000"><v>1</v></c></row>'
    )
    path = hand_made(tmp_path / "x.xlsx", sheet(cells))
    assert refusal(path) == (
        f"{path}[Idébank]: its cells span A1:P1000000 (16,000,000 cells), beyond the bound of "
        "8,000,000: refused (export larger tables as CSV)"
    )


def test_zip_bomb_part_beyond_the_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_archive, "MAX_PART_BYTES", 1_000_000)
    path = hand_made(tmp_path / "x.xlsx", sheet("") + " " * 2_000_000)
    assert path.stat().st_size < 20_000
    with pytest.raises(LandingError) as caught:
        open_workbook(path)
    assert str(caught.value) == (
        f"{path}: part '{SHEET_PART}' is {part_size(path):,} bytes inflated, beyond the bound "
        "of 1,000,000: refused (export larger tables as CSV)"
    )


def test_part_that_inflates_beyond_its_declared_size_is_refused(tmp_path):
    # A zip bomb that lies: its directory says 2,000 bytes, its data inflates to 5 MB.
    path = hand_made(
        tmp_path / "x.xlsx", sheet('<row r="1"><c r="A1"><v>1</v></c></row>') + " " * 5_000_000
    )
    data = bytearray(path.read_bytes())
    offset = zipfile.ZipFile(path).getinfo(SHEET_PART).header_offset
    struct.pack_into("<L", data, offset + 22, 2000)  # local header
    entry = data.find(b"PK\x01\x02" + data[offset + 4 : offset + 6])
    while data[entry + 46 : entry + 46 + len(SHEET_PART)] != SHEET_PART.encode():
        entry = data.find(b"PK\x01\x02", entry + 4)
    struct.pack_into("<L", data, entry + 24, 2000)  # central directory
    path.write_bytes(bytes(data))
    with pytest.raises(LandingError) as caught:
        open_workbook(path)
    assert str(caught.value) == (
        f"{path}: cannot be opened as xlsx: part '{SHEET_PART}' inflates to more than its "
        "declared 2,000 bytes"
    )


def test_shared_string_copied_into_many_cells_is_refused_by_its_memory(tmp_path):
    # 70 KB of XML: one 40,000-character string in 20,000 cells is 800 MB of text to copy.
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>' for r in range(1, 20_001))
    path = hand_made(tmp_path / "x.xlsx", sheet(rows), shared=f"<si><t>{'x' * 40_000}</t></si>")
    text = 20_000 * len(f"<t>{'x' * 40_000}</t></si></sst>")
    cost = 45 * 20_000 + 1.4 * part_size(path) + 2.2 * text
    before = 2 * path.stat().st_size + 4.2 * part_size(path, "xl/sharedStrings.xml")
    assert refusal(path) == (
        f"{path}[Idébank]: reading it takes about {cost / 2**20:,.0f} MiB of memory (20,000 "
        f"cells in A1:A20000, {part_size(path):,} bytes of XML, {text:,} bytes of shared text), "
        f"{(cost + before) / 2**20:,.0f} MiB with the rest of the workbook read: beyond the "
        "bound of 512 MiB: refused (export larger tables as CSV)"
    )


# -- what cannot be opened -------------------------------------------------------------------


def test_truncated_workbook(tmp_path):
    good = write_idebank_xlsx(tmp_path / "good.xlsx", 2021, [["A"] * 14])
    path = tmp_path / "x.xlsx"
    path.write_bytes(good.read_bytes()[:-200])
    with pytest.raises(LandingError) as caught:
        open_workbook(path)
    assert str(caught.value) == (
        f"{path}: cannot be opened as xlsx: the zip archive is truncated (it has no central "
        "directory)"
    )


def test_not_a_zip_named_xlsx(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_text("ID;Kommunenr\n1;101\n", encoding="utf-8")
    with pytest.raises(LandingError) as caught:
        read_idebank(duckdb.connect(), [path], 2021, tmp_path / "scratch")
    assert str(caught.value) == f"{path}: cannot be opened as xlsx: it is not a zip archive"


def test_password_protected_workbook(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000))
    with pytest.raises(LandingError) as caught:
        open_workbook(path)
    assert str(caught.value) == (
        f"{path}: cannot be opened as xlsx: it is an OLE2 compound file (a password-protected "
        "workbook, or an .xls named .xlsx)"
    )


def test_damaged_part_is_refused(tmp_path):
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in _parts(hand_made(tmp_path / "h.xlsx", sheet("") + " " * 5000)).items():
            z.writestr(name, data)
    data = bytearray(path.read_bytes())
    data[data.find(b"</worksheet>") + 100] = ord("x")  # its CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(LandingError) as caught:
        open_workbook(path).read_sheet("Idébank", header=False)  # sheets are checked when read
    assert str(caught.value) == (
        f"{path}: cannot be opened as xlsx: part '{SHEET_PART}' is damaged (its CRC does not match)"
    )


def test_dtd_and_malformed_xml_are_refused(tmp_path):
    doctype = (
        f'<!DOCTYPE worksheet [<!ENTITY e "x">]><worksheet xmlns="{MAIN}"><sheetData/></worksheet>'
    )
    path = hand_made(tmp_path / "d.xlsx", doctype)
    with pytest.raises(LandingError) as caught:
        open_workbook(path)
    assert str(caught.value) == (
        f"{path}: cannot be opened as xlsx: part '{SHEET_PART}' declares a DTD, which xlsx parts "
        "never do"
    )
    # fastexcel reads past a mismatched end tag before <sheetData>; the inspection does not.
    path = hand_made(
        tmp_path / "m.xlsx", f'<worksheet xmlns="{MAIN}"><a></b><sheetData/></worksheet>'
    )
    with pytest.raises(LandingError) as caught:
        open_workbook(path)
    assert str(caught.value) == (
        f"{path}[Idébank]: cannot be read as xlsx: its XML is not well-formed (mismatched tag: "
        "line 1, column 82)"
    )


# -- formulas ---------------------------------------------------------------------------------


def test_formula_without_cached_value_names_file_sheet_row_column_and_cell(tmp_path):
    path = tmp_path / "x.xlsx"
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Idébank"
    ws.append([h.format(2021, 2022, 2023, 2024) for h in IDEBANK_HEADER])
    ws.append(["A", 101])
    ws["L3"] = "=SUM(1,2)"  # openpyxl writes no cached value: fastexcel alone reads a blank
    workbook.save(path)
    message = (
        f"{path}[Idébank], row 3, column 'Effekt 2024': cell L3 holds a formula without a cached "
        "value: its value is unknown (recalculate and save it in Excel, or export CSV)"
    )
    with pytest.raises(LandingError) as caught:
        read_idebank(duckdb.connect(), [path], 2021, tmp_path / "scratch")
    assert str(caught.value) == message
    assert refusal(path) == message.replace(", column 'Effekt 2024'", "")


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="B2"><f>A2*2</f></c>',  # no <v>
        '<c r="B2"><f>A2*2</f><v></v></c>',
        '<c r="B2"><f t="shared" si="0"/><v/></c>',  # a shared formula's copy, empty
        '<c r="B2"><v>4</v><f>A2*2</f></c>',  # the <f> after the <v> is what fastexcel keeps
        '<c r="B2" t="s"><f>A2</f><v></v></c>',
    ],
)
def test_every_form_of_a_formula_without_value(tmp_path, cell):
    path = hand_made(
        tmp_path / "x.xlsx", sheet(HEADER + f'<row r="2"><c r="A2"><v>2</v></c>{cell}</row>')
    )
    assert refusal(path, header=True) == (
        f"{path}[Idébank], row 2, column 'b': cell B2 holds a formula without a cached value: its "
        "value is unknown (recalculate and save it in Excel, or export CSV)"
    )


def test_formula_with_cached_value_reads_the_cached_value(tmp_path):
    cells = (
        HEADER + '<row r="2"><c r="A2"><f>1+1</f><v>2</v></c><c r="B2"><f t="shared" si="0" '
        'ref="B2:B3">A2*2</f><v>4</v></c></row><row r="3"><c r="A3"><v>7</v></c><c r="B3">'
        '<f t="shared" si="0"/><v>14</v></c></row><row r="4"><c r="A4" t="str"><f>""</f><v></v>'
        '</c><c r="B4" t="inlineStr"><f>"x"</f><is><t>x</t></is></c></row>'
    )
    path = hand_made(tmp_path / "x.xlsx", sheet(cells, "A1:B4"))
    table = open_workbook(path).read_sheet("Idébank", header=True)
    assert table.to_pylist() == [
        {"a": "2", "b": "4"},
        {"a": "7", "b": "14"},
        {"a": "", "b": "x"},  # Excel's cached empty text (IF(…;"";…)) is known: ""
    ]


@pytest.mark.parametrize(
    "form",
    [
        "prefixed",  # the fast scan reads x:-prefixed XML as calamine does, by local names
        "without r",  # cells without r: the slow scan places them as calamine does
    ],
)
def test_formula_without_value_is_found_in_either_scan(tmp_path, form):
    if form == "prefixed":
        xml = (
            f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v>'
            '</x:c></x:row><x:row r="2"><x:c r="A2"><x:v>1</x:v></x:c><x:c r="B2"><x:f>A1+1</x:f>'
            "<x:v/></x:c></x:row></x:sheetData></x:worksheet>"
        )
    else:
        xml = sheet("<row><c><v>1</v></c></row><row><c><v>1</v></c><c><f>A1+1</f><v/></c></row>")
    path = hand_made(tmp_path / "x.xlsx", xml)
    assert refusal(path) == (
        f"{path}[Idébank], row 2: cell B2 holds a formula without a cached value: its value is "
        "unknown (recalculate and save it in Excel, or export CSV)"
    )


# -- headers and positions --------------------------------------------------------------------


def test_repeated_header_names_both_columns(tmp_path):
    path = tmp_path / "x.xlsx"
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Idébank"
    ws.append(["ID", "Kommunenr", "X", "Titel", "Y", " X "])
    ws.append(["A", "101", "1", "T", "2", "3"])
    workbook.save(path)
    with pytest.raises(LandingError) as caught:
        read_idebank(duckdb.connect(), [path], 2021, tmp_path / "scratch")
    assert str(caught.value) == (
        f"{path}[Idébank], row 1, column ' X ': column ' X ' repeats column 'X' (columns C and "
        "F): header names must be unique after trimming spaces"
    )


def test_header_must_be_row_1(tmp_path):
    path = hand_made(tmp_path / "x.xlsx", sheet(HEADER.replace('"1"', '"3"').replace('1"', '3"')))
    assert refusal(path, header=True) == (
        f"{path}[Idébank], row 1: row 1 is blank: the header must be the first row"
    )


def test_empty_sheet_is_an_error(tmp_path):
    path = hand_made(tmp_path / "x.xlsx", sheet('<row r="1"><c r="A1" s="1"/></row>'))
    assert refusal(path, header=True) == f"{path}[Idébank]: the sheet is empty"


def test_without_header_the_table_starts_at_a1(tmp_path):
    # fastexcel starts a sheet at its first value (here C3): read alone, rows and columns shift.
    cells = (
        '<row r="3"><c r="A3" s="1"/><c r="C3"><v>1</v></c></row>'
        '<row r="4"><c r="D4"><v>2</v></c></row>'
    )
    path = hand_made(tmp_path / "x.xlsx", sheet(cells))
    table = open_workbook(path).read_sheet("Idébank", header=False)
    assert table.column_names == ["__UNNAMED__0", "__UNNAMED__1", "__UNNAMED__2", "__UNNAMED__3"]
    assert [list(row.values()) for row in table.to_pylist()] == [
        [None, None, None, None],
        [None, None, None, None],
        [None, None, "1", None],
        [None, None, None, "2"],
    ]


def test_cells_where_the_scan_and_fastexcel_disagree_are_refused(tmp_path):
    # fastexcel reads a <v> holding CDATA as blank: the sheet is refused, not misread.
    path = hand_made(
        tmp_path / "x.xlsx", sheet(HEADER + '<row r="2"><c r="A2"><v><![CDATA[5]]></v></c></row>')
    )
    assert refusal(path, header=True) == (
        f"{path}[Idébank]: cannot be read as xlsx: fastexcel finds 1 rows × 2 columns where its "
        "XML has cells in A1:B2"
    )


# -- realistic workbooks ----------------------------------------------------------------------


def test_realistic_surveyxact_workbook_passes(tmp_path):
    structure, labels, dataset = read_fixture()
    path = write_surveyxact(tmp_path / "export", structure, labels, dataset, "xlsx", split_rows=400)
    workbook = open_workbook(path)
    assert workbook.sheet_names == ["Dataset(1)", "Dataset(2)", "Dataset(3)", "Labels", "Structure"]
    parts = [workbook.read_sheet(f"Dataset({n})", header=True) for n in (1, 2, 3)]
    assert [p.num_rows for p in parts] == [400, 400, 199]
    assert parts[0].column_names == dataset[0]
    export = read_surveyxact(duckdb.connect(), [path], tmp_path / "scratch")
    assert export.form == "xlsx" and len(export.dataset_columns) == 242


def test_realistic_idebank_workbook_passes(tmp_path):
    rows = [
        [f"P{i}", 101, "København", 2021, "T", "B" * 200, "Ældre", "Indkøb", 0, 1000, -12345.5, -i]
        + ["Ja", "Nej"]
        for i in range(1, 2001)
    ]
    path = write_idebank_xlsx(tmp_path / "x.xlsx", 2021, rows)
    con = duckdb.connect()
    read_idebank(con, [path], 2021, tmp_path / "scratch")
    assert con.execute(
        "SELECT count(*), sum(effect_year_4), min(source_row) FROM ib_rows"
    ).fetchall() == [(2000, -2001000.0, 2)]


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}
