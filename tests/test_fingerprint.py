"""Nothing redone when nothing changed (issue 13): what a publication records it was computed
from, and the command line's decision before Dagster is imported."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from publications import REPO, published_files

from ops_pipeline import fingerprint, history, landing
from ops_pipeline.defs.automation import RANGE_END, RANGE_START
from ops_pipeline.defs.publish import run_fingerprint
from ops_pipeline.lake import Lake
from ops_pipeline.readers.corrections import HEADER


def test_landing_version_is_of_names_and_contents_not_their_order():
    files = [("landing/a.csv", "1" * 64), ("landing/b.csv", "2" * 64)]
    assert fingerprint.landing_version(files) == fingerprint.landing_version(files[::-1])
    renamed = [("landing/c.csv", "1" * 64), files[1]]
    changed = [("landing/a.csv", "3" * 64), files[1]]
    assert len({fingerprint.landing_version(f) for f in (files, renamed, changed)}) == 3


def test_code_version_follows_the_package_sources_not_their_caches(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    shutil.copytree(REPO / "ops_pipeline" / "sql", package / "sql")
    monkeypatch.setattr(fingerprint, "PACKAGE", package)

    def version() -> str:
        fingerprint.code_version.cache_clear()
        return fingerprint.code_version()

    try:
        before = version()
        (package / "sql" / "__pycache__").mkdir(exist_ok=True)
        (package / "sql" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"cache")
        (package / "sql" / "notes.txt~").write_text("editor leftover")
        assert version() == before
        mart = package / "sql" / "marts" / "survey_response.sql"
        mart.write_text(mart.read_text() + "\n-- a changed line\n")
        assert version() != before
    finally:
        fingerprint.code_version.cache_clear()


def test_the_dependencies_pinned_are_in_the_code_version():
    versions = fingerprint.dependency_versions()
    import duckdb as installed

    assert f"duckdb=={installed.__version__}" in versions
    assert any(v.startswith("great-expectations==") for v in versions)
    assert not any(v.startswith("pytest") for v in versions)  # a dev extra, not a pin


def _gate_table(con, rows):
    con.execute("CREATE SCHEMA staged")
    con.execute(
        "CREATE TABLE staged.landing_files (file VARCHAR, source VARCHAR, year INTEGER, "
        "size_bytes BIGINT, sha256 VARCHAR)"
    )
    con.executemany("INSERT INTO staged.landing_files VALUES (?, ?, ?, 1, ?)", rows)


def test_a_run_of_every_year_records_its_fingerprint_a_partial_one_none():
    con = duckdb.connect()
    _gate_table(
        con,
        [
            ("landing/survey/2022/dataset.csv", "survey", 2022, "a" * 64),
            ("landing/idebank/2021/idebank_2021.csv", "idebank", 2021, "b" * 64),
            ("landing/population/folk1a.csv", "population", None, "c" * 64),
        ],
    )
    every = run_fingerprint(con, {RANGE_START: "2021", RANGE_END: "2022"}, 0)
    assert every["years"] == ["2021", "2022"]
    assert every["landing"] == fingerprint.landing_version(
        [
            ("landing/survey/2022/dataset.csv", "a" * 64),
            ("landing/idebank/2021/idebank_2021.csv", "b" * 64),
            ("landing/population/folk1a.csv", "c" * 64),
        ]
    )
    assert every["code"] == fingerprint.code_version()
    # A wider span (another lake's years registered in the same instance) still covers them all.
    assert run_fingerprint(con, {RANGE_START: "2019", RANGE_END: "2023"}, 0) == every
    assert run_fingerprint(con, {RANGE_START: "2022", RANGE_END: "2022"}, 0) is None
    assert run_fingerprint(con, {}, 0) is None
    assert run_fingerprint(con, {RANGE_START: "2021", RANGE_END: "2022"}, 3) != every


def _unchanged(lake: Path, max_rejected_rows: int = 0):
    inventory, _ = landing.gate(Lake(lake))
    return fingerprint.unchanged_since(Lake(lake), inventory, max_rejected_rows)


def test_an_unchanged_lake_is_not_refreshed_and_a_changed_one_is(lake, run):
    current = history.current_publication(Lake(lake))
    assert current.fingerprint is not None
    before = published_files(lake, reports=True)
    code, out, err = run(lake)
    assert (code, err) == (0, "")
    assert out.startswith(f"Nothing changed since publication {current.id} ")
    assert [p.id for p in history.list_publications(Lake(lake))][0] == current.id
    assert published_files(lake, reports=True) == before

    # Other settings, a changed file, a renamed one, a new corrections file: all refresh.
    assert _unchanged(lake, max_rejected_rows=5) is None
    dataset = next((lake / "landing" / "survey").glob("*/dataset.csv"))
    original = dataset.read_bytes()
    dataset.write_bytes(original + b"\r\n")
    assert _unchanged(lake) is None
    dataset.write_bytes(original)
    assert _unchanged(lake).id == current.id
    dataset.rename(dataset.with_name("dataset.CSV"))
    assert _unchanged(lake) is None
    dataset.with_name("dataset.CSV").rename(dataset)
    # A publication whose warehouse was removed by hand is not "unchanged".
    warehouse = current.warehouse.read_bytes()
    current.warehouse.unlink()
    assert _unchanged(lake) is None
    current.warehouse.write_bytes(warehouse)
    assert _unchanged(lake).id == current.id
    (lake / "corrections").mkdir(exist_ok=True)
    (lake / "corrections" / "fixes.csv").write_text(";".join(HEADER) + "\n", encoding="utf-8")
    inventory, _ = landing.gate(Lake(lake))
    assert not inventory.refused and inventory.corrections
    assert _unchanged(lake) is None


def test_force_refreshes_an_unchanged_lake_as_a_new_publication(lake, run, monkeypatch):
    current = history.current_publication(Lake(lake))
    with monkeypatch.context() as patched:
        patched.setattr(sys.stdout, "isatty", lambda: True)  # progress as on a terminal
        code, out, err = run(lake, "--force")
    assert code == 0, err
    # One line per stage as it finished, with the seconds since the command started.
    finished = re.findall(r"\r\033\[K  (\w+) +([^\r\n]*?) +(\d+\.\d) s\n", out)
    stages = {stage: what for stage, what, _ in finished}
    assert len(finished) == len(stages)  # each stage once, in the order they finished
    assert stages == {
        "staging": "6 steps",
        "checks": "17 suites",
        "marts": "9 marts",
        "report": "1 report",
        "publish": "switched in",
    }
    seconds = [float(s) for _, _, s in finished]
    assert seconds == sorted(seconds)
    assert out.rsplit("\r\033[K", 1)[-1].startswith("Refreshed ")
    newest = history.current_publication(Lake(lake))
    assert newest.id != current.id
    assert newest.fingerprint == current.fingerprint  # the same inputs, computed again


def test_restore_and_a_second_lake_do_not_fool_it(lake, tmp_path, run):
    """A restored publication carries what it was computed from; lakes sharing one Dagster
    instance are judged each by its own publication."""
    first = history.current_publication(Lake(lake))
    other = tmp_path / "other"
    shutil.copytree(lake, other, symlinks=True)
    dataset = next((lake / "landing" / "survey").glob("*/dataset.csv"))
    dataset.write_bytes(dataset.read_bytes() + b"\r\n")
    assert _unchanged(lake) is None
    assert _unchanged(other).id == first.id  # the other lake's files did not change

    # A second publication of different inputs, then the first one restored.
    fake = {**first.fingerprint, "landing": "0" * 64}
    with history.draft(Lake(lake), "later-run") as new:
        shutil.copyfile(first.warehouse, new.warehouse)
        shutil.copytree(first.exports, new.exports)
        history.publish(Lake(lake), new, "later-run", first.counts, fingerprint=fake)
    assert history.current_publication(Lake(lake)).fingerprint == fake
    restored = history.restore_publication(Lake(lake), first.id)
    assert restored.fingerprint == first.fingerprint
    assert _unchanged(lake) is None  # the landing file changed since the restored publication
    dataset.write_bytes(dataset.read_bytes()[:-2])
    assert _unchanged(lake).id == restored.id


@pytest.mark.parametrize("module", ["dagster", "great_expectations"])
def test_the_unchanged_check_imports_neither_dagster_nor_gx(lake, dagster_home, module):
    code = (
        "import sys; from ops_pipeline import cli; "
        f"code = cli.main(['run', '--lake', {str(lake)!r}]); "
        f"print(code, {module!r} in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"DAGSTER_HOME": str(dagster_home), "PATH": "/usr/bin:/bin"},
        cwd=REPO,
        timeout=120,
    )
    assert done.stdout.splitlines()[-1] == "0 False", done.stderr


def test_progress_is_shown_on_a_terminal_only():
    import io

    from ops_pipeline import progress

    piped = io.StringIO()
    assert progress.start(piped, ["staged__x", "publish"], 0.0) is None
    progress.mark("report", "1 report")  # inactive: nothing written
    progress.stop()
    assert piped.getvalue() == ""


def test_the_annual_schedule_skips_an_unchanged_lake(lake):
    """The scheduled refresh of 1 December publishes nothing new when nothing changed."""
    import dagster as dg

    from ops_pipeline.definitions import SCHEDULE
    from ops_pipeline.defs.resources import LakeResource

    current = history.current_publication(Lake(lake))
    resources = {"lake": LakeResource(root=str(lake))}
    with dg.instance_for_test() as instance:
        with dg.build_schedule_context(instance=instance, resources=resources) as context:
            skipped = SCHEDULE.evaluate_tick(context)
        assert skipped.run_requests == []
        assert skipped.skip_message.startswith(f"nothing changed since publication {current.id} ")
        dataset = next((lake / "landing" / "survey").glob("*/dataset.csv"))
        dataset.write_bytes(dataset.read_bytes() + b"\r\n")
        with dg.build_schedule_context(instance=instance, resources=resources) as context:
            (request,) = SCHEDULE.evaluate_tick(context).run_requests
        assert request.tags[RANGE_START] == "2021" and request.tags[RANGE_END] == "2022"
