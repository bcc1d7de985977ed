"""Behaviours at the edges, as plain functions and in-process commands (milliseconds each): rows
of one proposal that disagree, a missing population, an ambiguous restore, a lock that stays
held past --wait, and ``sample --if-empty`` (the README's first command)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from lakes import SMALL_POPULATION, small_lake, write_folk1a, write_idebank_csv

from ops_pipeline import history, runlock
from ops_pipeline.lake import Lake
from ops_pipeline.landing import gate
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.schemas import ddl
from ops_pipeline.staging.idebank import require_population, stage_proposals
from ops_pipeline.staging.survey import stage_survey

ROW = dict(
    budget_year=2021,
    source_file="landing/idebank/2021/a.csv",
    source_row=2,
    id="P1",
    municipality_code=101,
    municipality_name="København",
    stated_budget_year=2021,
    title="Robotter",
    description="",
    policy_area="Ældre",
    measure_type="Digitalisering og teknologi",
    effect_year_1=0.0,
    effect_year_2=-10.0,
    effect_year_3=-20.0,
    effect_year_4=-40.0,
    relevant=True,
    service_reduction=False,
)


def idebank_rows(*rows: dict) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staged")
    con.execute(f"CREATE TABLE staged.idebank_rows {ddl('staged.idebank_rows')}")
    for row in rows:
        con.execute(
            f"INSERT INTO staged.idebank_rows VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    return con


def test_rows_of_one_proposal_may_differ_only_in_policy_area():
    con = idebank_rows(ROW, {**ROW, "source_row": 3, "policy_area": "Sundhed"})
    stage_proposals(con)
    # One proposal of both rows: its areas, its saving (-40 thousand kr. → 40,000 kr.), its rows.
    assert con.execute(
        "SELECT id, policy_areas, saving_dkk, qualifying, source_row, source_rows "
        "FROM staged.proposals"
    ).fetchall() == [("P1", ["Sundhed", "Ældre"], 40000.0, True, 2, 2)]


def test_rows_of_one_proposal_that_disagree_name_both_rows():
    other = {**ROW, "source_file": "landing/idebank/2021/b.csv", "source_row": 7}
    con = idebank_rows(ROW, {**other, "title": "Robotter i hjemmeplejen"})
    with pytest.raises(LandingError) as raised:
        stage_proposals(con)
    assert str(raised.value) == (
        "landing/idebank/2021/b.csv, row 7, column 'title': proposal 'P1' disagrees with "
        "landing/idebank/2021/a.csv row 2 in title ('Robotter i hjemmeplejen' vs 'Robotter'): "
        "rows of one ID may differ only in Fagområde"
    )


def population_lake(populated: list[int]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staged; CREATE SCHEMA reference")
    con.execute(
        "CREATE TABLE reference.municipalities AS SELECT * FROM (VALUES "
        "(101, 'København'), (147, 'Frederiksberg'), (751, 'Aarhus')) t(municipality_code, "
        "municipality)"
    )
    con.execute("CREATE TABLE staged.proposals AS SELECT 2021 AS budget_year")
    con.execute(
        "CREATE TABLE staged.population (municipality_code INTEGER, area_kind VARCHAR, "
        "quarter VARCHAR, population INTEGER)"
    )
    for code in populated:
        con.execute(
            "INSERT INTO staged.population VALUES (?, 'municipality', '2021K1', 1000)", [code]
        )
    return con


def test_a_budget_year_without_population_names_what_is_missing(tmp_path):
    lake = Lake(tmp_path)
    require_population(population_lake([101, 147, 751]), lake)  # complete: no error
    with pytest.raises(LandingError) as raised:
        require_population(population_lake([147]), lake)
    assert str(raised.value) == (
        "landing/population: budget year 2021 has Idébank data but no population for "
        "København, Aarhus in quarter 2021K1 (per-inhabitant figures use the population of "
        "1 January)"
    )


def fake_publication(lake: Path, sequence: int, run_id: str) -> None:
    folder = lake / "history" / f"{sequence:06d}-{run_id}"
    folder.mkdir(parents=True)
    manifest = {"run_id": run_id, "published_at": "2026-12-01T06:00:00+00:00", "counts": {}}
    (folder / "publication.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_restore_prefix_of_several_runs_is_refused_by_name(tmp_path):
    fake_publication(tmp_path, 1, "abc123-first")
    fake_publication(tmp_path, 2, "abc999-second")
    fake_publication(tmp_path, 3, "abc123-first")  # a restore: the same run again
    lake = Lake(tmp_path)
    with pytest.raises(history.HistoryError) as refused:
        history.find_publication(lake, "abc")
    assert str(refused.value) == "'abc' matches several runs: abc123-first, abc999-second"
    # One run published twice is not ambiguous: its newest publication.
    assert history.find_publication(lake, "abc1").id == "000003-abc123-first"


HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ops_pipeline.lake import Lake
    from ops_pipeline.runlock import run_lock
    with run_lock(Lake(Path(sys.argv[1]))):
        print("held", flush=True)
        sys.stdin.readline()
    """
)


