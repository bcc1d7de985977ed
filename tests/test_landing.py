"""The landing gate (issue 10): every entry under landing/ and corrections/ is read, ignored or
refused with one line, nothing outside the lake is opened, and a refused lake changes nothing.

Plain-function tests of :func:`ops_pipeline.landing.gate` on real links and FIFOs, then the same
entries through ``ops-pipeline run`` and ``ops-pipeline check`` on a copy of the published small
lake: exit 1, the exact lines, and the warehouse, exports and reports byte-identical."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from lakes import small_lake
from publications import published_files

from ops_pipeline.cli import failure_message
from ops_pipeline.lake import Lake
from ops_pipeline.landing import HIDDEN, OFFICE_LOCK, gate

IDEBANK_2021 = Path("landing/idebank/2021")
EXTRACT = IDEBANK_2021 / "extract.csv"
CORRECTIONS_HEADER = "file;key;field;value;reason\n"


def refused(root: Path) -> list[str]:
    inventory, _ = gate(Lake(root))
    return [str(error) for error in inventory.refused]


@pytest.fixture
def fresh(tmp_path) -> Path:
    """The small lake's landing zone, never refreshed: for plain-function tests of the gate."""
    return small_lake(tmp_path / "lake")


def test_the_small_lake_passes_whole(fresh):
    inventory, corrections = gate(Lake(fresh))
    assert inventory.refused == [] and inventory.ignored == []
    assert [f.relative for f in inventory.files] == [
        "landing/idebank/2021/extract.csv",
        "landing/idebank/2021/supplement.xlsx",
        "landing/population/folk1a.csv",
        "landing/survey/2022/dataset.csv",
        "landing/survey/2022/labels.csv",
        "landing/survey/2022/structure.csv",
    ]
    assert inventory.years("idebank") == [2021] and inventory.years("survey") == [2022]
    assert corrections.corrections == []


def test_hidden_entries_and_office_lock_files_are_ignored_and_listed(fresh):
    (fresh / "landing/.DS_Store").write_bytes(b"x")
    (fresh / "landing/idebank/2021/~$extract.xlsx").write_bytes(b"lock")
    (fresh / "landing/survey/.git").mkdir()
    (fresh / "landing/survey/.git/config").write_text("never walked")
    (fresh / "corrections").mkdir()
    (fresh / "corrections/.~lock.fix.csv#").write_text("x")
    inventory, _ = gate(Lake(fresh))
    assert inventory.refused == []
    assert [(e.relative, e.rule) for e in inventory.ignored] == [
        ("corrections/.~lock.fix.csv#", HIDDEN),
        ("landing/.DS_Store", HIDDEN),
        ("landing/idebank/2021/~$extract.xlsx", OFFICE_LOCK),
        ("landing/survey/.git", HIDDEN),
    ]


def test_a_link_inside_the_landing_zone_is_read_under_its_own_name(fresh):
    link = fresh / "landing/idebank/2021/again.csv"
    link.symlink_to("extract.csv")
    inventory, _ = gate(Lake(fresh))
    assert inventory.refused == []
    assert link in inventory.files_of("idebank", 2021)


def test_the_landing_folder_itself_may_be_a_link(tmp_path):
    shared = small_lake(tmp_path / "share") / "landing"
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "landing").symlink_to(shared)
    inventory, _ = gate(Lake(lake))
    assert inventory.refused == []
    # Shown and read under the lake's own path, never the share's.
    assert inventory.files[0].relative == "landing/idebank/2021/extract.csv"
    assert inventory.files[0].path == lake / "landing/idebank/2021/extract.csv"


