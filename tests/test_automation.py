"""Yearly partitions, the annual schedule and the landing-zone sensor (issue 4), with Dagster's
own test helpers on a lake of two survey years and two budget years."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest
from lakes import SMALL_IDEBANK, small_survey, write_folk1a, write_idebank_csv

from ops_pipeline.cli import failure_message
from ops_pipeline.definitions import SCHEDULE, SENSOR
from ops_pipeline.defs.automation import ANNUAL_CRON, TIME_ZONE
from ops_pipeline.defs.resources import LakeResource
from ops_pipeline.lake import Lake
from ops_pipeline.landing import scan
from ops_pipeline.refresh import refresh

POPULATION = {"2021K1": {101: 100_000, 250: 20_000}, "2022K1": {101: 101_000, 250: 21_000}}


def idebank(year: int, scale: int = 1) -> list[list[str]]:
    """The small lake's proposals, for another budget year (and optionally scaled)."""
    rows = []
    for row in SMALL_IDEBANK:
        row = list(row)
        row[3] = str(year)
        row[11] = str(int(float(row[11].replace(".", "").replace(",", "."))) * scale)
        rows.append(row)
    return rows


def two_year_lake(root):
    landing = root / "landing"
    write_folk1a(landing / "population" / "folk1a.csv", POPULATION)
    small_survey(landing / "survey" / "2022")
    small_survey(landing / "survey" / "2023", flavour="tab-utf16")
    write_idebank_csv(landing / "idebank" / "2021" / "extract.csv", 2021, idebank(2021))
    write_idebank_csv(landing / "idebank" / "2022" / "extract.csv", 2022, idebank(2022))
    return Lake(root)


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


@pytest.fixture
def in_memory():
    """An instance in memory: partitions and materialisations as a stored one keeps them, at a
    seventh of the cost per event, for the runs in this process (schedule and sensor contexts
    need a stored one; test_cli and test_publish_safety run on stored instances)."""
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def marts(lake: Lake, year_column: str, year: int) -> dict[str, list[tuple]]:
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        return {
            table: con.execute(
                f"SELECT * FROM marts.{table} WHERE {year_column} = ? ORDER BY ALL", [year]
            ).fetchall()
            for (table,) in con.execute(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'marts' "
                "AND column_name = ?",
                [year_column],
            ).fetchall()
        }


@pytest.mark.slow
def test_each_partition_once_rerun_removed_and_late_years_touch_no_other(tmp_path, in_memory):
    instance = in_memory
    lake = two_year_lake(tmp_path / "lake")
    result = refresh(lake, instance)
    assert result.success, failure_message(result)
    assert instance.get_dynamic_partitions("years") == ["2021", "2022", "2023"]
    for key in (
        ["staged", "proposals"],
        ["marts", "municipal_savings"],
        ["marts", "survey_response"],
    ):
        events = instance.fetch_materializations(dg.AssetKey(key), limit=100).records
        partitions = sorted(e.partition_key for e in events)
        assert partitions == ["2021", "2022", "2023"], key  # each partition exactly once
    published = instance.fetch_materializations(dg.AssetKey(["published", "warehouse"]), limit=10)
    assert len(published.records) == 1  # one publish, after every year was complete
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        assert con.execute("SELECT survey_year FROM marts.survey_response").fetchall() == [
            (2022,),
            (2023,),
        ]
        assert con.execute("SELECT budget_year FROM marts.idebank_overview").fetchall() == [
            (2021,),
            (2022,),
        ]

    before_2022 = marts(lake, "budget_year", 2022)
    before_2021 = marts(lake, "budget_year", 2021)
    # A corrected 2021 extract: every saving doubled. Rerun 2021 only.
    write_idebank_csv(lake.landing / "idebank" / "2021" / "extract.csv", 2021, idebank(2021, 2))
    rerun = refresh(lake, instance, years=["2021"])
    assert rerun.success, failure_message(rerun)
    assert marts(lake, "budget_year", 2022) == before_2022
    after_2021 = marts(lake, "budget_year", 2021)
    assert after_2021 != before_2021
    (overview,) = after_2021["idebank_overview"]
    assert overview[-1] == 2 * before_2021["idebank_overview"][0][-1]

    # A year folder removed from the landing zone: its rows leave every mart on the next run.
    survey_2022 = marts(lake, "survey_year", 2022)
    for path in sorted((lake.landing / "survey" / "2023").iterdir()):
        path.unlink()
    (lake.landing / "survey" / "2023").rmdir()
    removed = refresh(lake, instance)
    assert removed.success, failure_message(removed)
    assert {t: rows for t, rows in marts(lake, "survey_year", 2023).items() if rows} == {}
    assert marts(lake, "survey_year", 2022) == survey_2022

    # An older budget year arriving late: registered in order, refreshed alone, the rest kept.
    write_folk1a(
        lake.landing / "population" / "folk1a.csv",
        {"2020K1": {101: 99_000, 250: 19_000}, **POPULATION},
    )
    write_idebank_csv(lake.landing / "idebank" / "2020" / "extract.csv", 2020, idebank(2020))
    late = refresh(lake, instance, years=["2020"])
    assert late.success, failure_message(late)
    assert instance.get_dynamic_partitions("years")[:3] == ["2020", "2021", "2022"]
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        assert con.execute(
            "SELECT budget_year FROM marts.idebank_overview ORDER BY 1"
        ).fetchall() == [(2020,), (2021,), (2022,)]
    assert marts(lake, "budget_year", 2021) == after_2021
    assert marts(lake, "budget_year", 2022) == before_2022


