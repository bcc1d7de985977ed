"""Every asset and every check at the asset level, on the small lake (tests/lakes.py).

Each asset is materialised on its own with ``dg.materialize``, in the order data flows, into a
temporary working DuckDB, with its checks: it must succeed, report the rows its table holds, and
pass every check of its own. Each check then runs alone (``AssetSelection.checks``) on that data,
passes, and fails, naming the column, once its table lacks a column the suite expects.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest
from lakes import small_lake

from ops_pipeline.definitions import ASSETS, CHECKS
from ops_pipeline.defs.automation import RANGE_END, RANGE_START
from ops_pipeline.defs.partitions import YEARS
from ops_pipeline.defs.resources import LakeResource
from ops_pipeline.quality import SUITES

BUILT = [a for a in ASSETS if isinstance(a, dg.AssetsDefinition)]
# Sorted within a multi-asset: its keys are a set (the same order in every xdist worker).
KEYS = [key for asset in BUILT for key in sorted(asset.keys, key=lambda k: k.path)]
YEARS_OF_SMALL_LAKE = ["2021", "2022"]  # Idébank 2021, survey 2022


def _check_key(check: dg.AssetChecksDefinition) -> dg.AssetCheckKey:
    (key,) = check.check_keys
    return key


def _checks_of(asset: dg.AssetsDefinition) -> list[dg.AssetChecksDefinition]:
    return [c for c in CHECKS if _check_key(c).asset_key in asset.keys]


def _materialize(lake, instance, asset, *extra, **kwargs) -> dg.ExecuteInProcessResult:
    tags = {RANGE_START: YEARS_OF_SMALL_LAKE[0], RANGE_END: YEARS_OF_SMALL_LAKE[-1]}
    return dg.materialize(
        [asset, *extra],
        instance=instance,
        resources={"lake": lake},
        tags=tags if asset.partitions_def else {},
        raise_on_error=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The small lake built asset by asset: (resource, instance, result of each asset key)."""
    root = small_lake(tmp_path_factory.mktemp("assets") / "lake")
    lake = LakeResource(root=str(root), working_database=str(root / "work" / "assets.duckdb"))
    # In memory, as dg.materialize's default: the runs' records are not under test here.
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(YEARS.name, YEARS_OF_SMALL_LAKE)
        results = {}
        for asset in BUILT:
            result = _materialize(lake, instance, asset, *_checks_of(asset))
            results.update(dict.fromkeys(asset.keys, result))
        yield lake, instance, results


def test_every_asset_and_check_is_covered():
    """Each built asset comes once in the graph, and each check belongs to one of them."""
    assert len(KEYS) == len(set(KEYS)) > 15
    assert {_check_key(c).asset_key for c in CHECKS} <= set(KEYS)
    assert sorted(_check_key(c).name for c in CHECKS) == sorted(s.check_name for s in SUITES)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.to_user_string())
def test_each_asset_materializes_alone_and_passes_its_checks(built, key):
    lake, _, results = built
    result = results[key]
    assert result.success, [
        str(e.event_specific_data.error.cause or e.event_specific_data.error)
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]
    materializations = [
        e.materialization for e in result.get_asset_materialization_events() if e.asset_key == key
    ]
    # One per partition of the run's range, each describing the whole table.
    assert materializations, key
    metadata = materializations[-1].metadata
    table = metadata.get("dagster/table_name")
    if table is not None and table.value.startswith("working."):
        # The row count shown in the UI is the table's.
        _, schema, name = table.value.split(".")
        with duckdb.connect(lake.working_database, read_only=True) as con:
            (rows,) = con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchone()
        assert metadata["dagster/row_count"].value == rows > 0
    evaluations = {
        e.check_name: e.passed for e in result.get_asset_check_evaluations() if e.asset_key == key
    }
    expected = {_check_key(c).name for c in CHECKS if _check_key(c).asset_key == key}
    assert evaluations == dict.fromkeys(expected, True)


def test_the_published_warehouse_holds_every_mart(built):
    lake, _, results = built
    marts = sorted(k.path[-1] for k in KEYS if k.path[0] == "marts")
    with duckdb.connect(str(lake.lake.warehouse), read_only=True) as con:
        published = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
            ).fetchall()
        ]
    assert published == marts


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: _check_key(c).name)
def test_each_check_alone_passes_then_fails_on_a_missing_column(built, check):
    lake, instance, _ = built
    key = _check_key(check)
    asset = next(a for a in BUILT if key.asset_key in a.keys)
    alone = dg.AssetSelection.checks(check)

    passed = _materialize(lake, instance, asset, check, selection=alone)
    assert [e.passed for e in passed.get_asset_check_evaluations()] == [True]
    assert passed.get_asset_materialization_events() == []  # the check alone, not the asset

    schema, table = key.asset_key.path
    with duckdb.connect(lake.working_database) as con:
        column = con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? ORDER BY ordinal_position DESC LIMIT 1",
            [schema, table],
        ).fetchone()[0]
        con.execute(f'ALTER TABLE {schema}.{table} RENAME COLUMN "{column}" TO "{column}_x"')
    try:
        failed = _materialize(lake, instance, asset, check, selection=alone)
    finally:
        with duckdb.connect(lake.working_database) as con:
            con.execute(f'ALTER TABLE {schema}.{table} RENAME COLUMN "{column}_x" TO "{column}"')
    (evaluation,) = failed.get_asset_check_evaluations()
    assert evaluation.passed is False
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    problem = evaluation.metadata["problem"].value
    assert column in problem and "missing" in problem, problem


def test_the_ui_shows_the_staleness_the_command_line_acts_on(built):
    """Every computed asset's code version is the package digest the CLI compares; the landing
    gate's data version is the digest of the files it let through."""
    from ops_pipeline import fingerprint

    assert {v for a in BUILT for v in a.code_versions_by_key.values()} == {
        fingerprint.code_version()
    }
    lake, _, results = built
    gate = dg.AssetKey(["staged", "landing_files"])
    (materialization,) = [
        e.materialization
        for e in results[gate].get_asset_materialization_events()
        if e.asset_key == gate
    ]
    with duckdb.connect(lake.working_database, read_only=True) as con:
        files = con.execute("SELECT file, sha256 FROM staged.landing_files").fetchall()
    assert len(files) >= 4
    assert materialization.tags["dagster/data_version"] == fingerprint.landing_version(files)
