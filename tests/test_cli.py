"""``ops-pipeline`` end to end, as a user runs it: sample lake (the session's, conftest.py) →
published figures, bad input → one clear line and an unchanged warehouse, and the code location
validates."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest
from lakes import write_idebank_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(sample_lake):
    lake, _, _ = sample_lake
    con = duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def one(con, sql: str, *params):
    return con.execute(sql, list(params)).fetchall()[0]


# One test per row of published-figures.md.
def test_98_ceos_asked(published):
    assert one(published, "SELECT invited FROM marts.survey_response WHERE survey_year = 2022") == (
        98,
    )


def test_81_answered_part_83_pct(published):
    responded, rate = one(
        published,
        "SELECT responded, response_rate FROM marts.survey_response WHERE survey_year = 2022",
    )
    assert responded == 81 and round(rate, 2) == 0.83


def test_66_answered_all_67_pct(published):
    completed, rate = one(
        published,
        "SELECT completed, completion_rate FROM marts.survey_response WHERE survey_year = 2022",
    )
    assert completed == 66 and round(rate, 2) == 0.67


def potential(con, variable):
    return one(
        con,
        "SELECT share_positive, rank FROM marts.survey_potential "
        "WHERE survey_year = 2022 AND variable = ?",
        variable,
    )


def test_nine_of_ten_see_room_to_optimise(published):
    share, _ = potential(published, "s_1")
    assert 0.88 <= share <= 0.92


def test_97_pct_see_potential_in_digitalisation(published):
    share, rank = potential(published, "s_2_1")
    assert round(share, 2) == 0.97 and rank == 1


@pytest.mark.parametrize("variable", ["s_2_2", "s_2_3", "s_2_4"])
def test_most_see_some_potential(sample_lake, published, variable, tmp_path):
    share, _ = potential(published, variable)
    assert share > 0.5
    # "I nogen grad" is the most chosen answer: individual answers are not published, so this
    # is read from the working database of the same run.
    lake, _, _ = sample_lake
    work = duckdb.connect(str(lake / "work" / "working.duckdb"), read_only=True)
    counts = work.execute(
        """SELECT a.answer, count(*) AS n FROM staged.survey_answers a
           JOIN staged.survey_respondents r USING (survey_year, respondent)
           WHERE a.survey_year = 2022 AND a.variable = ? AND r.status IN (3, 4)
           GROUP BY a.answer ORDER BY n DESC""",
        [variable],
    ).fetchall()
    work.close()
    assert counts[0][0] == "3" and counts[0][1] > counts[1][1]


def test_more_than_400_unique_qualifying_proposals(published):
    (qualifying,) = one(
        published,
        "SELECT qualifying_proposals FROM marts.idebank_overview WHERE budget_year = 2021",
    )
    assert qualifying > 400


def ranking(con) -> dict[str, tuple[int, float]]:
    return {
        name: (rank, per_inhabitant)
        for name, rank, per_inhabitant in con.execute(
            "SELECT municipality, rank, savings_per_inhabitant FROM marts.municipal_savings "
            "WHERE budget_year = 2021"
        ).fetchall()
    }


def test_frederikssund_just_under_600_kr(published):
    rank, per_inhabitant = ranking(published)["Frederikssund"]
    assert rank == 1 and 570 <= per_inhabitant < 600


def test_furesoe_hoersholm_billund_among_the_largest(published):
    ranks = ranking(published)
    assert all(2 <= ranks[name][0] <= 10 for name in ("Furesø", "Hørsholm", "Billund"))


def test_more_than_2_1_bn_if_all_matched_the_top_10(published):
    (value,) = one(
        published,
        "SELECT potential_dkk FROM marts.savings_potential "
        "WHERE budget_year = 2021 AND method = 'gap' AND top_n = 10",
    )
    assert 2.1e9 < value < 2.2e9


def test_run_prints_a_summary(sample_lake):
    _, _, stdout = sample_lake
    assert "Survey 2022: 98 invited, 81 responded (83%), 66 completed." in stdout
    assert "Idébank 2021:" in stdout and "top: Frederikssund" in stdout


def test_bad_input_fails_clearly_and_leaves_the_warehouse_unchanged(lake, cli):
    published = (lake / "warehouse.duckdb").read_bytes()
    landing = sorted(p.read_bytes() for p in (lake / "landing").rglob("*") if p.is_file())

    bad = [
        "Q1",
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
        "1,2,3",
        "Ja",
        "Nej",
    ]
    write_idebank_csv(lake / "landing" / "idebank" / "2021" / "late.csv", 2021, [bad])
    done = cli("run", "--lake", str(lake))
    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert first == (
        "ops-pipeline: landing/idebank/2021/late.csv, row 2, column 'Effekt 2024': "
        "value '1,2,3' is not a Danish number such as -1.250,5"
    )
    assert (lake / "warehouse.duckdb").read_bytes() == published
    (lake / "landing" / "idebank" / "2021" / "late.csv").unlink()
    assert (
        sorted(p.read_bytes() for p in (lake / "landing").rglob("*") if p.is_file()) == landing
    )  # landing files are never modified


def test_run_on_an_empty_landing_zone_says_what_to_do(tmp_path, cli):
    done = cli("run", "--lake", str(tmp_path))
    assert done.returncode == 2
    assert "ops-pipeline sample" in done.stderr


def test_definitions_validate(dagster_home, tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "OPS_DATA_LAKE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert done.returncode == 0, done.stdout + done.stderr
