"""Benchmark of the pipeline on growing lakes (issue 7): time, peak memory and rows per second.

    .venv/bin/python benchmarks/run_benchmark.py [--sizes SIZE ...] [--out DIR] [--repeat N]

A SIZE is ``sample`` (the sample lake of ``ops-pipeline sample``) or ``RESPONDENTSxVARIABLES``
with an optional ``:IDEBANK_ROWS`` (default: one Idébank row per five respondents), e.g.
``500000x100:100000``: an employee survey of that shape, written by the sample generator.

For each size a lake is generated in a temporary folder (not timed), then each measurement runs
in its own process, one at a time:

- ``run``: ``ops-pipeline run --lake LAKE``, the full refresh (all assets, checks, publish), with
  a temporary Dagster instance (a copy of dagster_home/dagster.yaml), on a lake with nothing but
  ``landing/``;
- ``run_unchanged``: right after it, ``ops-pipeline run`` again on the same lake, nothing
  changed; whether it made a new publication (entries of ``LAKE/history/``, ``LAKE/current``)
  is recorded;
- ``refresh_reference``: the whole refresh in bare DuckDB SQL, landing files to ``marts``
  (benchmarks/bare_refresh.py), on that lake without the reference's own database; then each
  of its marts is compared with the published warehouse, and the benchmark stops on a difference;
- ``ingest``: the survey ingest alone, ``stage_survey`` on a fresh working database
  (benchmarks/steps.py), from ``landing/`` only;
- ``reference``: the same ingest in bare DuckDB SQL, ``read_csv`` + ``UNPIVOT`` into a table, from
  ``landing/`` only.

Then the time to load the code location: ``dagster definitions validate`` and a bare
``import ops_pipeline.definitions``. Results go to DIR/results.json, DIR/results.md and
DIR/benchmark.png (default DIR: benchmarks/results).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil
from bare_refresh import DATABASE, SCRATCH, MartMismatch, compare
from report import MEASUREMENTS, RESULTS, write_report
from steps import NOT_ANSWERS, STATUS_PREFIX

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STEPS = Path(__file__).resolve().parent / "steps.py"
DEFAULT_SIZES = (
    "sample",
    "1000x100",
    "10000x100",
    "50000x100",
    "100000x100",
    "250000x100",
    "500000x100",
)
IDEBANK_ROWS_PER_RESPONDENT = 0.2  # 100,000 Idébank rows with 500,000 respondents
POLL_SECONDS = 0.05
TIMEOUT_SECONDS = 3600
_SIZE = re.compile(r"^(\d[\d_]*)x(\d[\d_]*)(?::(\d[\d_]*))?$")


@dataclass(frozen=True)
class Size:
    """One lake to generate: the sample lake, or an employee survey and an Idébank target."""

    label: str
    respondents: int | None = None
    variables: int | None = None
    idebank_rows: int | None = None


def parse_size(text: str) -> Size:
    if text == "sample":
        return Size("sample")
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 'sample' or RESPONDENTSxVARIABLES")
    respondents, variables = int(match[1]), int(match[2])
    idebank = int(match[3]) if match[3] else round(respondents * IDEBANK_ROWS_PER_RESPONDENT)
    return Size(f"{respondents:,}×{variables}", respondents, variables, max(1, idebank))


@dataclass
class Measured:
    """One measurement: the process's wall time and peak memory, and what the step reported."""

    process_seconds: float
    peak_mb: float  # the larger of polled_mb and hwm_mb
    polled_mb: float  # the largest RSS summed over the process tree, polled
    hwm_mb: float  # the largest VmHWM (exact peak RSS) of one process of the tree
    step_seconds: float | None = None  # the step's own time, imports excluded (ingest, reference)
    answers: int | None = None
    utf8_copies: list[str] | None = None
    # refresh_reference, timed as a whole process like run: its own time (database open to
    # close) and that of each phase, and the rows of each mart it found equal to the warehouse's
    internal_seconds: float | None = None
    phases: dict[str, float] | None = None
    marts_equal: dict[str, int] | None = None
    # run_unchanged: publications in LAKE/history/ before and after, and whether it published
    history_before: int | None = None
    history_after: int | None = None
    new_publication: bool | None = None

    @property
    def seconds(self) -> float:
        return self.step_seconds if self.step_seconds is not None else self.process_seconds


