"""Issue 5: BI tools read the warehouse safely while it refreshes, and no crash or fault loses
published data.

A reader keeps the old warehouse open across a refresh; runs are killed (SIGKILL, through the
test-only ``OPS_FAULT_POINT`` of ``ops_pipeline/faults.py``) at named points; a run hits a file
size limit; two runs start on one lake. Each time the published warehouse and exports must be the
last good pair, nothing temporary in their place, and the next run must succeed without clean-up.
History keeps the last five publications and restores one.

``ingest`` and ``check`` kill a run only where the staging steps and the quality checks call
``fault_point``; the run lock and ``--wait`` are those of ``ops-pipeline run`` (``cli.py``).
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from lakes import write_idebank_csv
from publications import (
    assert_published_pair,
    leftovers,
    mart_counts,
    mart_names,
    published_files,
    run_cli,
    start_cli,
)

from ops_pipeline import history, warehouse
from ops_pipeline.defs.publish import publish_warehouse
from ops_pipeline.faults import POINTS
from ops_pipeline.lake import Lake
from ops_pipeline.refresh import fail_abandoned_runs
from ops_pipeline.report import write_reports

pytestmark = pytest.mark.slow

LATE = Path("landing/idebank/2021/late.csv")
# A ninth proposal: a refresh after adding it publishes different marts.
P9 = [
    "P9",
    "751",
    "Aarhus",
    "2021",
    "Velfærdsteknologi",
    "",
    "Ældre",
    "Digitalisering og teknologi",
    "0",
    "0",
    "-20",
    "-40",
    "Ja",
    "Nej",
]


def add_proposal(lake: Path) -> None:
    write_idebank_csv(lake / LATE, 2021, [P9])


# ``lake`` (conftest.py): a copy of the session's published small lake, links kept.


def snapshot(warehouse: Path) -> dict[str, list]:
    """Every mart of a warehouse, row by row, in a stable order (JSON-comparable)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return json.loads(json.dumps(_marts(con)))


def _marts(con) -> dict[str, list]:
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
    ).fetchall()
    return {
        name: con.execute(f'SELECT * FROM marts."{name}" ORDER BY ALL').fetchall()
        for (name,) in names
    }


# A BI session: opens the warehouse read-only, reads every mart inside one transaction, starts a
# long read of one mart, says "ready", and after a line on stdin finishes that read and reads
# every mart again in the same session.
READER = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("BEGIN TRANSACTION")
names = [n for (n,) in con.execute(
    "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1").fetchall()]
def marts():
    return {n: con.execute(f'SELECT * FROM marts."{n}" ORDER BY ALL').fetchall() for n in names}
