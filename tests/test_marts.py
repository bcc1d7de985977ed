"""Every mart of the small hand-written lake (tests/lakes.py), row by row, computed by hand.

Population 2021K1: København (101) 100,000, Frederiksberg (147) 50,000, Frederikssund (250)
20,000, the other 95 municipalities 10,000 each: 1,120,000 in the 98 municipalities.
"""

from __future__ import annotations

import duckdb
import pytest
from lakes import CEO_QUESTION, MATRIX_QUESTION

from ops_pipeline.contracts import mart_contracts

POPULATION_98 = 1_120_000


@pytest.fixture(scope="module")
def warehouse(published_lake):
    """The published warehouse of the small lake (the session's, read-only)."""
    con = duckdb.connect(str(published_lake / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_survey_response(warehouse):
    # R1, R2 completed; R3 some answers; R4 dropped out; R5 distributed; R6 new.
    assert rows(warehouse, "SELECT * FROM marts.survey_response") == [(2022, 6, 3, 2, 3 / 6, 2 / 6)]


def test_survey_potential(warehouse):
    # Answers of respondents who responded (R1, R2, R3); R4 dropped out and does not count.
    # s_1: 1, 3, 5 → answered 3, positive 2, high 1.  s_2_1: 2, 1, blank → 2, 2, 2.
    # s_2_2: 6 (Ved ikke), 4, 3 → 3, 1, 0.  s_9 (Ja/Nej) and b_1 (no labels) are not on the scale.
    assert rows(warehouse, "SELECT * FROM marts.survey_potential ORDER BY rank") == [
        (
            2022,
            "s_2_1",
            MATRIX_QUESTION,
            "Øget brug af digitalisering og ny teknologi",
            2,
            2,
            1.0,
            2,
            1.0,
            1,
        ),
        (2022, "s_1", CEO_QUESTION, None, 3, 2, 2 / 3, 1, 1 / 3, 2),
        (2022, "s_2_2", MATRIX_QUESTION, "Afbureaukratisering", 3, 1, 1 / 3, 0, 0.0, 3),
    ]


def test_municipal_savings(warehouse):
    top = rows(
        warehouse,
        "SELECT * FROM marts.municipal_savings WHERE proposals > 0 "
        "ORDER BY rank, municipality_code",
    )
    assert top == [
        # P3 1,550,000 + P4 net cost −50,000 = 1,500,000 / 100,000 = 15.0, tied with 250.
        (2021, 101, "København", "Region Hovedstaden", 100_000, 2, 1_500_000.0, 15.0, 1),
        # P1 200,000 (two fagområder, counted once) + P2 100,000 (in both extracts, once).
        (2021, 250, "Frederikssund", "Region Hovedstaden", 20_000, 2, 300_000.0, 15.0, 1),
        # P7 250,500 (−250,5 thousand); P5 (service reduction) and P6 (not relevant) excluded.
        (2021, 147, "Frederiksberg", "Region Hovedstaden", 50_000, 1, 250_500.0, 5.01, 3),
        (2021, 751, "Aarhus", "Region Midtjylland", 10_000, 1, 10_000.0, 1.0, 4),
    ]
    rest = rows(
        warehouse,
        "SELECT count(*), min(rank), max(rank), sum(population), sum(savings_dkk) "
        "FROM marts.municipal_savings WHERE proposals = 0",
    )
    assert rest == [(94, 5, 5, 940_000, 0.0)]


def test_savings_potential(warehouse):
    # Ordered by savings per inhabitant desc, code asc: 101 (15), 250 (15), 147 (5.01),
    # 751 (1.0), then zeros: the sum of the top n is always 36.01.
    expected = {
        # top 5: benchmark 7.202; gaps: 147 2.192 × 50,000, 751 6.202 × 10,000,
        # 94 zeros 7.202 × 10,000 each.
        ("gap", 5): (7.202, 109_600 + 62_020 + 94 * 72_020),
        ("level", 5): (7.202, 7.202 * POPULATION_98),
        # top 10: benchmark 3.601; 147 is above it; 751 2.601 × 10,000; zeros 36,010 each.
        ("gap", 10): (3.601, 26_010 + 94 * 36_010),
        ("level", 10): (3.601, 3.601 * POPULATION_98),
        ("gap", 15): (36.01 / 15, 10_000 * (36.01 / 15 - 1) + 94 * 10_000 * 36.01 / 15),
        ("level", 15): (36.01 / 15, 36.01 / 15 * POPULATION_98),
        ("gap", 20): (1.8005, 8_005 + 94 * 18_005),
        ("level", 20): (1.8005, 1.8005 * POPULATION_98),
    }
    got = {
        (method, top_n): (benchmark, potential)
        for year, method, top_n, benchmark, potential in rows(
            warehouse, "SELECT * FROM marts.savings_potential WHERE method IN ('gap', 'level')"
        )
    }
    assert got.keys() == expected.keys()
    for key, (benchmark, potential) in expected.items():
        assert got[key] == (
            pytest.approx(benchmark, rel=1e-12),
            pytest.approx(potential, rel=1e-12),
        )


def test_savings_by_measure(warehouse):
    total = 2_060_500
    assert rows(warehouse, "SELECT * FROM marts.savings_by_measure ORDER BY measure_type") == [
        (2021, "Digitalisering og teknologi", 2, 210_000.0, pytest.approx(210_000 / total)),
        (2021, "Energi og bygninger", 1, -50_000.0, pytest.approx(-50_000 / total)),
        (2021, "Indkøb og udbud", 1, 1_550_000.0, pytest.approx(1_550_000 / total)),
        (2021, "Organisering", 1, 250_500.0, pytest.approx(250_500 / total)),
        (2021, "Sygefravær", 1, 100_000.0, pytest.approx(100_000 / total)),
    ]


def test_idebank_overview(warehouse):
    # P1–P8 distinct; P5, P6 do not qualify; qualifying in 101, 147, 250, 751.
    assert rows(warehouse, "SELECT * FROM marts.idebank_overview") == [(2021, 8, 6, 4, 2_060_500.0)]


def test_proposals(warehouse):
    got = rows(
        warehouse,
        "SELECT id, municipality_code, policy_areas, saving_dkk, qualifying "
        "FROM marts.proposals ORDER BY id",
    )
    assert got == [
        ("P1", 250, ["Administration", "Ældre"], 200_000.0, True),
        ("P2", 250, ["Social"], 100_000.0, True),
        ("P3", 101, ["Teknik og miljø"], 1_550_000.0, True),
        ("P4", 101, ["Teknik og miljø"], -50_000.0, True),
        ("P5", 147, ["Kultur og fritid"], 500_000.0, False),
        ("P6", 147, ["Administration"], 100_000.0, False),
        ("P7", 147, ["Administration"], 250_500.0, True),
        ("P8", 751, ["Ældre"], 10_000.0, True),
    ]


def test_no_individual_answers_published(warehouse):
    schemas = {s for (s,) in rows(warehouse, "SELECT DISTINCT schema_name FROM duckdb_tables()")}
    assert "staged" not in schemas
    assert schemas <= {"marts", "audit"}


# marts.md (the package's copy): the contract BI tools rely on: names, types, descriptions.
CONTRACTS = mart_contracts()
# In the contract (version 2), built by the multi-year issue: not published yet.
NOT_YET_BUILT = {"municipal_savings_window", "savings_potential_window"}
COLUMNS_NOT_YET_BUILT = {("municipal_savings", "population_quarter")}
SCALE = ["I meget høj grad", "I høj grad", "I nogen grad", "I mindre grad", "Slet ikke", "Ved ikke"]


def test_survey_answer_counts(warehouse):
    # The answers of R1, R2, R3 (test_survey_potential), per code 1–6, zeros included.
    counts = {
        "s_1": (1, 0, 1, 0, 1, 0),
        "s_2_1": (1, 1, 0, 0, 0, 0),
        "s_2_2": (0, 0, 1, 1, 0, 1),
    }
    assert rows(warehouse, "SELECT * FROM marts.survey_answer_counts ORDER BY ALL") == [
        (2022, variable, code, SCALE[code - 1], counts[variable][code - 1])
        for variable in sorted(counts)
        for code in range(1, 7)
    ]


def published_marts(con) -> set[str]:
    return {
        name
        for (name,) in rows(
            con, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
        )
    }


def test_every_mart_of_the_contract_is_published(warehouse):
    assert published_marts(warehouse) == set(CONTRACTS) - NOT_YET_BUILT


@pytest.mark.parametrize("mart", sorted(set(CONTRACTS) - NOT_YET_BUILT))
def test_mart_columns_match_the_contract(warehouse, mart):
    """Every column of the contract with its type (order is not the contract), no other column,
    and the contract's meaning as each column's and the table's DuckDB comment."""
    published = {
        name: (data_type, comment)
        for name, data_type, comment in rows(
            warehouse,
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            f"WHERE schema_name = 'marts' AND table_name = '{mart}'",
        )
    }
    contract = {
        c.name: (c.type, c.meaning)
        for c in CONTRACTS[mart].columns
        if (mart, c.name) not in COLUMNS_NOT_YET_BUILT
    }
    assert published == contract
    (comment,) = warehouse.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = ?",
        [mart],
    ).fetchone()
    assert comment == CONTRACTS[mart].description and comment.startswith("Key: ")


def test_the_ui_shows_the_contract_descriptions(warehouse):
    """The column schemas of the marts' asset definitions carry the same texts as the
    published file's comments."""
    from ops_pipeline.definitions import defs

    specs = {tuple(spec.key.path): spec for spec in defs.resolve_all_asset_specs()}
    for mart in published_marts(warehouse):
        schema = specs["marts", mart].metadata["dagster/column_schema"]
        shown = {c.name: c.description for c in schema.columns}
        comments = dict(
            rows(
                warehouse,
                "SELECT column_name, comment FROM duckdb_columns() "
                f"WHERE schema_name = 'marts' AND table_name = '{mart}'",
            )
        )
        assert shown == comments, mart
