"""Issue 5: the marts in open formats (``<lake>/exports/<mart>.parquet`` and ``.csv``) and read
by real clients: SQLAlchemy with ``duckdb_engine`` (as Superset and Metabase-style tools connect),
a separate read-only DuckDB process, and pyarrow. Every path compares with the warehouse."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from lakes import small_lake, write_idebank_csv
from publications import assert_published_pair, mart_names, run_in_process
from sessions import built_once, new_dagster_home

pytestmark = pytest.mark.slow

# Proposals whose text cells look like formulas to a spreadsheet (CSV injection), and cells that
# must stay as they are: a net cost (a negative saving) and a text that is just a number.
FORMULAS = [
    ["P10", "751", "Aarhus", "2021", '=HYPERLINK("http://x.invalid";"Klik")', "", "+Kultur",
     "@SUM(1+1)", "0", "0", "-10", "-20", "Ja", "Nej"],
    ["P11", "751", "Aarhus", "2021", "-2+3+cmd|' /C calc'!A0", "", "Social", "Organisering",
     "0", "0", "10", "50", "Ja", "Nej"],
    ["P12", "751", "Aarhus", "2021", "-5", "", "Social", "Organisering", "0", "0", "0", "-1",
     "Ja", "Nej"],
]  # fmt: skip
# The rule once more, written without exports.py's regular expressions: a text a spreadsheet
# would evaluate starts with one of these and is not just a signed number.
FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")


def is_plain_number(text: str) -> bool:
    """'-5', '+1,5', '2.25': digits, an optional sign, at most one decimal mark inside."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    for mark in (".", ","):
        whole, found, fraction = digits.partition(mark)
        if found:
            return whole.isascii() and whole.isdigit() and fraction.isascii() and fraction.isdigit()
    return digits.isascii() and digits.isdigit()


def test_the_oracle_of_plain_numbers():
    assert all(map(is_plain_number, ["-5", "+1,5", "2.25", "0", "12"]))
    assert not any(map(is_plain_number, ["-", "1.", ".5", "1.2.3", "-2+3", "1,2,3", "١٢", ""]))


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    """The small lake with formula-like proposals, refreshed once for the session's workers."""

    def build(folder: Path) -> None:
        lake = small_lake(folder / "lake")
        write_idebank_csv(lake / "landing/idebank/2021/formulas.csv", 2021, FORMULAS)
        home = new_dagster_home(folder / "dagster_home")
        assert run_in_process(home, "run", "--lake", str(lake)) == 0

    return built_once(tmp_path_factory, "exports", build) / "lake"


@pytest.fixture(scope="module")
def marts(lake) -> list[str]:
    return mart_names(lake / "warehouse.duckdb")


def rows_of(lake: Path, mart: str) -> tuple[list[str], list[str], list[tuple]]:
    """Column names, DuckDB types and rows of a published mart."""
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        relation = con.sql(f'SELECT * FROM marts."{mart}"')
        return relation.columns, [str(t) for t in relation.types], relation.fetchall()


def test_one_parquet_and_one_csv_per_mart(lake, marts):
    assert len(marts) >= 7
    assert_published_pair(lake)  # exactly <mart>.parquet and <mart>.csv for each, same rows


def test_parquet_schema_is_the_tables(lake, marts):
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        for mart in marts:
            path = lake / "exports" / f"{mart}.parquet"
            parquet = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
            assert parquet == con.execute(f'DESCRIBE marts."{mart}"').fetchall(), mart
            table = con.sql(f'SELECT * FROM marts."{mart}"').to_arrow_table()
            assert pq.read_schema(path).equals(table.schema), mart
            assert pq.read_table(path).equals(table), mart