before = marts()
stream = con.cursor()
stream.execute("SELECT * FROM marts.municipal_savings ORDER BY ALL")
streamed = stream.fetchmany(10)
print("ready", flush=True)
sys.stdin.readline()
streamed += stream.fetchall()
print(json.dumps({"before": before, "streamed": streamed, "after": marts()}), flush=True)
"""


def start_reader(lake: Path) -> subprocess.Popen:
    """A BI-like session in its own process, holding the warehouse open read-only."""
    return subprocess.Popen(
        [sys.executable, "-c", READER, str(lake / "warehouse.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_reader_never_blocks_a_refresh(lake, run):
    old = snapshot(lake / "warehouse.duckdb")
    reader = start_reader(lake)
    try:
        assert reader.stdout.readline() == "ready\n", reader.stderr.read()
        add_proposal(lake)
        code, _, err = run(lake)  # the reader is a process of its own; the run need not be
        assert code == 0, err
        out, err = reader.communicate("go\n", timeout=300)
    finally:
        reader.kill()
    assert reader.returncode == 0, err
    seen = json.loads(out)
    # The session that was open still reads the complete old publication.
    assert seen["before"] == old and seen["after"] == old
    assert seen["streamed"] == old["municipal_savings"]
    # A new session reads the complete new one.
    new = snapshot(lake / "warehouse.duckdb")
    assert new != old
    assert len(new["proposals"]) == 9 and len(old["proposals"]) == 8
    assert new.keys() == old.keys()
    assert_published_pair(lake)


# Where the next run itself must show it copes: killed while staging wrote the working database.
# Killed in a check, the recovery the next run starts with (``fail_abandoned_runs`` and
# ``history.recover``, cli.py) is called directly; killed inside the publish step (between the
# publication's files, or with it drafted whole in history/), only that step runs (below).
NEXT_RUN = ("ingest",)
IN_PUBLISH = ("export", "report", "before_rename")

# The publish step alone, as the run calls it, in a process of its own (the kill needs one).
PUBLISH_ONLY = """
import sys
from pathlib import Path
from ops_pipeline.defs.publish import publish_warehouse
from ops_pipeline.lake import Lake
publish_warehouse(Lake(Path(sys.argv[1])), "run-killed", sys.argv[2:])
"""


def killed_left_temporary_names(lake: Path, done, point: str, before, publication, entries_before):
    """The process was killed at ``point`` and left the publication as it was, beside it only
    entries with temporary names (every new entry of the lake and of history/, not only those a
    helper looks for). Those entries."""
    assert done.returncode == -signal.SIGKILL, f"not killed at {point}: {done.stderr[-2000:]}"
    assert published_files(lake, reports=True) == before
    assert assert_published_pair(lake) == publication
    left = entries(lake) - entries_before
    assert all(Path(name).name.startswith(".") for name in left), left
    assert {Path(p).relative_to(lake).as_posix() for p in leftovers(lake)} == left
    return left


@pytest.mark.parametrize("point", sorted(set(POINTS) - set(IN_PUBLISH)))
def test_a_killed_run_leaves_the_last_publication(lake, dagster_home, run, point):
    """``ingest`` and ``check`` need the fault points in the staging steps and checks."""
    before = published_files(lake, reports=True)
    publication = assert_published_pair(lake)
    add_proposal(lake)
    before_entries = entries(lake)

    done = run_cli(dagster_home, "run", "--lake", str(lake), env={"OPS_FAULT_POINT": point})
    left = killed_left_temporary_names(lake, done, point, before, publication, before_entries)
    killed = _runs_of(dagster_home, lake, dg.DagsterRunStatus.STARTED)
    assert killed

    if point in NEXT_RUN:
        # The next run (in this process: the kill needed one of its own) recovers and publishes.
        code, _, err = run(lake)
        assert code == 0, err
        assert assert_published_pair(lake) != publication
        assert mart_counts(lake / "warehouse.duckdb")["proposals"] == 9
    else:
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            assert sorted(fail_abandoned_runs(instance, Lake(lake))) == sorted(killed)
        removed = history.recover(Lake(lake))
        assert {p.relative_to(lake).as_posix() for p in removed} == left
        assert published_files(lake, reports=True) == before
    assert leftovers(lake) == []
    # The killed run is marked failed: it holds no slot of the instance's run queue.
    assert _runs_of(dagster_home, lake, dg.DagsterRunStatus.STARTED) == []
    assert set(killed) <= set(_runs_of(dagster_home, lake, dg.DagsterRunStatus.FAILURE))


@pytest.mark.parametrize("point", IN_PUBLISH)
def test_a_publish_killed_between_its_files_leaves_the_last_publication(lake, point):
    """``export`` kills the publish step once the new warehouse is written, ``report`` once the
    new publication's first report is, ``before_rename`` once the whole new publication is
    drafted in history/, before the switch; the next run's recovery removes what it left."""
    before = published_files(lake, reports=True)
    publication = assert_published_pair(lake)
    with duckdb.connect(str(lake / "work" / "working.duckdb")) as con:
        con.execute("UPDATE marts.municipal_savings SET savings_dkk = savings_dkk + 1")
    before_entries = entries(lake)

    done = subprocess.run(
        [sys.executable, "-c", PUBLISH_ONLY, str(lake), *mart_names(lake / "warehouse.duckdb")],
        capture_output=True,
        text=True,
        env={**os.environ, "OPS_FAULT_POINT": point},
        timeout=300,
    )
    left = killed_left_temporary_names(lake, done, point, before, publication, before_entries)
    assert left  # the draft of the new publication
    removed = history.recover(Lake(lake))
    assert {p.relative_to(lake).as_posix() for p in removed} == left
    assert published_files(lake, reports=True) == before
    assert leftovers(lake) == []