def test_links_out_of_the_lake_and_special_files_are_refused_unopened(fresh, tmp_path):
    # A named pipe outside: opening it would block the test, so returning proves it unopened.
    outside = tmp_path / "elsewhere.csv"
    os.mkfifo(outside)
    folder = tmp_path / "folder"
    folder.mkdir()
    landing = fresh / "landing"
    (landing / "idebank/2021/outside.csv").symlink_to(outside)
    (landing / "idebank/2021/system.csv").symlink_to("/etc/passwd")
    (landing / "idebank/2021/dangling.csv").symlink_to(tmp_path / "gone.csv")
    (landing / "idebank/2022").symlink_to(folder)
    (landing / "idebank/2021/inner").symlink_to(landing / "population")
    os.mkfifo(landing / "population/pipe.csv")
    (fresh / "corrections").mkdir()
    (fresh / "corrections/fix.csv").symlink_to(outside)
    lines = refused(fresh)
    assert lines == [
        "corrections/fix.csv: is a link to a file outside corrections/: not read",
        "landing/idebank/2021/dangling.csv: is a link to nothing that exists: not read",
        "landing/idebank/2021/inner: is a link to a folder: links to folders are not followed",
        "landing/idebank/2021/outside.csv: is a link to a file outside landing/: not read",
        "landing/idebank/2021/system.csv: is a link to a file outside landing/: not read",
        "landing/idebank/2022: is a link to a folder: links to folders are not followed",
        "landing/population/pipe.csv: is a named pipe (FIFO), not a regular file: never read",
    ]
    assert not any("root:" in line for line in lines)  # /etc/passwd's first line


@pytest.mark.parametrize(
    ("make", "line"),
    [
        (
            lambda root: (root / "landing/idebank/2021x").mkdir(),
            "landing/idebank/2021x: is not a year folder (four digits, a year from 2000 to 2099)",
        ),
        (
            lambda root: (root / "landing/survey/20211").mkdir(),
            "landing/survey/20211: is not a year folder (four digits, a year from 2000 to 2099)",
        ),
        (
            lambda root: (root / "landing/idebank/0999").mkdir(),
            "landing/idebank/0999: is not a year folder (four digits, a year from 2000 to 2099)",
        ),
        (
            lambda root: (root / "landing/idebank/2023").mkdir(),
            "landing/idebank/2023: holds no Idébank extract (.xlsx or .csv)",
        ),
        (
            lambda root: (root / "landing/idebank/2021/old.xls").write_bytes(b"\xd0\xcf"),
            "landing/idebank/2021/old.xls: is not an Idébank extract (.xlsx or .csv)",
        ),
        (
            lambda root: (root / "landing/survey/2022/notes.txt").write_text("x"),
            "landing/survey/2022/notes.txt: is not part of a SurveyXact export (dataset.csv, "
            "labels.csv and structure.csv, or one .xlsx)",
        ),
        (
            lambda root: (root / "landing/survey/2022/labels.csv").unlink(),
            "landing/survey/2022/labels.csv: missing: a CSV export has all three files",
        ),
        (
            lambda root: (root / "landing/population/folk1a.txt").write_text("x"),
            "landing/population/folk1a.txt: is not a FOLK1A export (.csv)",
        ),
        (
            lambda root: (root / "landing/readme.md").write_text("x"),
            "landing/readme.md: is not one of the landing folders survey/, idebank/ and "
            "population/",
        ),
        (
            lambda root: (root / "landing/idebank/2021/new\nline.txt").write_text("x"),
            "landing/idebank/2021/new\\nline.txt: is not an Idébank extract (.xlsx or .csv)",
        ),
        (
            lambda root: (root / os.fsdecode(b"landing/idebank/2021/\xe6ndret.csv")).write_text(
                "x"
            ),
            "landing/idebank/2021/\\xe6ndret.csv: the name is not valid UTF-8: rename it",
        ),
    ],
    ids=[
        "2021x",
        "20211",
        "0999",
        "empty year",
        "xls",
        "txt in survey",
        "partial csv export",
        "txt in population",
        "file at the top",
        "newline in a name",
        "latin-1 name",
    ],
)
def test_unrecognised_entries_are_refused_by_name(fresh, make, line):
    make(fresh)
    assert refused(fresh) == [line]


