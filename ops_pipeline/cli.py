"""``ops-pipeline``: make a sample lake, or refresh a lake's warehouse.

    ops-pipeline sample [--lake DIR] [--seed N] [--scale K] [--if-empty]
    ops-pipeline run [--lake DIR] [--wait SECONDS] [--force]
    ops-pipeline check [--lake DIR] [--wait SECONDS]
    ops-pipeline history [--lake DIR]
    ops-pipeline restore RUN_ID [--lake DIR] [--wait SECONDS]

The lake is ``--lake``, else ``$OPS_DATA_LAKE``, else ``data_lake/`` in the repository. Runs are
recorded in the Dagster instance of ``$DAGSTER_HOME`` (default: ``dagster_home/`` in the
repository), so they show in ``dagster dev`` like runs started there.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

from ops_pipeline.lake import LAKE_ENV_VAR, REPO_ROOT, Lake, lake_path
from ops_pipeline.schemas import HEADLINE_METHOD, HEADLINE_TOP_N

DAGSTER_HOME = REPO_ROOT / "dagster_home"
STARTED = time.monotonic()  # the progress shown on a terminal counts from here (set by main)


def main(argv: list[str] | None = None) -> int:
    global STARTED
    STARTED = time.monotonic()
    parser = argparse.ArgumentParser(prog="ops-pipeline", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser("sample", help="write a deterministic sample landing zone")
    sample.add_argument("--lake", help="lake folder (default: $OPS_DATA_LAKE or data_lake/)")
    sample.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
    sample.add_argument("--scale", type=int, default=1, help="K× proposals and respondents")
    sample.add_argument(
        "--if-empty", action="store_true", help="do nothing when the landing zone has files"
    )
    sample.add_argument(
        "--survey-respondents",
        type=int,
        metavar="N",
        help="an employee survey of N respondents (no kommunekode) instead of the CEO survey",
    )
    sample.add_argument(
        "--survey-variables", type=int, metavar="N", help="its six-point variables (default 100)"
    )
    sample.add_argument(
        "--idebank-rows", type=int, metavar="N", help="about N Idébank rows instead of --scale's"
    )

    run = commands.add_parser("run", help="refresh the warehouse from the landing zone")
    run.add_argument("--lake", help="lake folder (default: $OPS_DATA_LAKE or data_lake/)")
    run.add_argument(
        "--year",
        action="append",
        metavar="YEAR",
        help="refresh only this year's partition (repeatable; default: every year found); "
        "other years' rows stay as they are",
    )
    run.add_argument(
        "--max-rejected-rows",
        type=int,
        default=0,
        metavar="N",
        help="let the quality gate pass with up to N unreadable landing rows per source "
        "(default 0; rejected rows are kept in the audit either way)",
    )
    run.add_argument("--wait", type=float, default=0, metavar="SECONDS", help=WAIT_HELP)
    run.add_argument(
        "--force",
        action="store_true",
        help="refresh even when nothing changed since the current publication (same landing "
        "and corrections files, code and settings)",
    )

    check = commands.add_parser(
        "check",
        help="the landing gate, every reader and every quality check, publishing nothing",
    )
    check.add_argument("--lake", help="lake folder (default: $OPS_DATA_LAKE or data_lake/)")
    check.add_argument("--wait", type=float, default=0, metavar="SECONDS", help=WAIT_HELP)

    listing = commands.add_parser("history", help="list the kept publications of the warehouse")
    listing.add_argument("--lake", help="lake folder (default: $OPS_DATA_LAKE or data_lake/)")

    restore = commands.add_parser(
        "restore", help="publish a kept publication again: its warehouse and exports"
    )
    restore.add_argument("run_id", metavar="RUN_ID", help="its run id (or the start of it)")
    restore.add_argument("--lake", help="lake folder (default: $OPS_DATA_LAKE or data_lake/)")
    restore.add_argument("--wait", type=float, default=0, metavar="SECONDS", help=WAIT_HELP)

    args = parser.parse_args(argv)
    lake = Lake(lake_path(args.lake))
    if args.command == "sample":
        shape = {
            "survey_respondents": args.survey_respondents,
            "survey_variables": args.survey_variables,
            "idebank_rows": args.idebank_rows,
        }
        return _sample(lake, args.seed, args.scale, args.if_empty, shape)
    if args.command == "history":
        return _history(lake)
    if args.command == "restore":
        return _restore(lake, args.run_id, args.wait)
    if args.command == "check":
        return _run(lake, wait=args.wait, check=True)
    return _run(lake, args.max_rejected_rows, args.year, args.wait, force=args.force)


WAIT_HELP = (
    "when another run holds the lake, wait up to SECONDS for it to finish (default 0: fail at once)"
)


def _sample(lake: Lake, seed: int, scale: int, if_empty: bool, shape: dict) -> int:
    from ops_pipeline.sample.generator import write_sample_lake

    if scale < 1:
        print("ops-pipeline: --scale must be 1 or more", file=sys.stderr)
        return 2
    if if_empty and _landing_entries(lake):
        print(f"Landing zone {lake.landing} already has files: left as it is.")
        return 0
    try:
        files = write_sample_lake(
            lake.root, seed=seed, scale=scale, **{k: v for k, v in shape.items() if v}
        )
    except FileExistsError as exc:
        print(f"ops-pipeline: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"ops-pipeline: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote a sample landing zone (seed {seed}, scale {scale}) to {lake.landing}:")
    for path in files:
        print(f"  {lake.relative(path)}")
    return 0


def _landing_entries(lake: Lake) -> bool:
    from ops_pipeline import landing

    inventory = landing.scan(lake)
    return bool(inventory.files or inventory.refused)


def _run(
    lake: Lake,
    max_rejected_rows: int = 0,
    years: list[str] | None = None,
    wait: float = 0,
    check: bool = False,
    force: bool = False,
) -> int:
    from ops_pipeline import landing

    # The gate first, before Dagster starts: a refused lake fails in a fraction of a second.
    inventory, _ = landing.gate(lake)
    if inventory.refused:
        for error in inventory.refused:
            print(f"ops-pipeline: {error}", file=sys.stderr)
        print(
            f"ops-pipeline: {len(inventory.refused)} landing "
            f"{'entry' if len(inventory.refused) == 1 else 'entries'} refused: nothing was "
            "staged; the published warehouse is unchanged.",
            file=sys.stderr,
        )
        return 1
    if not inventory.files:
        print(
            f"ops-pipeline: no files in {lake.landing}: put exports there, or make a sample lake "
            f"with `ops-pipeline sample --lake {lake.root}`",
            file=sys.stderr,
        )
        return 2
    from ops_pipeline import runlock

    try:
        with runlock.run_lock(lake, wait):
            if not (check or years or force):
                from ops_pipeline.fingerprint import unchanged_since

                # Before Dagster is imported: an unchanged lake costs the hashing of its files.
                unchanged = unchanged_since(lake, inventory, max_rejected_rows)
                if unchanged is not None:
                    print(
                        f"Nothing changed since publication {unchanged.id} (run "
                        f"{unchanged.run_id}, {unchanged.published_at}): same landing and "
                        f"corrections files, code and settings; {lake.warehouse} is as it was. "
                        "`--force` refreshes anyway."
                    )
                    return 0
            return _run_locked(lake, max_rejected_rows, years, check, inventory)
    except runlock.RunLockBusy as busy:
        print(f"ops-pipeline: {busy}", file=sys.stderr)
        return 1


def _run_locked(
    lake: Lake, max_rejected_rows: int, years: list[str] | None, check: bool, inventory
) -> int:
    from ops_pipeline.quality import start_worker

    # Great Expectations imports in a second process while this one starts Dagster and stages.
    start_worker(lake.docs, max_rejected_rows)
    # The lake and instance for everything this process starts, as for `dagster dev`.
    os.environ[LAKE_ENV_VAR] = str(lake.root)
    os.environ.setdefault("DAGSTER_HOME", str(DAGSTER_HOME))
    os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)

    import dagster as dg

    from ops_pipeline import history, runlock
    from ops_pipeline.refresh import fail_abandoned_runs, refresh

    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        # Holding the lock: runs a killed process left are dead, and its leftovers cleared first.
        fail_abandoned_runs(instance, lake)
        history.recover(lake)
        try:
            result = refresh(
                lake,
                instance,
                years=years,
                max_rejected_rows=max_rejected_rows,
                tags={runlock.LAKE_TAG: str(lake.root), runlock.STARTED_BY_TAG: "cli"},
                check=check,
                inventory=inventory,
                started=STARTED,
            )
        except ValueError as exc:
            print(f"ops-pipeline: {exc}", file=sys.stderr)
            return 2
    if not result.success:
        for line in failure_message(result).splitlines():
            print(f"ops-pipeline: {line}", file=sys.stderr)
        print(
            f"ops-pipeline: run {result.run_id} failed; the published warehouse is unchanged.",
            file=sys.stderr,
        )
        return 1
    if check:
        print(check_summary(lake, inventory, result, time.monotonic() - started))
        return 0
    print(summary(lake, result.run_id, time.monotonic() - started))
    return 0


def _history(lake: Lake) -> int:
    from ops_pipeline import history

    print(history.describe(history.list_publications(lake), history.current_publication(lake)))
    return 0


def _restore(lake: Lake, run_id: str, wait: float) -> int:
    from ops_pipeline import history, runlock, warehouse

    try:
        restored = history.restore_publication(lake, run_id, wait=wait)
    except (history.HistoryError, warehouse.StorageVersionError, runlock.RunLockBusy) as error:
        print(f"ops-pipeline: {error}", file=sys.stderr)
        return 1
    source = f", restored from {restored.restored_from}" if restored.restored_from else ""
    print(
        f"Published: {restored.id} (run {restored.run_id}{source}) as {lake.warehouse} and "
        f"{history.exports_link(lake)}/"
    )
    return 0


def failure_message(result) -> str:
    """One line naming what failed: a landing file's row and column when the input was bad.

    A failed quality gate speaks first (its check names the offending row); else the first
    failed step's own error, unwrapped from Dagster's.
    """
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and "problem" in evaluation.metadata:
                return evaluation.metadata["problem"].value
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        ours = landing_message(error)
        if ours is not None:
            return ours
        error = _error_chain(error)[-1]
        message = error.message.strip().splitlines()[0] if error.message.strip() else ""
        message = re.sub(rf"^[\w.]*{re.escape(error.cls_name)}: ", "", message)
        return f"{event.step_key} failed: {error.cls_name}: {message}"
    return "the run failed (see the run in `dagster dev` for details)"


def landing_message(error) -> str | None:
    """The project's own message in a serialised error, wherever it sits in the chain: Dagster
    wraps what an asset raised, and a landing error may carry the library error it came from.
    A refusal of the gate is several lines, one per entry."""
    names = _landing_error_names()
    ours = next((e for e in _error_chain(error) if e.cls_name in names), None)
    if ours is None:
        return None
    # "ops_pipeline.readers.errors.LandingError: <message>" → "<message>"
    return re.sub(rf"^[\w.]*{re.escape(ours.cls_name)}: ", "", ours.message.strip())


def _error_chain(error) -> list:
    """A serialised error and its causes and contexts, outermost first."""
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.cause or error.context
    return chain


def _landing_error_names() -> set[str]:
    from ops_pipeline.readers.errors import LandingError

    names, todo = set(), [LandingError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


def check_summary(lake: Lake, inventory, result, seconds: float) -> str:
    """One line: what the check read and judged, and that the lake would refresh."""
    checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    return (
        f"{lake.landing}: would refresh: {len(inventory.files)} landing files read "
        f"({len(inventory.ignored)} ignored), {len(checks)} quality checks passed in "
        f"{seconds:.1f} s; nothing published (run {result.run_id})."
    )


def summary(lake: Lake, run_id: str, seconds: float) -> str:
    """Years, row counts and the headline figures of the published warehouse."""
    import duckdb

    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        counts = con.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'marts' "
            "ORDER BY table_name"
        ).fetchall()
        response = con.execute(
            "SELECT survey_year, invited, responded, completed, response_rate "
            "FROM marts.survey_response ORDER BY survey_year"
        ).fetchall()
        savings = con.execute(
            """SELECT o.budget_year, o.qualifying_proposals, p.potential_dkk, top.municipality,
                      top.savings_per_inhabitant
               FROM marts.idebank_overview o
               LEFT JOIN marts.savings_potential p
                 ON p.budget_year = o.budget_year AND p.method = ? AND p.top_n = ?
               LEFT JOIN (SELECT * FROM marts.municipal_savings WHERE rank = 1
                          QUALIFY row_number() OVER (PARTITION BY budget_year
                                                     ORDER BY municipality_code) = 1) top
                 ON top.budget_year = o.budget_year
               ORDER BY o.budget_year""",
            [HEADLINE_METHOD, HEADLINE_TOP_N],
        ).fetchall()
    lines = [f"Refreshed {lake.warehouse} in {seconds:.1f} s (run {run_id})."]
    lines.append("Marts: " + ", ".join(f"{name} ({rows} rows)" for name, rows in counts))
    for year, invited, responded, completed, rate in response:
        lines.append(
            f"Survey {year}: {invited} invited, {responded} responded ({rate:.0%}), "
            f"{completed} completed."
        )
    for year, qualifying, potential, top, per_inhabitant in savings:
        lines.append(
            f"Idébank {year}: {qualifying} qualifying proposals; top: {top} "
            f"({per_inhabitant:,.0f} kr. per inhabitant); potential if all matched the top 10: "
            f"{(potential or 0) / 1e9:,.2f} bn kr. a year."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
