"""One refresh of a lake: register its years as partitions and run the refresh job over them.

The command line and the tests call this; the Dagster UI, the schedule and the sensor launch the
same job through the instance.
"""

from __future__ import annotations

import sys
import time

import dagster as dg

from ops_pipeline import progress, runlock
from ops_pipeline.defs.automation import RANGE_END, RANGE_START
from ops_pipeline.defs.partitions import sync_years
from ops_pipeline.lake import Lake
from ops_pipeline.landing import Inventory, scan


def refresh(
    lake: Lake,
    instance: dg.DagsterInstance,
    *,
    years: list[str] | None = None,
    max_rejected_rows: int = 0,
    tags: dict[str, str] | None = None,
    check: bool = False,
    inventory: Inventory | None = None,
    started: float | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialise every asset for ``years`` (default: every year of the landing zone) in one
    run: each partition once, the warehouse published once at the end, only if all succeeded.

    ``inventory``: the landing gate's walk when the caller made it (else it is made here).
    ``started``: when the command started (``time.monotonic()``), for the progress shown on a
    terminal.
    ``check``: every year through the gate, the readers and the quality checks, in a throwaway
    working database, publishing nothing (no warehouse, exports or reports)."""
    from ops_pipeline.definitions import CHECKED, REFRESH_JOB, build_definitions

    known = sync_years(instance, inventory or scan(lake))
    chosen = sorted(years or known)
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"no survey or Idébank folder for year {', '.join(unknown)}")
    if not chosen:
        raise ValueError(f"no survey or Idébank year folder in {lake.landing}")
    # A contiguous span of the sorted keys: a single-run backfill of those years.
    registered = instance.get_dynamic_partitions("years")
    span = registered[registered.index(chosen[0]) : registered.index(chosen[-1]) + 1]
    if span != chosen:
        raise ValueError(f"years {', '.join(chosen)} are not a span of {', '.join(registered)}")
    working = lake.work / "check.duckdb" if check else None
    defs = build_definitions(str(lake.root), max_rejected_rows, working_database=working)
    job = defs.resolve_job_def(REFRESH_JOB)
    selection = None
    if check:
        selection = CHECKED
        _remove_database(working)
    # Failures are reported in one line by the caller; the full log is in the instance.
    loggers: dict = {"console": {"config": {"log_level": "CRITICAL"}}}
    if progress.start(sys.stdout, _steps(job, selection), started or time.monotonic()):
        loggers["progress"] = {}
    try:
        return job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": loggers},
            tags={RANGE_START: chosen[0], RANGE_END: chosen[-1], **(tags or {})},
            asset_selection=selection,
        )
    finally:
        progress.stop()
        if check:
            _remove_database(working)


def _steps(job: dg.JobDefinition, selection) -> list[str]:
    """The step keys a run of ``job`` (over ``selection``) executes: one op per asset step."""
    if selection is not None:
        job = job.get_subset(asset_selection=set(selection))
    return list(job.graph.node_names())


def _remove_database(path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def fail_abandoned_runs(instance, lake: Lake) -> list[str]:
    """Mark failed the runs ``ops-pipeline`` started on this lake that still show as started;
    call it holding the lock: their process is then gone (killed, or the machine stopped).

    Left as they are, they would count against the instance's one-run-at-a-time queue for good
    and block runs started from the UI. Returns their run ids.
    """
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED],
            tags={runlock.LAKE_TAG: str(lake.root), runlock.STARTED_BY_TAG: "cli"},
        )
    )
    for run in runs:
        instance.report_run_failed(
            run,
            message="its ops-pipeline process ended without finishing it (killed, or the "
            "machine stopped); found by the next run on the lake",
        )
    return [run.run_id for run in runs]