def test_a_name_holding_a_newline_is_read_and_shown_escaped(fresh):
    (fresh / "landing/idebank/2021/new\nline.csv").write_text("x")
    inventory, _ = gate(Lake(fresh))
    assert inventory.refused == []
    assert "landing/idebank/2021/new\nline.csv" in [f.relative for f in inventory.files]


def test_every_refusal_is_listed_sorted_by_path(fresh):
    (fresh / "landing/survey/2021x").mkdir()
    (fresh / "landing/idebank/2021/a.txt").write_text("x")
    (fresh / "landing/idebank/2021/Z.xls").write_text("x")
    assert [line.split(":")[0] for line in refused(fresh)] == [
        "landing/idebank/2021/Z.xls",
        "landing/idebank/2021/a.txt",
        "landing/survey/2021x",
    ]


def write_corrections(root: Path, text: str, name: str = "fix.csv", encoding="utf-8") -> None:
    (root / "corrections").mkdir(exist_ok=True)
    (root / "corrections" / name).write_bytes((CORRECTIONS_HEADER + text).encode(encoding))


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (
            "idebank/2021/extrakt.csv",
            "'idebank/2021/extrakt.csv' is not a file of the landing "
            "zone (paths are relative to landing/ and case-sensitive)",
        ),
        (
            "idebank/2021/Extract.csv",
            "'idebank/2021/Extract.csv' is not a file of the landing "
            "zone (paths are relative to landing/ and case-sensitive)",
        ),
        (
            "landing/idebank/2021/extract.csv",
            "'landing/idebank/2021/extract.csv' is not a file "
            "of the landing zone (paths are relative to landing/ and case-sensitive)",
        ),
        (
            "idebank/2021/../2021/extract.csv",
            "'idebank/2021/../2021/extract.csv' goes up with '..': name a file inside landing/",
        ),
        (
            "/etc/passwd",
            "'/etc/passwd' is an absolute path: name the file relative to landing/, "
            "as idebank/2021/extract.csv",
        ),
        (
            "C:/data/extract.csv",
            "'C:/data/extract.csv' is an absolute path: name the file "
            "relative to landing/, as idebank/2021/extract.csv",
        ),
        (
            "idebank\\2021\\extract.csv",
            "'idebank\\2021\\extract.csv' separates folders with '\\': use '/'",
        ),
        (
            "survey/2022/labels.csv",
            "'survey/2022/labels.csv' cannot be corrected: a correction "
            "targets a survey dataset.csv (or a survey workbook), an Idébank extract or a FOLK1A "
            "file",
        ),
    ],
    ids=["typo", "case", "landing prefix", "dot-dot", "absolute", "drive", "backslash", "labels"],
)
def test_a_correction_must_name_a_correctable_landing_file(fresh, target, problem):
    write_corrections(fresh, f"{target};ID=P7;Effekt 2024;-1;x\n")
    assert refused(fresh) == [f"corrections/fix.csv, row 2, column 'file': {problem}"]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "idebank/2021/extract.csv;P7;Effekt 2024;-1;x",
            ", column 'key': key 'P7' must be row=N or <column>=<value>",
        ),
        (
            "idebank/2021/extract.csv;=P7;Effekt 2024;-1;x",
            ", column 'key': key '=P7' must be row=N or <column>=<value>",
        ),
        (
            "idebank/2021/extract.csv;row=two;Effekt 2024;-1;x",
            ", column 'key': key 'row=two': row must be a number",
        ),
        ("idebank/2021/extract.csv;ID=P7;Effekt 2024;-1", ": expected 5 cells, found 4"),
        ("", ", column 'file': names no file"),
    ],
    ids=["no equals", "no column", "row not a number", "four cells", "no file"],
)
def test_a_correction_key_and_its_cells_are_checked(fresh, row, problem):
    write_corrections(fresh, f"{row};\n" if row == "" else f"{row}\n")
    if row == "":
        # A row of empty cells is skipped as blank; one naming no file but a key is an error.
        write_corrections(fresh, ";ID=P7;Effekt 2024;-1;x\n")
    assert refused(fresh) == [f"corrections/fix.csv, row 2{problem}"]


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("file;key;field;value", ", row 1: header must be file;key;field;value;reason"),
        ("fil;key;field;value;reason", ", row 1: header must be file;key;field;value;reason"),
        ("key;file;field;value;reason", ", row 1: header must be file;key;field;value;reason"),
        (None, ": the file is empty"),
    ],
    ids=["a column short", "misspelt", "reordered", "empty file"],
)
def test_a_corrections_header_must_be_the_contracts(fresh, header, problem):
    (fresh / "corrections").mkdir()
    body = f"{header}\r\nidebank/2021/extract.csv;ID=P7;Effekt 2024;-1;x\r\n" if header else ""
    (fresh / "corrections" / "fix.csv").write_text(body, encoding="utf-8")
    assert refused(fresh) == [f"corrections/fix.csv{problem}"]