def entries(lake: Path) -> set[str]:
    """Every name in the lake's folder and in its history/ (where publications are drafted)."""
    found = {p.name for p in lake.iterdir()}
    history_folder = lake / "history"
    if history_folder.is_dir():
        found |= {f"history/{p.name}" for p in history_folder.iterdir()}
    return found


def _runs_of(dagster_home: Path, lake: Path, status: dg.DagsterRunStatus) -> list[str]:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(
            filters=dg.RunsFilter(statuses=[status], tags={"ops_pipeline/lake": str(lake)})
        )
        return [run.run_id for run in runs]


def _file_size_limit(limit: int):
    def limit_child() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        # A write past the limit fails with EFBIG instead of killing the process (SIGXFSZ).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return limit_child


def test_a_failed_write_leaves_the_last_publication(lake, tmp_path):
    """Writes past 1 MiB fail (a full disk, a quota): the new warehouse cannot be written. A
    read-only folder would not do: root writes there anyway."""
    home = tmp_path / "dagster_home"  # its own instance: the limit applies to its files too
    home.mkdir()
    shutil.copy(Path(__file__).parents[1] / "dagster_home" / "dagster.yaml", home)
    before = published_files(lake, reports=True)
    publication = assert_published_pair(lake)
    add_proposal(lake)

    done = run_cli(home, "run", "--lake", str(lake), preexec_fn=_file_size_limit(1 << 20))
    assert done.returncode == 1
    assert "File too large" in done.stderr
    assert "the published warehouse is unchanged" in done.stderr
    assert published_files(lake, reports=True) == before
    assert assert_published_pair(lake) == publication
    assert leftovers(lake) == []  # the failed publication removed what it had written

    # Nothing it left stands in the way: without the limit, the marts that run built publish.
    publish_warehouse(Lake(lake), "run-next", mart_names(lake / "warehouse.duckdb"))
    assert mart_counts(lake / "warehouse.duckdb")["proposals"] == 9
    assert_published_pair(lake)


def test_a_publish_that_fails_after_its_reports_leaves_all_three(lake, monkeypatch):
    """The publish step fails once the new warehouse, exports and reports are written, before
    the switch: the published warehouse, exports and reports stay those of one publication."""
    store = Lake(lake)
    before = published_files(lake, reports=True)
    publication = assert_published_pair(lake)
    with duckdb.connect(str(lake / "work" / "working.duckdb")) as con:
        con.execute("UPDATE marts.municipal_savings SET savings_dkk = savings_dkk + 1")
    drafted = []

    def failing_publish(lake, new, *args, **kwargs):
        drafted.append(sorted(p.name for p in new.reports.iterdir()))
        raise OSError("No space left on device")

    monkeypatch.setattr(history, "publish", failing_publish)
    with pytest.raises(OSError, match="No space left"):
        publish_warehouse(store, "run-failing", mart_names(lake / "warehouse.duckdb"))
    assert drafted == [["analysis_2021.html"]]  # it failed after rendering the report
    assert published_files(lake, reports=True) == before
    assert assert_published_pair(lake) == publication
    assert leftovers(lake) == []


def wait_paused(run: subprocess.Popen, fifo: Path) -> str:
    """The line a run writes when it reaches its ``OPS_FAULT_PAUSE`` point."""
    # Opened read-write, so the open never blocks and the pipe always has a writer.
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        while True:
            if select.select([fd], [], [], 1.0)[0]:
                return os.read(fd, 4096).decode().strip()
            if run.poll() is not None:
                raise AssertionError(f"the run ended (exit {run.returncode}) before its pause")
    finally:
        os.close(fd)