def measure(
    command: list[str], *, env: dict[str, str], log: Path, cwd: Path
) -> tuple[Measured, str]:
    """Run ``command`` to its end, polling the memory of its whole process tree.

    Every POLL_SECONDS: the sum of RSS over the process and its descendants, and each one's
    VmHWM (the kernel's exact peak RSS of that process so far). The peak is the larger of the
    largest sum and the largest VmHWM, so a spike shorter than the poll interval in one process
    still counts. (ru_maxrss from wait4 would not do: Linux carries the parent's peak RSS over
    fork and exec into the child's.)
    """
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        tree = psutil.Process(process.pid)
        summed = high_water = 0
        while process.poll() is None:
            rss, hwm = _tree_memory(tree)
            summed, high_water = max(summed, rss), max(high_water, hwm)
            if time.perf_counter() - started > TIMEOUT_SECONDS:
                process.kill()
                raise RuntimeError(f"timed out after {TIMEOUT_SECONDS} s: {' '.join(command)}")
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
    output = log.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"exit {process.returncode}: {' '.join(command)}\n{output[-2000:]}")
    peak = max(summed, high_water)
    return Measured(seconds, peak / 2**20, summed / 2**20, high_water / 2**20), output


def _tree_memory(process: psutil.Process) -> tuple[int, int]:
    """Bytes of RSS summed over a process tree now, and the largest VmHWM in it."""
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    total = high_water = 0
    for member in members:
        # A member may end between listing and reading: it then counts no more.
        with contextlib.suppress(psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
            total += member.memory_info().rss
            status = Path(f"/proc/{member.pid}/status").read_text()
            found = re.search(r"^VmHWM:\s*(\d+) kB", status, re.M)
            high_water = max(high_water, int(found[1]) * 1024 if found else 0)
    return total, high_water


def generate(size: Size, lake: Path, seed: int) -> float:
    """Write the size's landing zone; returns the seconds it took."""
    from ops_pipeline.sample.generator import write_sample_lake

    started = time.perf_counter()
    write_sample_lake(
        lake,
        seed=seed,
        survey_respondents=size.respondents,
        survey_variables=size.variables,
        idebank_rows=size.idebank_rows,
    )
    return time.perf_counter() - started


def lake_volume(lake: Path) -> dict:
    """Respondents, answer variables and Idébank rows as written, and each survey file's bytes:
    ASCII, Latin-1 range, or with bytes 0x80-0x9F (which the pipeline copies to UTF-8)."""
    import duckdb
    import fastexcel

    con = duckdb.connect()
    respondents = variables = 0
    encodings = {}
    for dataset in sorted(lake.glob("landing/survey/*/dataset.csv")):
        with dataset.open("rb") as fh:
            header = fh.readline().decode("cp1252").rstrip("\r\n").split(";")
            respondents += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
        variables = sum(
            1 for c in header if c not in NOT_ANSWERS and not c.startswith(STATUS_PREFIX)
        )
        for path in sorted(dataset.parent.glob("*.csv")):
            data = path.read_bytes()
            encodings[path.name] = (
                "ASCII"
                if data.isascii()
                else "Windows-1252 with bytes 0x80-0x9F"
                if re.search(rb"[\x80-\x9f]", data)
                else "Windows-1252 in the Latin-1 range"
            )
    idebank = 0
    for extract in sorted(lake.glob("landing/idebank/*/*.csv")):
        idebank += con.execute(
            "SELECT count(*) FROM read_csv(?, delim=';', quote='\"', escape='\"', header=true, "
            "all_varchar=true)",
            [str(extract)],
        ).fetchone()[0]
    for workbook in sorted(lake.glob("landing/idebank/*/*.xlsx")):
        idebank += fastexcel.read_excel(workbook).load_sheet(0).height
    return {
        "respondents": respondents,
        "variables": variables,
        "cells": respondents * variables,
        "idebank_rows": idebank,
        "dataset_mb": sum(p.stat().st_size for p in lake.glob("landing/survey/*/dataset.csv"))
        / 2**20,
        "encodings": encodings,
    }


def clean(lake: Path) -> None:
    """Remove everything the pipeline wrote: each measurement starts from the landing zone."""
    for path in lake.iterdir():
        if path.name != "landing":
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def publications(lake: Path) -> tuple[list[str], str | None]:
    """The publications in LAKE/history/ (temporary folders are hidden) and where
    LAKE/current points."""
    history = lake / "history"
    found = history.iterdir() if history.is_dir() else ()
    entries = sorted(p.name for p in found if not p.name.startswith("."))
    current = lake / "current"
    return entries, os.readlink(current) if current.is_symlink() else None


def measure_size(
    lake: Path, env: dict[str, str], logs: Path, label: str, code: Path
) -> dict[str, Measured]:
    run = [str(BIN / "ops-pipeline"), "run", "--lake", str(lake)]
    # In this order: run and run_unchanged on one lake; the refresh reference beside the
    # warehouse they published (without its own database), then compared with it; the ingest
    # steps each from landing/ alone.
    commands = {
        "run": run,
        "run_unchanged": run,
        "refresh_reference": [
            *(sys.executable, str(STEPS), "refresh-reference", str(lake)),
            *("--code", str(code)),
        ],
        "ingest": [sys.executable, str(STEPS), "ingest", str(lake)],
        "reference": [sys.executable, str(STEPS), "reference", str(lake)],
    }
    results = {}
    for name, command in commands.items():
        if name in ("run", "ingest", "reference"):
            clean(lake)
        if name == "refresh_reference":
            for own in (lake / DATABASE, lake / SCRATCH):
                shutil.rmtree(own) if own.is_dir() else own.unlink(missing_ok=True)
        before = publications(lake) if name == "run_unchanged" else None
        measured, output = measure(command, env=env, log=logs / f"{label}-{name}.log", cwd=code)
        if name == "run_unchanged":
            after = publications(lake)
            measured.history_before, measured.history_after = len(before[0]), len(after[0])
            measured.new_publication = after != before
        elif name == "refresh_reference":
            reported = json.loads(output.strip().splitlines()[-1])
            measured.internal_seconds = reported["seconds"]
            measured.phases = reported["phases"]
            try:
                measured.marts_equal = compare(lake, code)
            except MartMismatch as exc:
                raise RuntimeError(
                    f"{label}: the refresh reference's marts differ from the published "
                    f"warehouse's: {exc}"
                ) from None
        elif name != "run":
            reported = json.loads(output.strip().splitlines()[-1])
            measured.step_seconds = reported["seconds"]
            measured.answers = reported["answers"]
            measured.utf8_copies = reported["utf8_copies"]
        results[name] = measured
        extra = ""
        if measured.internal_seconds is not None:
            extra = (
                f" ({measured.internal_seconds:.2f} s inside; "
                f"{len(measured.marts_equal)} marts equal to the warehouse's)"
            )
        elif measured.new_publication is not None:
            extra = f" (new publication: {'yes' if measured.new_publication else 'no'})"
        print(
            f"  {name}: {measured.seconds:.2f} s, peak {measured.peak_mb:.0f} MB{extra}",
            file=sys.stderr,
            flush=True,
        )
    clean(lake)
    if results["ingest"].answers != results["reference"].answers:
        raise RuntimeError(
            f"{label}: the pipeline staged {results['ingest'].answers} answers, the reference "
            f"{results['reference'].answers}: the reference is not the same ingest"
        )
    return results


def median_of(runs: list[dict[str, Measured]]) -> dict[str, Measured]:
    """Per measurement, the repetition of median time (its memory with it)."""
    chosen = {}
    for name in MEASUREMENTS:
        ordered = sorted((r[name] for r in runs), key=lambda m: m.seconds)
        chosen[name] = ordered[(len(ordered) - 1) // 2]
    return chosen


def measure_load(env: dict[str, str], logs: Path, repeat: int, code: Path) -> dict[str, dict]:
    """Seconds to load the code location, median of ``repeat`` tries each."""
    commands = {
        "dagster definitions validate": [
            str(BIN / "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        "import ops_pipeline.definitions": [
            sys.executable,
            "-c",
            "import ops_pipeline.definitions",
        ],
    }
    loads = {}
    for name, command in commands.items():
        tries = [
            measure(command, env=env, log=logs / f"load-{i}.log", cwd=code)[0]
            for i in range(repeat)
        ]
        loads[name] = {
            "seconds": statistics.median(m.process_seconds for m in tries),
            "all_seconds": [m.process_seconds for m in tries],
            "peak_mb": max(m.peak_mb for m in tries),
        }
        print(f"  {name}: {loads[name]['seconds']:.2f} s", file=sys.stderr, flush=True)
    return loads


def machine(code: Path) -> dict:
    import dagster
    import duckdb

    meminfo = Path("/proc/meminfo").read_text()
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    if code != REPO:  # a copy of some version of the code: the caller knows which
        commit = f"code of {code}"
        dirty = ""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": int(re.search(r"MemTotal:\s*(\d+)", meminfo)[1]) / 2**20,
        "cpu": model[1].strip() if model else platform.processor(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dagster": dagster.__version__,
        "commit": commit + (" with uncommitted changes" if dirty else ""),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=parse_size,
        default=[parse_size(s) for s in DEFAULT_SIZES],
        help="'sample' or RESPONDENTSxVARIABLES[:IDEBANK_ROWS] (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--repeat", type=int, default=3, help="tries per measurement (median)")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--work", type=Path, help="folder for the temporary lakes (default: TMP)")
    parser.add_argument(
        "--code",
        type=Path,
        default=REPO,
        help="measure the ops_pipeline code in this folder, e.g. a `git archive` export of a "
        "commit (default: this checkout); lakes are generated by this checkout's generator",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    code = args.code.resolve()

    with tempfile.TemporaryDirectory(prefix="ops-bench-", dir=args.work) as tmp:
        work = Path(tmp)
        logs = work / "logs"
        logs.mkdir()
        home = work / "dagster_home"
        home.mkdir()
        shutil.copy(code / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
        env = {**os.environ, "DAGSTER_HOME": str(home)}
        env.pop("OPS_DATA_LAKE", None)
        if code != REPO:  # ahead of the checkout's editable install
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
        results = {"machine": machine(code), "repeat": args.repeat, "sizes": [], "load": {}}

        # Warm-up, untimed: the instance's SQLite files exist and the OS caches the packages,
        # as on a machine that has run the pipeline before.
        warm = work / "warm-up"
        generate(Size("sample"), warm, args.seed)
        measure(
            [str(BIN / "ops-pipeline"), "run", "--lake", str(warm)],
            env=env,
            log=logs / "w",
            cwd=code,
        )
        results["load"] = measure_load({**env, "OPS_DATA_LAKE": str(warm)}, logs, args.repeat, code)
        shutil.rmtree(warm)

        for size in args.sizes:
            lake = work / "lake"
            print(f"{size.label}: generating", file=sys.stderr, flush=True)
            generated = generate(size, lake, args.seed)
            volume = lake_volume(lake)
            runs = [measure_size(lake, env, logs, size.label, code) for _ in range(args.repeat)]
            results["sizes"].append(
                {
                    "label": size.label,
                    "employee": size.respondents is not None,
                    "generate_seconds": generated,
                    **volume,
                    "measured": {k: asdict(v) for k, v in median_of(runs).items()},
                    "all_seconds": {k: [r[k].seconds for r in runs] for k in MEASUREMENTS},
                    "refresh_reference_internal_seconds": [
                        r["refresh_reference"].internal_seconds for r in runs
                    ],
                    "unchanged_new_publication": [r["run_unchanged"].new_publication for r in runs],
                }
            )
            shutil.rmtree(lake)
            (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")

    write_report(results, args.out)
    print(f"Wrote {args.out / 'results.md'} and {args.out / 'benchmark.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