def test_corrections_files_in_any_case_and_windows_1252_are_read(fresh):
    write_corrections(
        fresh,
        "idebank/2021/extract.csv;ID=P7;Titel;Ældre – ny;mail\n",
        name="FIX.CSV",
        encoding="cp1252",
    )
    inventory, corrections = gate(Lake(fresh))
    assert inventory.refused == []
    (correction,) = corrections.corrections
    assert (correction.source, correction.value, correction.year) == (
        "corrections/FIX.CSV",
        "Ældre – ny",
        2021,
    )


def test_a_corrections_record_of_10_mib_is_read(fresh):
    value = "x" * (10 * 1024 * 1024 - 100)
    write_corrections(fresh, f'idebank/2021/extract.csv;ID=P7;Beskrivelse;"{value}";long\n')
    inventory, corrections = gate(Lake(fresh))
    assert inventory.refused == [] and corrections.corrections[0].value == value


# Through the command line: the same gate stops a run before anything is staged.


def corrupt_with_links(lake: Path) -> None:
    (lake / EXTRACT.parent / "passwd.csv").symlink_to("/etc/passwd")
    os.mkfifo(lake / "landing/population/pipe.csv")
    (lake / "landing/survey/2021x").mkdir()


GATE_CASES: dict[str, tuple[Callable, list[str]]] = {
    "links, a FIFO and a bad year folder": (
        corrupt_with_links,
        [
            "landing/idebank/2021/passwd.csv: is a link to a file outside landing/: not read",
            "landing/population/pipe.csv: is a named pipe (FIFO), not a regular file: never read",
            "landing/survey/2021x: is not a year folder (four digits, a year from 2000 to 2099)",
        ],
    ),
    "year folders that are not years, an xls and a non-UTF-8 name": (
        lambda lake: [
            (lake / "landing/survey/20211").mkdir(),
            (lake / "landing/idebank/0999").mkdir(),
            (lake / "landing/idebank/2021/old.xls").write_bytes(b"\xd0\xcf\x11\xe0"),
            (lake / os.fsdecode(b"landing/idebank/2021/\xc6ldre.csv")).write_bytes(b"x"),
        ],
        [
            "landing/idebank/0999: is not a year folder (four digits, a year from 2000 to 2099)",
            "landing/idebank/2021/old.xls: is not an Idébank extract (.xlsx or .csv)",
            "landing/idebank/2021/\\xc6ldre.csv: the name is not valid UTF-8: rename it",
            "landing/survey/20211: is not a year folder (four digits, a year from 2000 to 2099)",
        ],
    ),
    "corrections naming no landing file, in a .CSV saved as Windows-1252": (
        lambda lake: write_corrections(
            lake,
            "idebank/2021/extrakt.csv;ID=P7;Effekt 2024;-1;typo\n"
            "/etc/passwd;row=2;x;1;absolute\n"
            "idebank/../idebank/2021/extract.csv;ID=P7;Effekt 2024;-1;up\n"
            "idebank\\2021\\extract.csv;ID=P7;Effekt 2024;-1;Windows – ø\n",
            name="Rettelser.CSV",
            encoding="cp1252",
        ),
        [
            "corrections/Rettelser.CSV, row 2, column 'file': 'idebank/2021/extrakt.csv' is not "
            "a file of the landing zone (paths are relative to landing/ and case-sensitive)",
            "corrections/Rettelser.CSV, row 3, column 'file': '/etc/passwd' is an absolute path: "
            "name the file relative to landing/, as idebank/2021/extract.csv",
            "corrections/Rettelser.CSV, row 4, column 'file': 'idebank/../idebank/2021/"
            "extract.csv' goes up with '..': name a file inside landing/",
            "corrections/Rettelser.CSV, row 5, column 'file': 'idebank\\2021\\extract.csv' "
            "separates folders with '\\': use '/'",
        ],
    ),
    "a correction of a labels file": (
        lambda lake: write_corrections(lake, "survey/2022/labels.csv;row=2;x;1;\n"),
        [
            "corrections/fix.csv, row 2, column 'file': 'survey/2022/labels.csv' cannot be "
            "corrected: a correction targets a survey dataset.csv (or a survey workbook), an "
            "Idébank extract or a FOLK1A file"
        ],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "check"])