def test_two_runs_at_once(lake, dagster_home, tmp_path):
    """The second run fails at once, clearly, or with --wait queues behind the first, and then
    judges the lake as the first left it: the same inputs, nothing to refresh."""
    fifo = tmp_path / "pause"
    os.mkfifo(fifo)
    before = published_files(lake)
    add_proposal(lake)
    pause = {"OPS_FAULT_PAUSE": "before_rename", "OPS_FAULT_PAUSE_FIFO": str(fifo)}
    first = start_cli(dagster_home, tmp_path / "first", "run", "--lake", str(lake), env=pause)
    queued = None
    try:
        # The first run holds the lake's run lock, its new warehouse written, not yet published.
        assert wait_paused(first, fifo) == f"paused at before_rename {first.pid}"

        second = run_cli(dagster_home, "run", "--lake", str(lake))
        assert second.returncode == 1
        assert (
            f"ops-pipeline: another ops-pipeline run holds {lake / '.run.lock'} (pid {first.pid}, "
            in second.stderr
        )
        assert published_files(lake) == before

        queued = start_cli(
            dagster_home, tmp_path / "queued", "run", "--lake", str(lake), "--wait", "600"
        )
        first.communicate("go\n", timeout=600)  # let the first run finish
        assert first.returncode == 0, (tmp_path / "first.err").read_text()
        queued.communicate(timeout=600)
        assert queued.returncode == 0, (tmp_path / "queued.err").read_text()
    finally:
        for run in (first, queued):
            if run is not None and run.poll() is None:
                run.kill()
                run.wait()
    newest = history.list_publications(Lake(lake))[0]
    assert newest.run_id == _run_id(tmp_path / "first.out")
    assert (
        (tmp_path / "queued.out")
        .read_text()
        .startswith(f"Nothing changed since publication {newest.id} ")
    )
    assert assert_published_pair(lake) == newest.id
    assert leftovers(lake) == []


def _run_id(summary: Path) -> str:
    """The run id in the summary ``ops-pipeline run`` prints."""
    return re.search(r"\(run ([0-9a-f-]+)\)", summary.read_text()).group(1)


# History and restore, through the functions the commands call: each publish takes under a
# second, so no run is needed beyond the module's first.


def test_history_keeps_the_last_five(lake):
    store = Lake(lake)
    marts = mart_names(lake / "warehouse.duckdb")
    first = history.current_publication(store)
    for n in range(6):
        publish_warehouse(store, f"run-{n}", marts)
    publications = history.list_publications(store)
    assert [p.run_id for p in publications] == [f"run-{n}" for n in (5, 4, 3, 2, 1)]
    assert history.current_publication(store) == publications[0]
    assert not first.path.exists()
    assert sorted(p.name for p in (lake / "history").iterdir()) == sorted(
        p.id for p in publications
    )
    assert_published_pair(lake)


def test_an_open_reader_keeps_a_pruned_publication(lake):
    """A session left open for days outlives its publication's folder."""
    store = Lake(lake)
    marts = mart_names(lake / "warehouse.duckdb")
    reader = start_reader(lake)
    try:
        assert reader.stdout.readline() == "ready\n", reader.stderr.read()
        opened = history.current_publication(store)
        for n in range(history.KEEP + 1):
            publish_warehouse(store, f"run-{n}", marts)
        assert not opened.path.exists()
        out, err = reader.communicate("go\n", timeout=300)
    finally:
        reader.kill()
    assert reader.returncode == 0, err
    seen = json.loads(out)
    assert seen["after"] == seen["before"] and len(seen["streamed"]) == 98