def spreadsheet_cell(value, duckdb_type: str) -> str:
    """What the CSV export must hold for a value: the rules, written out once more in Python."""
    if value is None:
        return ""
    if duckdb_type in ("DOUBLE", "FLOAT") or duckdb_type.startswith("DECIMAL"):
        # DuckDB and Python both write the shortest text that reads back as the same double.
        return repr(float(value)).replace(".", ",")
    if duckdb_type == "BOOLEAN":
        return "true" if value else "false"
    text = ", ".join(value) if duckdb_type == "VARCHAR[]" else str(value)
    formula = text.startswith(FORMULA_CHARACTERS) and not is_plain_number(text)
    return "'" + text if duckdb_type.startswith("VARCHAR") and formula else text


def read_export_csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads æ, ø, å right
    text = data[3:].decode("utf-8")
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_csv_opens_in_a_danish_spreadsheet(lake, marts):
    for mart in marts:
        columns, types, rows = rows_of(lake, mart)
        header, *cells = read_export_csv(lake / "exports" / f"{mart}.csv")
        assert header == columns
        expected = [
            [spreadsheet_cell(v, t) for v, t in zip(row, types, strict=True)] for row in rows
        ]
        assert sorted(cells) == sorted(expected), mart
        for row in cells:
            for cell, duckdb_type in zip(row, types, strict=True):
                if duckdb_type == "DOUBLE" and cell:
                    assert "." not in cell  # a decimal comma, no thousands separator


def test_formula_cells_are_neutralised_and_numbers_untouched(lake):
    _, *rows = read_export_csv(lake / "exports" / "proposals.csv")
    by_id = {row[1]: row for row in rows}
    title, measure, areas, saving = 3, 4, 5, 6
    assert by_id["P10"][title] == '\'=HYPERLINK("http://x.invalid";"Klik")'
    assert by_id["P10"][measure] == "'@SUM(1+1)"
    assert by_id["P10"][areas] == "'+Kultur"
    assert by_id["P11"][title] == "'-2+3+cmd|' /C calc'!A0"
    assert by_id["P11"][saving] == "-50000,0"  # a net cost: a negative number, left a number
    assert by_id["P12"][title] == "-5"  # a text that is only a number cannot be a formula
    # The raw text is kept where no spreadsheet evaluates it: the warehouse and Parquet.
    parquet = {
        r["id"]: r for r in pq.read_table(lake / "exports" / "proposals.parquet").to_pylist()
    }
    assert parquet["P10"]["title"] == FORMULAS[0][4]
    assert parquet["P10"]["policy_areas"] == ["+Kultur"]


# A separate process reading the marts read-only, as a BI tool beside the pipeline does.
DUCKDB_READER = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps({m: con.execute(f'SELECT * FROM marts."{m}"').fetchall() for m in sys.argv[2:]}))
"""


def normalised(rows) -> list[str]:
    """Rows as sorted JSON text, so values from every client compare exactly."""
    return sorted(json.dumps(list(row), ensure_ascii=False) for row in rows)


def test_real_clients_read_what_the_warehouse_holds(lake, marts):
    warehouse = lake / "warehouse.duckdb"
    expected = {mart: normalised(rows_of(lake, mart)[2]) for mart in marts}

    # SQLAlchemy + duckdb_engine, read-only, as Superset or Metabase-style tools connect.
    engine = sa.create_engine(f"duckdb:///{warehouse}", connect_args={"read_only": True})
    try:
        assert sorted(sa.inspect(engine).get_table_names(schema="marts")) == marts
        with engine.connect() as connection:
            for mart in marts:
                rows = connection.execute(sa.text(f'SELECT * FROM marts."{mart}"')).fetchall()
                assert normalised(rows) == expected[mart], mart
    finally:
        engine.dispose()

    # A separate read-only DuckDB process.
    done = subprocess.run(
        [sys.executable, "-c", DUCKDB_READER, str(warehouse), *marts],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    for mart, rows in json.loads(done.stdout).items():
        assert normalised(rows) == expected[mart], mart

    # The Parquet exports through pyarrow.
    for mart in marts:
        table = pq.read_table(lake / "exports" / f"{mart}.parquet")
        rows = zip(*(column.to_pylist() for column in table.columns), strict=True)
        assert normalised(rows) == expected[mart], mart