@pytest.mark.parametrize("case", sorted(GATE_CASES))
def test_refused_entries_stop_the_run_and_change_nothing(lake, run, case, command):
    corrupt, lines = GATE_CASES[case]
    published = published_files(lake, reports=True)
    corrupt(lake)
    # A run of one year: the gate still judges every year.
    extra = ("--year", "2021") if command == "run" else ()
    code, out, err = run(lake, *extra, command=command)
    assert code == 1 and out == ""
    assert err.splitlines() == [f"ops-pipeline: {line}" for line in lines] + [
        f"ops-pipeline: {len(lines)} landing {'entry' if len(lines) == 1 else 'entries'} "
        "refused: nothing was staged; the published warehouse is unchanged."
    ]
    assert published_files(lake, reports=True) == published


@pytest.mark.slow
def test_check_on_a_good_lake_publishes_nothing(lake, run):
    published = published_files(lake, reports=True)
    (lake / "landing/.DS_Store").write_bytes(b"x")
    code, out, err = run(lake, command="check")
    assert code == 0, err
    (line,) = out.splitlines()
    assert line.startswith(f"{lake / 'landing'}: would refresh: 6 landing files read (1 ignored)")
    assert "quality checks passed" in line and "nothing published" in line
    assert published_files(lake, reports=True) == published
    assert not (lake / "work/check.duckdb").exists()


@pytest.mark.slow
def test_check_on_a_bad_lake_prints_what_a_run_would(lake, run):
    path = lake / EXTRACT
    path.write_bytes(path.read_bytes().replace(b";101;", b";999;", 1))
    published = published_files(lake, reports=True)
    code, _, err = run(lake, command="check")
    assert code == 1
    # The line a run stops with for this problem (test_quality's corpus, "unknown municipality").
    assert err.splitlines()[0] == (
        "ops-pipeline: landing/idebank/2021/extract.csv, row 5, column 'Kommunenr': value 999 "
        "is not one of the 98 municipality codes of the reference list "
        "[expect_column_values_to_be_in_set]"
    )
    assert published_files(lake, reports=True) == published  # a check publishes nothing