def test_restore_republishes_an_earlier_publication(lake):
    store = Lake(lake)
    marts = mart_names(lake / "warehouse.duckdb")
    good = history.current_publication(store)
    good_marts = snapshot(good.warehouse)
    # A later run publishes a proposal too few (as if an extract had been forgotten).
    with duckdb.connect(str(lake / "work" / "working.duckdb")) as con:
        con.execute("DELETE FROM marts.proposals WHERE id = 'P8'")
    publish_warehouse(store, "run-short", marts)
    assert mart_counts(lake / "warehouse.duckdb")["proposals"] == 7

    good_report = (good.reports / "analysis_2021.html").read_bytes()
    assert (lake / "reports" / "analysis_2021.html").read_bytes() != good_report

    restored = history.restore_publication(store, good.run_id[:8])
    assert restored.restored_from == good.id and restored.run_id == good.run_id
    assert history.current_publication(store) == restored
    assert snapshot(lake / "warehouse.duckdb") == good_marts
    # The reports come back with the warehouse: those published with it, byte for byte.
    assert (lake / "reports" / "analysis_2021.html").read_bytes() == good_report
    assert pq.read_table(lake / "exports" / "proposals.parquet").num_rows == 8
    assert [p.run_id for p in history.list_publications(store)] == [
        good.run_id,
        "run-short",
        good.run_id,
    ]
    assert_published_pair(lake)
    # The published one again: nothing to do.
    assert history.restore_publication(store, restored.id) == restored
    with pytest.raises(history.HistoryError, match="no publication of run 'nonesuch'"):
        history.restore_publication(store, "nonesuch")


def test_history_and_restore_commands(lake, dagster_home):
    """``ops-pipeline history`` and ``ops-pipeline restore`` (cli.py)."""
    store = Lake(lake)
    good = history.current_publication(store)
    with duckdb.connect(str(lake / "work" / "working.duckdb")) as con:
        con.execute("DELETE FROM marts.proposals WHERE id = 'P8'")
    publish_warehouse(store, "run-short", mart_names(lake / "warehouse.duckdb"))

    listed = run_cli(dagster_home, "history", "--lake", str(lake))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].startswith("* ") and "run run-short" in listed.stdout
    assert f"run {good.run_id}" in listed.stdout and "proposals 7" in listed.stdout
    assert listed.stdout.count("    storage v1.0.0; reports: analysis_2021.html\n") == 2

    done = run_cli(dagster_home, "restore", good.run_id, "--lake", str(lake))
    assert done.returncode == 0, done.stderr
    assert mart_counts(lake / "warehouse.duckdb")["proposals"] == 8
    assert history.current_publication(store).restored_from == good.id

    unknown = run_cli(dagster_home, "restore", "nonesuch", "--lake", str(lake))
    assert unknown.returncode == 1 and "no publication of run 'nonesuch'" in unknown.stderr


def test_recovery_removes_only_what_unfinished_publications_left(lake):
    store = Lake(lake)
    before = published_files(lake)
    current = history.current_publication(store)
    # A draft of a killed run, a publication renamed but never switched in, a half-made link,
    # and the temporary warehouse of the pipeline's previous version.
    draft = lake / "history" / f".{current.sequence + 1:06d}-killed.tmp"
    draft.mkdir()
    (draft / "warehouse.duckdb").write_bytes(b"half a file")
    unswitched = lake / "history" / f"{current.sequence + 1:06d}-unswitched"
    shutil.copytree(current.path, unswitched)
    os.symlink(f"history/{unswitched.name}", lake / ".current-4242.tmp")
    (lake / ".warehouse-oldrun.duckdb.tmp").write_bytes(b"old version")

    removed = history.recover(store)
    assert sorted(p.name for p in removed) == sorted(
        [draft.name, unswitched.name, ".current-4242.tmp", ".warehouse-oldrun.duckdb.tmp"]
    )
    assert leftovers(lake) == []
    assert history.list_publications(store) == [current]
    assert published_files(lake) == before