def test_a_lock_held_past_wait_fails_saying_how_long_it_waited(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(runlock.RunLockBusy) as busy, runlock.run_lock(Lake(tmp_path), 0.3):
            pass
        assert f"another ops-pipeline run holds {tmp_path / '.run.lock'} (pid {holder.pid}" in str(
            busy.value
        )
        assert "(waited 0.3 s); the published warehouse is unchanged" in str(busy.value)
    finally:
        holder.communicate("done\n", timeout=60)
    with runlock.run_lock(Lake(tmp_path), 0.3):  # released with its process
        pass


def test_sample_if_empty_writes_an_empty_lake_once(tmp_path, run):
    lake = tmp_path / "lake"
    code, out, err = run(lake, "--if-empty", command="sample")
    assert code == 0, err
    written = {p: p.read_bytes() for p in sorted((lake / "landing").rglob("*")) if p.is_file()}
    assert len(written) >= 5
    (lake / "landing" / "idebank" / "2021" / "extract.csv").write_bytes(b"edited by hand")
    code, out, err = run(lake, "--if-empty", command="sample")
    assert (code, err) == (0, "")
    assert out == f"Landing zone {lake / 'landing'} already has files: left as it is.\n"
    assert (lake / "landing" / "idebank" / "2021" / "extract.csv").read_bytes() == b"edited by hand"
    # Without --if-empty an existing landing zone is refused, never overwritten.
    code, _, err = run(lake, command="sample")
    assert code == 1 and err.startswith("ops-pipeline: ")


def test_folk1a_files_that_disagree_are_refused_naming_both(tmp_path, run):
    lake = small_lake(tmp_path / "lake")
    # A second export of 2021K1 in which København has one inhabitant more (and so the country:
    # the first conflict in the files' order is named).
    write_folk1a(
        lake / "landing" / "population" / "later.csv",
        {"2021K1": {**SMALL_POPULATION["2021K1"], 101: 100_001}},
    )
    code, out, err = run(lake, command="check")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (
        "ops-pipeline: landing/population/later.csv, row 2, column 'INDHOLD': Hele landet "
        "2021K1 is 1120091, but landing/population/folk1a.csv row 2 says 1120090"
    )


def test_years_that_are_not_a_span_are_refused(tmp_path, run, monkeypatch, dagster_home):
    # An instance of its own: the years partitions are the instance's, shared by its lakes.
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(dagster_home / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    lake = small_lake(tmp_path / "lake")
    write_idebank_csv(lake / "landing" / "idebank" / "2023" / "extract.csv", 2023, [])
    code, out, err = run(lake, "--year", "2021", "--year", "2023")
    assert (code, out) == (2, "")
    assert err == "ops-pipeline: years 2021, 2023 are not a span of 2021, 2022, 2023\n"


DATASET = Path("landing/survey/2022/dataset.csv")


def _edit_dataset(lake: Path, old: str, new: str) -> None:
    path = lake / DATASET
    text = path.read_bytes().decode("cp1252")
    assert old in text
    path.write_bytes(text.replace(old, new, 1).encode("cp1252"))


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            "R2;147;3;1;4;2;;0;0;0;1;0",
            "R2;147;3;1;4;2;;0;0;0;2;0",
            "row 3, column 'statoverall (stato_1, stato_2, stato_3, stato_4, stato_5)': value "
            "'2' is not a status flag (0 or 1)",
        ),
        (
            "R2;147;3;1;4;2;;0;0;0;1;0",
            "R2;147;3;1;4;2;;0;0;1;1;0",
            "row 3, column 'statoverall (stato_1, stato_2, stato_3, stato_4, stato_5)': value "
            "'0 0 1 1 0' must set exactly one status flag (one status per respondent)",
        ),
        (
            "R3;250;",
            ";250;",
            "row 4, column 'respondentid': the cell is blank: each respondent needs its key",
        ),
        (
            "R3;250;",
            "R1;250;",
            "row 4, column 'respondentid': respondent key 'R1' repeats "
            "(landing/survey/2022/dataset.csv row 2, landing/survey/2022/dataset.csv row 4)",
        ),
        (
            "R2;147;",
            "R2;147.5;",
            "row 3, column 'kommunekode': value '147.5' is not a municipality code",
        ),
    ],
    ids=["flag not 0 or 1", "two flags", "blank key", "repeated key", "municipality code"],
)
def test_respondent_status_and_key_errors_name_row_and_column(tmp_path, old, new, line):
    lake = Lake(small_lake(tmp_path / "lake"))
    _edit_dataset(lake.root, old, new)
    inventory, _ = gate(lake)
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA staged")
        with pytest.raises(LandingError) as refused:
            stage_survey(con, lake, inventory, [2022])
    assert str(refused.value) == f"{DATASET}, {line}"


def test_a_survey_folder_with_both_forms_is_refused(tmp_path, run):
    lake = small_lake(tmp_path / "lake")
    (lake / "landing/survey/2022/export.xlsx").write_bytes(b"PK")
    code, out, err = run(lake, command="check")
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == (
        "ops-pipeline: landing/survey/2022: holds both an xlsx export and CSV files: keep one form"
    )