@pytest.mark.slow
def test_ignored_entries_and_skipped_corrections_are_audited(lake, run):
    (lake / "landing/idebank/2021/~$extract.xlsx").write_bytes(b"lock")
    write_corrections(
        lake,
        "idebank/2021/extract.csv;ID=P7;Effekt 2024;-350,5;KL\n"
        "survey/2022/dataset.csv;respondentid=R3;s_2_1;1;mail\n",
    )
    code, _, err = run(lake, "--year", "2022")
    assert code == 0, err
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        ignored = con.execute("SELECT path, rule FROM audit.ignored_entries").fetchall()
        corrections = con.execute(
            "SELECT file, rows_changed, status FROM audit.corrections ORDER BY file"
        ).fetchall()
    assert ignored == [("landing/idebank/2021/~$extract.xlsx", OFFICE_LOCK)]
    assert corrections == [
        ("idebank/2021/extract.csv", 0, "skipped: the run does not refresh its year"),
        ("survey/2022/dataset.csv", 1, "applied"),
    ]


# Every failure names its file.


def test_the_project_message_is_found_wherever_it_sits_in_the_chain():
    import sys

    from dagster._utils.error import SerializableErrorInfo, serializable_error_info_from_exc_info

    from ops_pipeline.cli import landing_message
    from ops_pipeline.readers.errors import LandingError, reading

    try:
        with reading("landing/idebank/2021/x.csv"):
            duckdb.sql("SELECT CAST('12345678901' AS INTEGER)").fetchall()
    except LandingError:
        raised = serializable_error_info_from_exc_info(sys.exc_info())
    # As Dagster records a failed step: its own error outside, the asset's inside.
    step = SerializableErrorInfo("step failed", [], "DagsterExecutionStepExecutionError", raised)
    message = landing_message(step)
    assert message.startswith(
        "landing/idebank/2021/x.csv: cannot be read: ConversionException: Conversion Error:"
    )
    assert "\n" not in message
    assert landing_message(SerializableErrorInfo("x", [], "KeyError")) is None


def test_names_are_shown_escaped_on_one_line():
    from ops_pipeline.readers.errors import LandingError

    name = "landing/idebank/2021/a\nb\t" + os.fsdecode(b"\xff") + "æøå.csv"
    error = LandingError(name, "bad\nthing", row=2, column="x\ny")
    assert str(error) == (
        "landing/idebank/2021/a\\nb\\t\\xffæøå.csv, row 2, column 'x\\ny': bad thing"
    )


# Files the gate lets through but a reader refuses: the same run, one exact line, nothing changed.

SUPPLEMENT = IDEBANK_2021 / "supplement.xlsx"
FOLK1A = Path("landing/population/folk1a.csv")


def _replace_in(lake: Path, relative: Path, old: bytes, new: bytes, encoding="utf-8-sig") -> None:
    path = lake / relative
    text = path.read_bytes().decode(encoding)
    assert old.decode() in text
    path.write_bytes(text.replace(old.decode(), new.decode(), 1).encode(encoding))


def repeated_header(lake: Path) -> None:
    _replace_in(lake, EXTRACT, b"Effekt 2023;", b"Effekt 2024;")


def uncached_formula(lake: Path) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(lake / SUPPLEMENT)
    workbook["Idébank"]["L2"] = "=-100-150"  # openpyxl saves no cached value
    workbook.save(lake / SUPPLEMENT)


