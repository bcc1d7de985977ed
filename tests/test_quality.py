"""Quality gates (issue 3): the bad-input corpus through ``ops-pipeline run``, the audit trail,
Data Docs, corrections, and the GX suites called as plain functions."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import openpyxl
import pytest
from lakes import (
    SMALL_IDEBANK,
    SMALL_POPULATION,
    write_folk1a,
    write_idebank_csv,
)
from publications import published_files

from ops_pipeline.cli import failure_message

EXTRACT = Path("landing/idebank/2021/extract.csv")
SUPPLEMENT = Path("landing/idebank/2021/supplement.xlsx")
DATASET = Path("landing/survey/2022/dataset.csv")
FOLK1A = Path("landing/population/folk1a.csv")


def idebank_row(**changes) -> list[str]:
    row = list(SMALL_IDEBANK[2])  # P2
    columns = {"ID": 0, "Kommunenr": 1, "Kommune": 2, "Budgetår": 3, "Effekt": 11}
    for name, value in changes.items():
        row[columns[name]] = value
    return row


def replace_dataset_cell(lake: Path, respondent: str, column: str, value: str) -> None:
    path = lake / DATASET
    lines = path.read_bytes().decode("cp1252").split("\r\n")
    header = lines[0].split(";")
    for i, line in enumerate(lines):
        cells = line.split(";")
        if cells[0] == respondent:
            cells[header.index(column)] = value
            lines[i] = ";".join(cells)
    path.write_bytes("\r\n".join(lines).encode("cp1252"))


def wrong_encoding(lake):  # FOLK1A must be UTF-8 (statbank export); here it is Windows-1252
    path = lake / FOLK1A
    path.write_bytes(path.read_bytes().decode("utf-8-sig").encode("cp1252"))


def missing_column(lake):
    rows = [r[:13] for r in SMALL_IDEBANK]
    write_idebank_csv(lake / EXTRACT, 2021, rows)
    path = lake / EXTRACT
    text = path.read_text(encoding="utf-8-sig").replace(";Serviceforringelse", "", 1)
    path.write_text(text, encoding="utf-8-sig")


def renamed_column(lake):
    path = lake / EXTRACT
    path.write_text(
        path.read_text(encoding="utf-8-sig").replace("Kommunenr", "Kommune nr", 1),
        encoding="utf-8-sig",
    )


def empty_file(lake):
    (lake / "landing/idebank/2021/late.csv").write_bytes(b"")


def truncated_file(lake):
    path = lake / DATASET
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"R4;") + 20])


def xlsx_without_sheet(lake):
    workbook = openpyxl.load_workbook(lake / SUPPLEMENT)
    workbook["Idébank"].title = "Ark1"
    workbook.save(lake / SUPPLEMENT)


def duplicated_municipality(lake):
    replace_dataset_cell(lake, "R2", "kommunekode", "101")


def unknown_municipality(lake):
    write_idebank_csv(
        lake / "landing/idebank/2021/late.csv",
        2021,
        [idebank_row(ID="X1", Kommunenr="999", Kommune="Atlantis")],
    )


def non_numeric_amount(lake):
    write_idebank_csv(
        lake / "landing/idebank/2021/late.csv", 2021, [idebank_row(ID="X1", Effekt="ca. 100")]
    )


def budget_year_differs(lake):
    write_idebank_csv(
        lake / "landing/idebank/2021/late.csv", 2021, [idebank_row(ID="X1", **{"Budgetår": "2020"})]
    )


def code_outside_labels(lake):
    replace_dataset_cell(lake, "R2", "s_1", "7")


def folk1a_missing_municipality(lake):
    write_folk1a(lake / FOLK1A, SMALL_POPULATION, drop=["Læsø"])


CORPUS: dict[str, tuple[Callable, str]] = {
    "wrong encoding": (
        wrong_encoding,
        r"landing/population/folk1a\.csv: encoding is cp1252, expected utf-8",
    ),
    "missing column": (
        missing_column,
        r"landing/idebank/2021/extract\.csv, row 1, column 'Serviceforringelse': "
        r"missing column 'Serviceforringelse' in the header",
    ),
    "renamed column": (
        renamed_column,
        r"landing/idebank/2021/extract\.csv, row 1, column 'Kommunenr': missing "
        r"column 'Kommunenr'",
    ),
    "empty file": (empty_file, r"landing/idebank/2021/late\.csv: the file is empty"),
    "truncated file": (
        truncated_file,
        r"landing/survey/2022/dataset\.csv, line 5, column '.*': missing columns.*"
        r"rows could not be read",
    ),
    "xlsx without the sheet": (
        xlsx_without_sheet,
        r"landing/idebank/2021/supplement\.xlsx: has no sheet 'Idébank' "
        r"\(sheets: Ark1\)",
    ),
    "duplicated municipality": (
        duplicated_municipality,
        r"landing/survey/2022/dataset\.csv, row [23], column "
        r"'kommunekode': value 101 answers twice",
    ),
    "unknown municipality": (
        unknown_municipality,
        r"landing/idebank/2021/late\.csv, row 2, column 'Kommunenr': value "
        r"999 is not one of the 98 municipality codes",
    ),
    "non-numeric amount": (
        non_numeric_amount,
        r"landing/idebank/2021/late\.csv, row 2, column 'Effekt 2024': value "
        r"'ca\. 100' is not a Danish number",
    ),
    "budget year differs": (
        budget_year_differs,
        r"landing/idebank/2021/late\.csv, row 2, column 'Budgetår': value "
        r"2020 differs from the budget year of the folder",
    ),
    "code outside labels": (
        code_outside_labels,
        r"landing/survey/2022/dataset\.csv, row 3, column 's_1': value '7' "
        r"is not one of the variable's labels",
    ),
    "FOLK1A missing a municipality": (
        folk1a_missing_municipality,
        r"landing/population/folk1a\.csv, column 'INDHOLD': value 1110090 \(the "
        r"municipalities plus Christiansø\) does not add up to Hele landet \(national "
        r"1120090, quarter 2021K1\)",
    ),
}


def stops_at_the_gate(lake: Path, run, case: str) -> str:
    """Corrupt the lake as the corpus's ``case`` does and run: the run stops, its first line
    names the problem, nothing is published and no landing file is touched. Its stderr."""
    corrupt, message = CORPUS[case]
    published = published_files(lake, reports=True)
    originals = {p: p.read_bytes() for p in (lake / "landing").rglob("*") if p.is_file()}

    corrupt(lake)
    landing_before = {p: p.read_bytes() for p in (lake / "landing").rglob("*") if p.is_file()}
    code, _, err = run(lake)
    assert code == 1
    first = err.splitlines()[0]
    assert re.match(r"ops-pipeline: " + message, first), first
    assert published_files(lake, reports=True) == published
    landing_after = {p: p.read_bytes() for p in (lake / "landing").rglob("*") if p.is_file()}
    assert landing_after == landing_before  # the pipeline never touches landing files
    assert set(originals) <= set(landing_after)
    return err


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_bad_input_is_refused_by_the_step_reading_it(lake, stage, case):
    """Each case at the asset level, where its staging step or that step's check stops it (two
    cases go on through the whole run below, as ``ops-pipeline run``)."""
    corrupt, message = CORPUS[case]
    corrupt(lake)
    landing = {p: p.read_bytes() for p in (lake / "landing").rglob("*") if p.is_file()}
    result = stage(lake, message)
    assert not result.success
    assert re.match(message, failure_message(result)), failure_message(result)
    after = {p: p.read_bytes() for p in (lake / "landing").rglob("*") if p.is_file()}
    assert after == landing  # the pipeline never touches landing files


def test_once_the_file_is_fixed_the_next_run_succeeds_without_clean_up(lake, run):
    """After a run the gate stopped, mending the file is all it takes (no state to clear)."""

    def savings():
        with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
            return con.execute("SELECT * FROM marts.municipal_savings ORDER BY ALL").fetchall()

    published = savings()
    originals = {p for p in (lake / "landing").rglob("*") if p.is_file()}
    # It stops at a check, after staging wrote the working database.
    stops_at_the_gate(lake, run, "unknown municipality")
    for path in {p for p in (lake / "landing").rglob("*") if p.is_file()} - originals:
        path.unlink()
    code, _, err = run(lake)
    assert code == 0, err
    assert savings() == published  # the staged rows of the failed run left nothing behind


def test_rejected_rows_within_an_explicit_tolerance_pass(lake, run):
    """The truncated row that stops a run by default (the corpus's "truncated file") passes
    when the run allows one rejected row."""
    truncated_file(lake)
    code, out, _ = run(lake, "--max-rejected-rows", "1")
    assert code == 0, out
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT file, line, reason FROM audit.rejected_rows").fetchall()
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'audit' AND table_name = 'rejected_rows'"
            ).fetchall()
        ]
    assert rows == [(str(DATASET), 5, rows[0][2])] and rows[0][2].startswith("missing columns")
    assert "raw" not in columns  # raw rows may hold personal data: never published
    with duckdb.connect(str(lake / "audit.duckdb"), read_only=True) as con:
        raw = con.execute("SELECT raw FROM rejected_rows ORDER BY recorded_at DESC LIMIT 1")
        assert raw.fetchall()[0][0].startswith("R4;751")


def test_audit_of_a_published_run(lake):
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        files = con.execute(
            "SELECT file, sha256, size_bytes, rows, partition FROM audit.ingested_files "
            "ORDER BY file"
        ).fetchall()
        runs = con.execute("SELECT DISTINCT run_id FROM audit.ingested_files").fetchall()
        results = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE success), list(DISTINCT asset ORDER BY asset) "
            "FROM audit.validation_results"
        ).fetchall()
        rejected = con.execute("SELECT count(*) FROM audit.rejected_rows").fetchall()
    import hashlib

    expected = []
    for path in sorted((lake / "landing").rglob("*")):
        if path.is_file():
            relative = str(path.relative_to(lake))
            expected.append(
                (relative, hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)
            )
    assert [(f, s, n) for f, s, n, _, _ in files] == expected
    rows = {f: r for f, _, _, r, _ in files}
    assert rows["landing/survey/2022/dataset.csv"] == 6
    assert rows["landing/idebank/2021/extract.csv"] == 8
    assert rows["landing/idebank/2021/supplement.xlsx"] == 2
    assert rows["landing/population/folk1a.csv"] == 98 + 5 + 2
    assert {p for *_, p in files} == {"", "2021", "2022"}
    assert len(runs) == 1
    total, passed, checked = results[0]
    # Every table with a quality gate was validated, and every expectation passed.
    assert total == passed > 0
    assert checked == [
        "marts/idebank_overview",
        "marts/municipal_savings",
        "marts/proposals",
        "marts/savings_by_measure",
        "marts/savings_potential",
        "marts/savings_potential_by_group",
        "marts/survey_answer_counts",
        "marts/survey_potential",
        "marts/survey_response",
        "reference/municipalities",
        "staged/idebank_rows",
        "staged/population",
        "staged/proposals",
        "staged/survey_answers",
        "staged/survey_labels",
        "staged/survey_respondents",
        "staged/survey_variables",
    ]
    assert rejected == [(0,)]


def test_failed_run_is_audited_and_docs_name_the_failure(lake, run):
    err = stops_at_the_gate(lake, run, "code outside labels")
    with duckdb.connect(str(lake / "audit.duckdb"), read_only=True) as con:
        failed = con.execute(
            """SELECT run_id, asset, check_name, expectation, unexpected_count, docs_page
               FROM validation_results WHERE NOT success"""
        ).fetchall()
        runs = con.execute("SELECT count(DISTINCT run_id) FROM ingested_files").fetchall()
    assert runs == [(2,)]  # the published run and the failed one
    ((run_id, asset, check, expectation, unexpected, page),) = failed
    assert (asset, check, expectation, unexpected) == (
        "staged/survey_answers",
        "survey_answers_suite",
        "expect_column_values_to_be_in_set",
        1,
    )
    assert run_id in err
    assert Path(page).is_file() and Path(page).is_relative_to(lake / "docs")
    assert "outside_labels" in Path(page).read_text(encoding="utf-8")


def test_data_docs_after_a_run(lake):
    index = lake / "docs" / "index.html"
    assert index.is_file()
    pages = list((lake / "docs" / "validations").rglob("*.html"))
    assert len(pages) >= 15


def test_correction_changes_the_marts_and_is_audited(lake, run):
    corrections = lake / "corrections"
    corrections.mkdir()
    (corrections / "2021-12.csv").write_text(
        "file;key;field;value;reason\n"
        "idebank/2021/extract.csv;ID=P7;Effekt 2024;-350,5;KL: typo in the export\n"
        "survey/2022/dataset.csv;respondentid=R3;s_2_1;1;CEO answered by mail\n",
        encoding="utf-8",
    )
    assert run(lake)[0] == 0
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        frederiksberg = con.execute(
            "SELECT savings_dkk, savings_per_inhabitant FROM marts.municipal_savings "
            "WHERE municipality_code = 147"
        ).fetchall()
        s_2_1 = con.execute(
            "SELECT answered, positive FROM marts.survey_potential WHERE variable = 's_2_1'"
        ).fetchall()
        applied = con.execute(
            "SELECT file, key, field, value, rows_changed FROM audit.corrections ORDER BY file"
        ).fetchall()
    assert frederiksberg == [(350_500.0, 7.01)]  # was 250,500 and 5.01
    assert s_2_1 == [(3, 3)]  # R3's blank answer is now "I meget høj grad"
    assert applied == [
        ("idebank/2021/extract.csv", "ID=P7", "Effekt 2024", "-350,5", 1),
        ("survey/2022/dataset.csv", "respondentid=R3", "s_2_1", "1", 1),
    ]
    assert (lake / EXTRACT).read_bytes().count(b"-250,5") == 1  # landing file untouched


def test_correction_matching_no_row_is_an_error(lake, run):
    (lake / "corrections").mkdir()
    (lake / "corrections" / "fix.csv").write_text(
        "file;key;field;value;reason\nidebank/2021/extract.csv;ID=P99;Effekt 2024;-1;x\n",
        encoding="utf-8",
    )
    code, _, err = run(lake)
    assert code == 1
    assert err.splitlines()[0] == (
        "ops-pipeline: corrections/fix.csv, row 2, column 'key': correction of "
        "idebank/2021/extract.csv ID=P99 matches no row"
    )


def test_suites_run_as_plain_functions(tmp_path):
    """A check is testable without Dagster: a DuckDB connection and a suite."""
    from ops_pipeline.quality import validate
    from ops_pipeline.quality.suites.marts import SURVEY_RESPONSE_SUITE as suite

    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.survey_response AS SELECT * FROM (VALUES "
        "(2022, 98, 81, 66, 81 / 98, 66 / 98), (2023, 10, 12, 1, 1.2, 0.1)) "
        "t(survey_year, invited, responded, completed, response_rate, completion_rate)"
    )
    con.execute("ALTER TABLE marts.survey_response ALTER survey_year TYPE INTEGER")
    for column in ("invited", "responded", "completed"):
        con.execute(f"ALTER TABLE marts.survey_response ALTER {column} TYPE INTEGER")
    outcome = validate(con, suite, tmp_path / "docs")
    failed = {(o.expectation.type, o.column): o.unexpected_count for o in outcome.failed}
    assert failed == {
        ("expect_column_values_to_be_between", "response_rate"): 1,
        ("expect_column_pair_values_a_to_be_greater_than_b", "invited"): 1,
    }
    assert outcome.docs_pages and all(Path(p).is_file() for p in outcome.docs_pages)


def test_each_data_docs_folder_holds_only_its_own_validations(tmp_path):
    """One GX context serves every lake a process validates (a test session, a long-lived
    code server): each lake's Data Docs show its own validations, and a suite's other variant
    (another rejected-rows setting) is validated with that variant's expectations."""
    from ops_pipeline.quality import build_data_docs, validate, worker
    from ops_pipeline.quality.expectations import Suite, rejected_rows
    from ops_pipeline.quality.suites.marts import SURVEY_RESPONSE_SUITE as suite

    worker.stop()  # GX in this process: the context under test
    failing = validate(_survey_response_with_two_problems(), suite, tmp_path / "a")
    con = _survey_response_with_two_problems()
    con.execute("DELETE FROM marts.survey_response WHERE survey_year = 2023")
    passing = validate(con, suite, tmp_path / "b")
    assert len(failing.failed) == 2 and passing.success
    for docs in ("a", "b"):
        assert build_data_docs(tmp_path / docs)() == tmp_path / docs / "index.html"

    def pages(docs: str) -> set[str]:
        folder = tmp_path / docs / "validations"
        return {p.relative_to(folder).as_posix() for p in folder.rglob("*.html")}

    assert pages("a") == {
        Path(p).relative_to(tmp_path / "a" / "validations").as_posix() for p in failing.docs_pages
    }
    assert pages("b") == {
        Path(p).relative_to(tmp_path / "b" / "validations").as_posix() for p in passing.docs_pages
    }
    assert pages("a").isdisjoint(pages("b"))
    assert (tmp_path / "b" / "expectations").is_dir()  # the suites' pages beside them

    # The tolerance's variants of one batch, alternating in one process.
    tolerance = Suite("t", ("staged", "population"), "", (rejected_rows("staged/population"),))
    rejected = duckdb.connect()
    rejected.execute(
        "CREATE SCHEMA staged; CREATE TABLE staged.rejected_rows AS SELECT "
        "'staged/population' AS asset, 'f.csv' AS file, 5 AS line, 'x' AS column_name, "
        "'missing columns' AS reason"
    )
    assert [
        validate(rejected, tolerance, tmp_path / "c", max_rejected_rows=n).success
        for n in (0, 1, 0)
    ] == [False, True, False]


def _survey_response_with_two_problems() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.survey_response (survey_year INTEGER, invited INTEGER, "
        "responded INTEGER, completed INTEGER, response_rate DOUBLE, completion_rate DOUBLE)"
    )
    con.execute(
        "INSERT INTO marts.survey_response VALUES "
        "(2022, 98, 81, 66, 81 / 98, 66 / 98), (2023, 10, 12, 1, 1.2, 0.1)"
    )
    return con


def _findings(outcome) -> list[tuple]:
    return [
        (o.batch, o.expectation.type, o.column, o.success, o.unexpected_count, o.sample)
        for o in outcome.outcomes
    ]


def test_the_quality_worker_finds_what_this_process_finds(tmp_path):
    """The command line's worker process (GX imported there while Dagster starts here) gives
    the same outcomes, messages and Data Docs as a validation in this process, and a worker
    that dies leaves the validation to this process."""
    from ops_pipeline.quality import build_data_docs, start_worker, validate, worker
    from ops_pipeline.quality.suites.marts import SURVEY_RESPONSE_SUITE as suite

    worker.stop()  # one an in-process refresh of an earlier test started
    here = validate(_survey_response_with_two_problems(), suite, tmp_path / "here")
    assert start_worker(tmp_path / "there", 0, always=True)
    try:
        assert worker.running()
        there = validate(_survey_response_with_two_problems(), suite, tmp_path / "there")
        rendering = build_data_docs(tmp_path / "there")
        # Asked while the render's answer is still due: each answer reaches its own waiter.
        again = validate(_survey_response_with_two_problems(), suite, tmp_path / "there")
        index = rendering()
        # A worker that dies is replaced by this process for the rest of the run.
        worker._process.kill()
        worker._process.join()
        after = validate(_survey_response_with_two_problems(), suite, tmp_path / "after")
        assert not worker.running()
    finally:
        worker.stop()
    assert _findings(after) == _findings(here)
    assert _findings(there) == _findings(here) == _findings(again) and len(there.failed) == 2
    assert [o.describe("marts/survey_response") for o in there.failed] == [
        o.describe("marts/survey_response") for o in here.failed
    ]
    # Pages written by the worker, in the folder asked for; the index once rendered.
    assert there.docs_pages and all(
        Path(p).is_relative_to(tmp_path / "there") for p in there.docs_pages
    )
    assert all(Path(p).is_file() for p in there.docs_pages)
    assert index == tmp_path / "there" / "index.html" and index.is_file()


def test_no_quality_worker_once_gx_is_imported_here(tmp_path):
    import great_expectations  # noqa: F401

    from ops_pipeline.quality import start_worker, worker

    worker.stop()
    assert start_worker(tmp_path / "docs", 0) is False
    assert not worker.running()