@pytest.mark.parametrize("layout", ["plain file", "copied without links"])
def test_a_lake_of_the_older_layout_keeps_its_warehouse(published_lake, tmp_path, layout):
    """A warehouse published by the previous version (a plain file), or a lake copied without
    its links, becomes the first publication of history before anything replaces it."""
    lake = tmp_path / "lake"
    shutil.copytree(published_lake, lake)  # links followed: plain files and folders
    if layout == "plain file":
        for name in ("current", "exports", "history"):
            shutil.rmtree(lake / name)
    old = (lake / "warehouse.duckdb").read_bytes()

    publish_warehouse(Lake(lake), "run-new", mart_names(lake / "warehouse.duckdb"))
    newest, adopted, *_ = history.list_publications(Lake(lake))
    assert newest.run_id == "run-new" and assert_published_pair(lake) == newest.id
    assert adopted.warehouse.read_bytes() == old
    assert sorted(p.name for p in adopted.exports.iterdir()) == sorted(
        p.name for p in newest.exports.iterdir()
    )
    assert leftovers(lake) == []


def _make_older(publication: history.Publication, *, drop: str | None = None) -> None:
    """Make a publication as the previous version left it: no reports, no format in its
    manifest (and, with ``drop``, without that mart)."""
    shutil.rmtree(publication.reports)
    manifest = json.loads((publication.path / "publication.json").read_text(encoding="utf-8"))
    del manifest["reports"], manifest["storage_version"]
    (publication.path / "publication.json").write_text(json.dumps(manifest), encoding="utf-8")
    if drop:
        with duckdb.connect(str(publication.warehouse)) as con:
            con.execute(f"DROP TABLE {drop}")


def test_restoring_an_older_publication_rewrites_it_and_renders_its_reports(
    lake, monkeypatch, tmp_path
):
    """A publication of the previous version: DuckDB's own storage format (v2, which no 1.x
    client opens) and no reports. Restored, it is published in the compatible format, comments
    kept, with its reports rendered from its warehouse."""
    store = Lake(lake)
    marts = mart_names(lake / "warehouse.duckdb")
    monkeypatch.setenv(warehouse.STORAGE_VERSION_ENV_VAR, "v2.0.0")
    old = history.current_publication(store)
    publish_warehouse(store, "run-v2", marts)
    monkeypatch.delenv(warehouse.STORAGE_VERSION_ENV_VAR)
    older = history.find_publication(store, "run-v2")
    assert warehouse.warehouse_storage_version(older.warehouse) == "v2.0.0"
    _make_older(older)
    publish_warehouse(store, "run-after", marts)
    assert "unrecorded; reports: none" in history.describe(history.list_publications(store), None)

    restored = history.restore_publication(store, "run-v2")
    assert warehouse.warehouse_storage_version(lake / "warehouse.duckdb") == "v1.0.0"
    assert restored.storage_version == "v1.0.0"
    assert snapshot(lake / "warehouse.duckdb") == snapshot(older.warehouse)
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        (uncommented,) = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'marts' AND comment IS NULL"
        ).fetchone()
    assert uncommented == 0
    # Rendered from its own warehouse: as the report of those marts and that audit reads.
    expected, _ = write_reports(older.warehouse, tmp_path / "expected")
    assert (lake / "reports" / "analysis_2021.html").read_bytes() == expected[2021].read_bytes()
    assert old.id != restored.id
    assert_published_pair(lake)


def test_an_older_publication_lacking_a_mart_the_reports_need_is_refused(lake):
    store = Lake(lake)
    marts = mart_names(lake / "warehouse.duckdb")
    publish_warehouse(store, "run-old", marts)
    older = history.find_publication(store, "run-old")
    _make_older(older, drop="marts.survey_answer_counts")
    publish_warehouse(store, "run-after", marts)
    before = published_files(lake, reports=True)

    with pytest.raises(history.HistoryError) as refused:
        history.restore_publication(store, "run-old")
    assert str(refused.value) == (
        f"publication {older.id} has no reports and its warehouse lacks "
        "marts.survey_answer_counts to render them: not restored"
    )
    assert published_files(lake, reports=True) == before
    assert leftovers(lake) == []