def whole_sheet_dimension(lake: Path) -> None:
    import zipfile

    path = lake / SUPPLEMENT
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet].decode()
    start = xml.index("<dimension ")
    end = xml.index("/>", start) + 2
    parts[sheet] = (xml[:start] + '<dimension ref="A1:XFD1048576"/>' + xml[end:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def truncated_workbook(lake: Path) -> None:
    path = lake / SUPPLEMENT
    path.write_bytes(path.read_bytes()[:1000])


def long_municipality_code(lake: Path) -> None:
    _replace_in(lake, EXTRACT, b"\r\nP7;147;", b"\r\nP7;14700000000;")


def huge_population(lake: Path) -> None:
    path = lake / FOLK1A
    text = path.read_bytes().decode("utf-8-sig")
    text, count = re.subn(r"(Hele landet;2021K1;)\d+", r"\g<1>99999999999999999999", text, count=1)
    assert count == 1
    path.write_bytes(text.encode("utf-8-sig"))


def record_over_10_mib(lake: Path) -> None:
    _replace_in(lake, EXTRACT, b";Administration;", b';"' + b"x" * (10 * 1024 * 1024 + 1) + b'";')


def bad_value_in_a_name_with_a_newline(lake: Path) -> None:
    path = lake / EXTRACT
    target = path.with_name("late\nextract.csv")
    target.write_bytes(path.read_bytes().replace(b"\r\nP7;147;", b"\r\nP7;abc;", 1))
    assert target.read_bytes() != path.read_bytes()
    path.unlink()


READER_CASES: dict[str, tuple[Callable, str]] = {
    "repeated header": (
        repeated_header,
        "landing/idebank/2021/extract.csv, row 1, column 'Effekt 2024': column 'Effekt 2024' "
        "repeats column 'Effekt 2024' (columns 11 and 12): each column name may appear once",
    ),
    "uncached formula": (
        uncached_formula,
        "landing/idebank/2021/supplement.xlsx[Idébank], row 2, column 'Effekt 2024': cell L2 "
        "holds a formula without a cached value: its value is unknown (recalculate and save it in "
        "Excel, or export CSV)",
    ),
    "whole-sheet dimension": (
        whole_sheet_dimension,
        "landing/idebank/2021/supplement.xlsx[Idébank]: declares 17,179,869,184 cells "
        "(A1:XFD1048576) in 2,459 bytes of XML: refused (export larger tables as CSV)",
    ),
    "truncated workbook": (
        truncated_workbook,
        "landing/idebank/2021/supplement.xlsx: cannot be opened as xlsx: the zip archive is "
        "truncated (it has no central directory)",
    ),
    "11-digit Kommunenr": (
        long_municipality_code,
        "landing/idebank/2021/extract.csv, row 9, column 'Kommunenr': value '14700000000' is "
        "too large for a whole number (at most 2147483647)",
    ),
    "20-digit INDHOLD": (
        huge_population,
        "landing/population/folk1a.csv, row 2, column 'INDHOLD': value '99999999999999999999' is "
        "too large for a number of persons",
    ),
    "record over 10 MiB": (
        record_over_10_mib,
        "landing/idebank/2021/extract.csv, line 2: a record (quoted line breaks included) is "
        "longer than 10,485,760 bytes (10 MiB), the most a record may hold",
    ),
    "a name holding a newline": (
        bad_value_in_a_name_with_a_newline,
        "landing/idebank/2021/late\\nextract.csv, row 9, column 'Kommunenr': value 'abc' is not "
        "a whole number",
    ),
}


@pytest.mark.parametrize("case", sorted(READER_CASES))
def test_a_file_a_reader_refuses_stops_its_step_naming_it(lake, stage, case):
    """Each case at the asset level: the staging step reading the file fails with the one line
    the command prints (the test below shows the whole run and its output once)."""
    corrupt, line = READER_CASES[case]
    corrupt(lake)
    result = stage(lake, line)
    assert not result.success
    assert failure_message(result) == line


@pytest.mark.slow
def test_a_file_a_reader_refuses_stops_the_run_naming_it(lake, run):
    corrupt, line = READER_CASES["a name holding a newline"]
    published = published_files(lake, reports=True)
    corrupt(lake)
    code, out, err = run(lake)
    lines = err.splitlines()
    assert code == 1 and out == ""
    # One line naming the file, then the run's own line; no traceback, no library's bare words.
    assert len(lines) == 2, err
    assert lines[0] == f"ops-pipeline: {line}"
    assert lines[1].startswith("ops-pipeline: run ") and lines[1].endswith(
        "failed; the published warehouse is unchanged."
    )
    assert published_files(lake, reports=True) == published