def sensor_context(instance, cursor, lake: Lake) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"lake": LakeResource(root=str(lake.root))}
    )


def evaluate(sensor_cursor, instance, lake: Lake):
    # As a context manager: a context left open keeps the instance in a context variable.
    with sensor_context(instance, sensor_cursor, lake) as context:
        result = SENSOR(context)
    return result, getattr(result, "cursor", None)


def test_sensor_requests_just_the_affected_years(tmp_path, instance, monkeypatch):
    lake = two_year_lake(tmp_path / "lake")
    # The lake comes from the resource, never from the environment.
    monkeypatch.setenv("OPS_DATA_LAKE", str(tmp_path / "elsewhere"))
    (lake.landing / ".DS_Store").write_bytes(b"ignored")
    (lake.landing / "idebank" / "2022" / "~$extract.xlsx").write_bytes(b"ignored")

    first, cursor = evaluate(None, instance, lake)
    # The sensor fingerprints exactly what the landing gate lets through.
    assert sorted(json.loads(cursor)) == [f.relative for f in scan(lake).files]
    assert sorted(r.partition_key for r in first.run_requests) == ["2021", "2022", "2023"]
    assert first.dynamic_partitions_requests[0].partition_keys == ["2021", "2022", "2023"]
    instance.add_dynamic_partitions("years", ["2021", "2022", "2023"])

    second, cursor = evaluate(cursor, instance, lake)
    assert second.run_requests == []  # nothing changed: nothing requested

    # A changed Idébank extract: its budget year only.
    write_idebank_csv(lake.landing / "idebank" / "2022" / "extract.csv", 2022, idebank(2022, 3))
    third, cursor = evaluate(cursor, instance, lake)
    assert [r.partition_key for r in third.run_requests] == ["2022"]

    # A revised file of a survey export: that survey year only.
    labels = next((lake.landing / "survey" / "2023").glob("labels.*"))
    labels.write_bytes(labels.read_bytes() + labels.read_bytes()[-2:])
    fourth, cursor = evaluate(cursor, instance, lake)
    assert [r.partition_key for r in fourth.run_requests] == ["2023"]

    # A file the gate refuses: the sensor names it, runs nothing and keeps its cursor.
    notes = lake.landing / "survey" / "2023" / "notes.txt"
    notes.write_text("revised export follows")
    refused, _ = evaluate(cursor, instance, lake)
    assert isinstance(refused, dg.SkipReason)
    assert "landing/survey/2023/notes.txt: is not part of a SurveyXact export" in (
        refused.skip_message
    )
    notes.unlink()
    assert evaluate(cursor, instance, lake)[0].run_requests == []

    # A population file whose 2021K1 changed: budget year 2021, not 2022.
    changed = {**POPULATION, "2021K1": {101: 100_500, 250: 20_000}}
    write_folk1a(lake.landing / "population" / "folk1a.csv", changed)
    fifth, cursor = evaluate(cursor, instance, lake)
    assert [r.partition_key for r in fifth.run_requests] == ["2021"]

    # The same population rewritten, rows in another order: read the same, so nothing runs.
    write_folk1a(lake.landing / "population" / "folk1a.csv", dict(reversed(changed.items())))
    assert evaluate(cursor, instance, lake)[0].run_requests == []

    # A new year folder: registered as a partition and requested.
    write_idebank_csv(lake.landing / "idebank" / "2024" / "extract.csv", 2024, idebank(2024))
    sixth, cursor = evaluate(cursor, instance, lake)
    assert [r.partition_key for r in sixth.run_requests] == ["2024"]
    assert sixth.dynamic_partitions_requests[0].partition_keys == ["2024"]
    seventh, _ = evaluate(cursor, instance, lake)
    assert seventh.run_requests == []


def test_annual_schedule_early_december_in_copenhagen(tmp_path, instance, monkeypatch):
    assert SCHEDULE.cron_schedule == ANNUAL_CRON == "0 6 1 12 *"
    assert SCHEDULE.execution_timezone == TIME_ZONE == "Europe/Copenhagen"
    assert SCHEDULE.default_status == dg.DefaultScheduleStatus.STOPPED
    assert SENSOR.default_status == dg.DefaultSensorStatus.STOPPED
    lake = two_year_lake(tmp_path / "lake")
    monkeypatch.setenv("OPS_DATA_LAKE", str(tmp_path / "elsewhere"))  # not what it reads
    with dg.build_schedule_context(
        instance=instance, resources={"lake": LakeResource(root=str(lake.root))}
    ) as context:
        request = SCHEDULE.evaluate_tick(context).run_requests[0]
    assert request.tags["dagster/asset_partition_range_start"] == "2021"
    assert request.tags["dagster/asset_partition_range_end"] == "2023"
    assert instance.get_dynamic_partitions("years") == ["2021", "2022", "2023"]


def test_every_asset_is_described_for_the_ui():
    from ops_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, key
        assert node.group_name and node.group_name != "default", key
        assert node.kinds, key
        assert "dagster/column_schema" in node.metadata, key
        assert node.owners == ["team:data-engineering"], key
    lineage = graph.get(dg.AssetKey(["marts", "municipal_savings"])).metadata[
        "dagster/column_lineage"
    ]
    assert (
        dg.TableColumnDep(dg.AssetKey(["staged", "population"]), "population")
        in (lineage.deps_by_column["savings_per_inhabitant"])
    )
