"""Fuzz test of the readers: mutated real fixtures and small lakes either read or raise a
LandingError naming the file; never another exception, a crash, a hang or memory past 2 GB.

Every example is built in this process (hypothesis, pinned; ``derandomize=True``,
``database=None``: the same examples on every run) and read in a child process forked from a
fork server: one interpreter, started once per test session, that has imported DuckDB, fastexcel,
pyarrow and the readers and has no connection open and no other thread (see ``_server_env``).
Each child runs one reader on a fresh connection (``limit_duckdb`` applied, as the pipeline does);
the next child is forked and connected ahead, while the test builds its example (DuckDB takes
~50 ms to open, about half of a small example's time). Each child runs under

- a wall-clock watchdog (``OPS_FUZZ_TIMEOUT`` seconds, default 60): killed past it = "hang";
- ``RLIMIT_AS`` of 4 GiB: a good read reserves up to ~2.1 GB of address space (mimalloc's 1 GiB
  arena behind fastexcel/pyarrow, DuckDB's buffers) while touching ~110 MB, so 4 GiB lets every
  good file read and stops a runaway allocation before it can hurt the machine;
- resident memory above 2 GB = "memory": the fork server looks at the child's RSS every 0.1 s
  (``/proc/PID/statm``) and kills it past 2 GB, and checks its peak (``wait4``'s ``ru_maxrss``)
  when it ends; an out-of-memory error anywhere in the chain of a LandingError is "memory" too
  (inputs are at most ~13 MB, or 64 MiB of xlsx padding: no reader should need the limit);
- ``RLIMIT_FSIZE`` of 2 GiB and no core dumps.

A child killed by a signal (a native abort or segfault) is a "crash", its stderr shown.

Options (environment variables):

- ``OPS_FUZZ_EXAMPLES``: examples per test (default 500, as in CI). ``OPS_FUZZ_EXAMPLES=5000
  pytest -m fuzz`` for a longer search.
- ``OPS_FUZZ_TIMEOUT``: the watchdog, seconds (default 60).
- ``OPS_FUZZ_REPORT=path``: append every failure (test, plan, outcome) to ``path`` as JSON lines
  and let the example pass, so one run lists all failures instead of stopping (and shrinking) at
  the first.
- ``OPS_FUZZ_LOG=path``: append every example's outcome, time, peak RSS and plan (JSON lines).

Run: ``.venv/bin/python -m pytest -m fuzz tests/test_fuzz.py`` (the regressions at the end are
plain tests of the cases fuzzing found, each fixed in its reader).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import pickle
import re
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TESTS = Path(__file__).parent
EXAMPLES = int(os.environ.get("OPS_FUZZ_EXAMPLES", "500"))
TIMEOUT = float(os.environ.get("OPS_FUZZ_TIMEOUT", "60"))
REPORT = os.environ.get("OPS_FUZZ_REPORT")
LOG = os.environ.get("OPS_FUZZ_LOG")
ADDRESS_SPACE = 4 << 30
MAX_RSS = 2 * 1000**3  # "2 GB"
MAX_FILE = 2 << 30
MIB = 1 << 20
BUDGET_YEAR = 2021

FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)

# ---------------------------------------------------------------------------------------------
# The fork server and its children
# ---------------------------------------------------------------------------------------------


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    # No thread but the main one at fork time: numpy's OpenBLAS pool and the jemalloc background
    # thread pyarrow starts on import are the only ones the imports create.
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["JE_ARROW_MALLOC_CONF"] = "background_thread:false"
    return env


def serve() -> None:
    """The fork server's loop: one pickled request on stdin, one pickled outcome on stdout.

    One child is always forked ahead (a spare): it opens its DuckDB connection (~50 ms) while the
    test builds the next example, so a request waits only for the read itself. The spare is
    forked once the previous child is gone, so it inherits none of that child's pipes.
    """
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    import duckdb  # noqa: F401  (imported once here, inherited by every child)
    import fastexcel  # noqa: F401
    import pyarrow  # noqa: F401

    import ops_pipeline.readers.folk1a  # noqa: F401
    import ops_pipeline.readers.idebank  # noqa: F401
    import ops_pipeline.readers.surveyxact  # noqa: F401
    import ops_pipeline.readers.text  # noqa: F401

    threads = len(os.listdir("/proc/self/task"))
    pickle.dump({"threads": threads}, out)
    out.flush()
    stdin = sys.stdin.buffer
    spare = _fork_spare()
    try:
        while True:
            try:
                request = pickle.load(stdin)
            except EOFError:
                return
            outcome = _run_child(spare, request)
            pickle.dump(outcome, out)
            out.flush()
            spare = _fork_spare()
    finally:
        with contextlib.suppress(OSError):
            os.kill(spare[0], signal.SIGKILL)
            os.waitpid(spare[0], 0)


def _fork_spare() -> tuple[int, int, int]:
    """A child waiting for one request: (pid, request pipe to write, outcome pipe to read)."""
    request_read, request_write = os.pipe()
    outcome_read, outcome_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(request_write)
        os.close(outcome_read)
        _child(request_read, outcome_write)
    os.close(request_read)
    os.close(outcome_write)
    return pid, request_write, outcome_read


def _child(request_read: int, outcome_write: int) -> None:
    """In the child: limits, a fresh connection, then one request read and its outcome sent."""
    con = early = None
    try:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE, MAX_FILE))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        import duckdb

        con = duckdb.connect()  # as the pipeline's: duckdb.connect(), limit_duckdb(...) below
    except BaseException as exc:  # noqa: B036  (reported with the request's outcome)
        early = exc
    try:
        with os.fdopen(request_read, "rb") as fh:
            request = pickle.load(fh)
        stderr_path = Path(request["folder"]) / "child-stderr.txt"
        fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        if early is not None:
            raise early
        result = _read(request, con)
    except BaseException as exc:  # noqa: B036  (everything is reported to the parent)
        result = {
            "kind": "exception",
            "type": type(exc).__name__,
            "message": str(exc)[:2000],
            "traceback": traceback.format_exc()[-8000:],
        }
    result["vm_peak"] = _vm_peak()
    try:
        data = pickle.dumps(result)
    except Exception as exc:
        data = pickle.dumps(
            {"kind": "exception", "type": "PicklingError", "message": repr(exc), "traceback": ""}
        )
    view = memoryview(data)
    while view:
        view = view[os.write(outcome_write, view) :]
    # No con.close(): the process ends here (its temp files go with the example's folder).
    os._exit(0)


def _run_child(spare: tuple[int, int, int], request: dict) -> dict:
    """Hand ``request`` to the spare child and watch it: wall clock, resident memory, exit."""
    pid, request_write, read_end = spare
    stderr_path = Path(request["folder"]) / "child-stderr.txt"
    started = time.monotonic()
    with contextlib.suppress(BrokenPipeError):  # a child that died early: judged by its exit
        view = memoryview(pickle.dumps(request))
        while view:
            view = view[os.write(request_write, view) :]
    os.close(request_write)
    chunks = []
    timeout = request.get("timeout", TIMEOUT)
    deadline = started + timeout
    hung = swollen = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            hung = True
            os.kill(pid, signal.SIGKILL)
            break
        if _resident(pid) > MAX_RSS:  # stopped at once, not left to grow to the AS limit
            swollen = True
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([read_end], [], [], min(left, _POLL))
        if ready:
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read_end)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.monotonic() - started
    peak = usage.ru_maxrss * 1024
    stderr = (
        stderr_path.read_bytes()[-4000:].decode("utf-8", "replace") if stderr_path.exists() else ""
    )
    if hung:
        outcome = {"kind": "hang", "timeout": timeout}
    elif swollen:
        outcome = {"kind": "memory"}
    elif os.WIFSIGNALED(status):
        outcome = {"kind": "crash", "signal": signal.Signals(os.WTERMSIG(status)).name}
    elif os.WEXITSTATUS(status) != 0 or not chunks:
        outcome = {"kind": "crash", "exit": os.WEXITSTATUS(status)}
    else:
        outcome = pickle.loads(b"".join(chunks))
    outcome.update(peak_rss=peak, seconds=round(elapsed, 3), stderr=stderr)
    return outcome


_POLL = 0.1  # seconds between looks at a child's resident memory
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _resident(pid: int) -> int:
    """A running child's resident memory in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _vm_peak() -> int:
    """This process's peak address space in bytes (what RLIMIT_AS bounds)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024
    return 0


def _read(request: dict, con) -> dict:
    """In the child: run one reader on the child's fresh connection, limited as the pipeline
    limits it."""
    from ops_pipeline.readers.errors import LandingError
    from ops_pipeline.readers.folk1a import read_folk1a
    from ops_pipeline.readers.idebank import read_idebank
    from ops_pipeline.readers.surveyxact import read_surveyxact
    from ops_pipeline.readers.text import limit_duckdb

    if request["reader"].startswith("selftest-"):
        return _selftest(request["reader"])
    files = [Path(f) for f in request["files"]]
    scratch = Path(request["folder"]) / "scratch"
    limit_duckdb(con, scratch / "duckdb_tmp")
    try:
        if request["reader"] == "surveyxact":
            read_surveyxact(con, files, scratch)
        elif request["reader"] == "idebank":
            read_idebank(con, files, request.get("budget_year", BUDGET_YEAR), scratch)
        else:
            read_folk1a(con, files, scratch)
    except LandingError as exc:
        chain, cause = [], exc
        while cause is not None:
            chain.append(f"{type(cause).__name__}: {str(cause)[:300]}")
            cause = cause.__cause__ or cause.__context__
        return {"kind": "landing", "file": exc.file, "message": str(exc)[:2000], "chain": chain}
    return {"kind": "ok"}


def _selftest(kind: str) -> dict:
    """Misbehaviour on purpose, to show the harness catches each kind."""
    if kind == "selftest-hang":
        time.sleep(3600)
    elif kind == "selftest-abort":
        os.abort()
    elif kind == "selftest-resident":  # 2.5 GB touched: under the address-space limit
        block = b"x" * (2_500 * MIB)
        del block
    elif kind == "selftest-runaway":  # 8 GiB at once: over it
        block = bytearray(8 << 30)
        del block
    return {"kind": "ok"}


class ForkServer:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import test_fuzz; test_fuzz.serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_server_env(),
            cwd=TESTS.parent,
        )
        hello = pickle.load(self.process.stdout)
        assert hello["threads"] == 1, f"the fork server has {hello['threads']} threads"

    def run(self, request: dict) -> dict:
        pickle.dump(request, self.process.stdin)
        self.process.stdin.flush()
        return pickle.load(self.process.stdout)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def server():
    forks = ForkServer()
    yield forks
    forks.close()


@pytest.fixture(scope="module")
def work():
    root = Path(tempfile.mkdtemp(prefix="ops-fuzz-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


_OOM = re.compile(r"out of memory|memoryerror|bad.alloc|memory allocation|cannot allocate", re.I)


def problem(outcome: dict, files: list[Path]) -> str | None:
    """Why an outcome breaks the readers' contract, or None."""
    where = f" ({outcome.get('seconds')} s, peak RSS {outcome.get('peak_rss', 0) // MIB} MiB)"
    stderr = outcome.get("stderr", "").strip()
    tail = f"\nstderr: {stderr[-1500:]}" if stderr else ""
    if outcome["kind"] == "hang":
        return f"hang: killed after {outcome['timeout']} s{where}{tail}"
    if outcome["kind"] == "crash":
        how = outcome.get("signal") or f"exit {outcome.get('exit')}"
        return f"crash: {how}{where}{tail}"
    if outcome["kind"] == "memory" or outcome.get("peak_rss", 0) > MAX_RSS:
        return f"memory: peak RSS over 2 GB{where}"
    if outcome["kind"] == "exception":
        return f"{outcome['type']}: {outcome['message']}{where}\n{outcome['traceback']}"
    if outcome["kind"] == "landing":
        if any(_OOM.search(link) for link in outcome["chain"]):
            return f"memory: {' <- '.join(outcome['chain'])}{where}"
        names = [str(f) for f in files] + [str(f.parent) for f in files]
        if not any(outcome["file"].startswith(name) for name in names):
            return f"LandingError names {outcome['file']!r}, not a file read: {outcome['message']}"
    return None


def check(server, reader: str, folder: Path, files: list[Path], plan=None, **extra) -> dict:
    outcome = server.run(
        {"reader": reader, "folder": str(folder), "files": [str(f) for f in files], **extra}
    )
    found = problem(outcome, files)
    if LOG and plan is not None:
        with open(LOG, "a", encoding="utf-8") as fh:
            size = sum(f.stat().st_size for f in files if f.exists())
            record = {
                "reader": reader,
                "kind": outcome["kind"],
                "seconds": outcome["seconds"],
                "peak_mib": outcome["peak_rss"] // MIB,
                "vm_peak_mib": outcome.get("vm_peak", 0) // MIB,
                "bytes": size,
                "plan": repr(plan)[:500],
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    if found and REPORT and plan is not None:
        with open(REPORT, "a", encoding="utf-8") as fh:
            record = {"reader": reader, "plan": repr(plan), "problem": found[:3000]}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return outcome
    assert found is None, found
    return outcome


# ---------------------------------------------------------------------------------------------
# Base material: the real fixture and the small lakes, built once
# ---------------------------------------------------------------------------------------------

# How each base text file was written: encoding as in ``encode`` and delimiter.
SURVEY_FLAVOURS = {
    "semicolon-ansi": ("cp1252", ";"),
    "comma-ansi": ("cp1252", ","),
    "tab-utf16": ("utf-16-le-bom", "\t"),
}
SURVEY_FILES = ("dataset.csv", "labels.csv", "structure.csv")


@cache
def bases() -> dict:
    import lakes

    root = Path(tempfile.mkdtemp(prefix="ops-fuzz-bases-"))
    found: dict = {
        "survey_csv": {},
        "survey_xlsx": {},
        "idebank_csv": {},
        "idebank_xlsx": {},
        "folk1a": {},
    }
    structure, labels, dataset = lakes.read_fixture()
    for flavour, (encoding, delim) in SURVEY_FLAVOURS.items():
        for name in ("fixture", "small"):
            folder = root / f"{name}-{flavour}"
            if name == "fixture" and flavour == "semicolon-ansi":
                shutil.copytree(lakes.FIXTURE, folder)  # the real bytes, untouched
            elif name == "fixture":
                lakes.write_surveyxact(folder, structure, labels, dataset, flavour)
            else:
                lakes.small_survey(folder, flavour)
            found["survey_csv"][f"{name}-{flavour}"] = {
                f: ((folder / f).read_bytes(), encoding, delim) for f in SURVEY_FILES
            }
    path = lakes.write_surveyxact(root / "fx", structure, labels, dataset, "xlsx", split_rows=400)
    found["survey_xlsx"]["fixture-split"] = path.read_bytes()
    found["survey_xlsx"]["small"] = lakes.small_survey(root / "sx", "xlsx").read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        path = lakes.write_idebank_csv(
            root / f"ib-{encoding}.csv", BUDGET_YEAR, lakes.SMALL_IDEBANK, encoding=encoding
        )
        found["idebank_csv"][encoding] = (path.read_bytes(), encoding, ";")
    # "text": the CSV rows, every cell a string (numbers typed as text, plain not Danish; no
    # leading "=", which openpyxl would write as a formula without a cached value).
    text = [
        [
            c.replace(".", "").replace(",", ".") if 8 <= k <= 11 else c.lstrip("=")
            for k, c in enumerate(row)
        ]
        for row in lakes.SMALL_IDEBANK
    ]
    for name, rows in (("typed", lakes.SMALL_IDEBANK_XLSX), ("text", text)):
        path = lakes.write_idebank_xlsx(root / f"ib-{name}.xlsx", BUDGET_YEAR, rows)
        found["idebank_xlsx"][name] = path.read_bytes()
    two = {**lakes.SMALL_POPULATION, "2021K2": {101: 100_100}}
    for name, quarters in (("one-quarter", lakes.SMALL_POPULATION), ("two-quarters", two)):
        path = lakes.write_folk1a(root / f"{name}.csv", quarters)
        found["folk1a"][name] = (path.read_bytes(), "utf-8-sig", ";")
    shutil.rmtree(root, ignore_errors=True)
    return found


# ---------------------------------------------------------------------------------------------
# Mutations: plans drawn by hypothesis, applied to the base bytes
# ---------------------------------------------------------------------------------------------

ENCODINGS = (
    "utf-8",
    "utf-8-sig",
    "cp1252",
    "latin-1",
    "utf-16-le-bom",
    "utf-16-le",
    "utf-16-be-bom",
    "utf-32",
)
DELIMITERS = (";", ",", "\t", "|", " ")
TERMINATORS = ("\r\n", "\n", "\r")
# Cells past the 10 MiB record limit, but rarely (a 12 MiB example takes seconds, not 0.1 s).
INFLATE = (100, 4096, 70_000, MIB) * 3 + (10 * MIB + 1, 12 * MIB)
VALUES = (
    "",
    " ",
    '"',
    '""',
    '"x',
    "\n",
    "\r\n",
    "\r",
    ";",
    ",",
    "\t",
    "\x00",
    "\x1a",
    "-" + "9" * 30,
    "9" * 400,
    "1e400",
    "-1e-400",
    "NaN",
    "inf",
    "-0",
    "+5",
    "1.2.3",
    "-1.250,5",
    "1.000.000.000.000.000.000,5",
    "12,3,4",
    "0x10",
    "Ja",
    " nej ",
    "JA",
    "2021K5",
    "99999K1",
    "æøå€“”",
    "\ufeff",
    "\u2028",
    "questionName",
    "=SUM(A1)",
    "Effekt 2024",
    "ID",
    "OMRÅDE",
)


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-le-bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le", "replace")
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be", "replace")
    return text.encode(encoding, "replace")


def decode(data: bytes, encoding: str) -> str:
    codec = {"utf-16-le-bom": "utf-16", "utf-16-be-bom": "utf-16"}.get(encoding, encoding)
    return data.decode(codec)


index = st.integers(min_value=0, max_value=1 << 20)
# Row and column operations on the parsed table.
row_op = st.one_of(
    st.tuples(st.just("drop_row"), index),
    st.tuples(st.just("dup_row"), index),
    st.tuples(st.just("swap_rows"), index, index),
    st.tuples(st.just("keep_rows"), st.integers(0, 3)),
    st.tuples(st.just("drop_col"), index),
    st.tuples(st.just("dup_col"), index),
    st.tuples(st.just("swap_cols"), index, index),
    st.tuples(st.just("short_row"), index, st.integers(1, 5)),
    st.tuples(st.just("long_row"), index, st.sampled_from(VALUES)),
    st.tuples(st.just("set_cell"), index, index, st.sampled_from(VALUES)),
    st.tuples(st.just("set_cell"), st.just(0), index, st.sampled_from(VALUES)),  # the header
    st.tuples(
        st.just("inflate"), index, index, st.sampled_from(INFLATE), st.sampled_from(["x", "x\n"])
    ),
    st.tuples(st.just("blank_lines"), st.integers(1, 3)),
)
byte_op = st.one_of(
    st.tuples(st.just("truncate"), index),
    st.tuples(st.just("flip"), index, st.integers(1, 255)),
    st.tuples(
        st.just("insert"),
        index,
        st.one_of(
            st.binary(min_size=1, max_size=8),
            st.sampled_from(
                [
                    b"\x00",
                    b'"',
                    b"\r",
                    b"\n",
                    b"\xff\xfe",
                    b"\xef\xbb\xbf",
                    b"\x81",
                    b"\x8d",
                    b"\xc3",
                    b"\xed\xa0\x80",
                ]
            ),
        ),
    ),
    st.tuples(st.just("delete"), index, st.integers(1, 64)),
    st.tuples(st.just("dup_span"), index, st.integers(1, 256)),
    st.tuples(st.just("drop_line"), index),
    st.tuples(st.just("dup_line"), index),
    st.tuples(st.just("swap_lines"), index, index),
)
text_plan = st.fixed_dictionaries(
    {
        "rows": st.lists(row_op, max_size=3),
        "delimiter": st.none() | st.sampled_from(DELIMITERS),
        "terminator": st.none() | st.sampled_from(TERMINATORS),
        "quote_all": st.booleans(),
        "encoding": st.none() | st.sampled_from(ENCODINGS),
        "bytes": st.lists(byte_op, max_size=3),
    }
)


def apply_rows(rows: list[list[str]], ops) -> list[list[str]]:
    rows = [list(r) for r in rows]
    for op in ops:
        kind, *args = op
        n = len(rows)
        width = max((len(r) for r in rows), default=0)
        if kind == "drop_row" and n:
            del rows[args[0] % n]
        elif kind == "dup_row" and n:
            i = args[0] % n
            rows.insert(i, list(rows[i]))
        elif kind == "swap_rows" and n:
            i, j = args[0] % n, args[1] % n
            rows[i], rows[j] = rows[j], rows[i]
        elif kind == "keep_rows":
            rows = rows[: args[0]]
        elif kind in ("drop_col", "dup_col", "swap_cols") and width:
            c = args[0] % width
            for r in rows:
                if kind == "drop_col" and c < len(r):
                    del r[c]
                elif kind == "dup_col" and c < len(r):
                    r.insert(c, r[c])
                elif kind == "swap_cols":
                    d = args[1] % width
                    if c < len(r) and d < len(r):
                        r[c], r[d] = r[d], r[c]
        elif kind == "short_row" and n:
            r = rows[args[0] % n]
            del r[max(0, len(r) - args[1]) :]
        elif kind == "long_row" and n:
            rows[args[0] % n].append(args[1])
        elif kind in ("set_cell", "inflate") and n:
            r = rows[args[0] % n]
            if r:
                c = args[1] % len(r)
                if kind == "set_cell":
                    r[c] = args[2]
                else:
                    size, unit = args[2], args[3]
                    r[c] = (unit * (size // len(unit) + 1))[:size]
        elif kind == "blank_lines":
            rows += [[] for _ in range(args[0])]
    return rows


def _line_at(data: bytes, offset: int) -> tuple[int, int]:
    """The line holding byte ``offset`` as (start, end), its line break (CRLF, LF or CR)
    included: found from the offset, not by splitting the file (an inflated cell of 6 million
    lines is split in seconds, and a line is picked in every other example)."""
    if 0 < offset < len(data) and data[offset - 1 : offset + 1] == b"\r\n":
        offset -= 1
    start = max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset)) + 1
    ends = [e for e in (data.find(b"\n", offset), data.find(b"\r", offset)) if e >= 0]
    if not ends:
        return start, len(data)
    end = min(ends)
    return start, end + (2 if data[end : end + 2] == b"\r\n" else 1)


def apply_bytes(data: bytes, ops) -> bytes:
    for op in ops:
        kind, *args = op
        n = len(data)
        if kind == "truncate":
            data = data[: args[0] % (n + 1)]
        elif kind == "flip" and n:
            i = args[0] % n
            data = data[:i] + bytes([data[i] ^ args[1]]) + data[i + 1 :]
        elif kind == "insert":
            i = args[0] % (n + 1)
            data = data[:i] + args[1] + data[i:]
        elif kind == "delete" and n:
            i = args[0] % n
            data = data[:i] + data[i + args[1] :]
        elif kind == "dup_span" and n:
            i = args[0] % n
            data = data[: i + args[1]] + data[i : i + args[1]] + data[i + args[1] :]
        elif kind in ("drop_line", "dup_line", "swap_lines") and n:
            # The line at a byte offset (a long line is picked more often than a short one).
            start, end = _line_at(data, args[0] % n)
            if kind == "drop_line":
                data = data[:start] + data[end:]
            elif kind == "dup_line":
                data = data[:end] + data[start:end] + data[end:]
            else:
                other = _line_at(data, args[1] % n)
                (a, b), (c, d) = sorted([(start, end), other])
                if (a, b) != (c, d):
                    data = data[:a] + data[c:d] + data[b:c] + data[a:b] + data[d:]
    return data


def mutate_text(base: tuple[bytes, str, str], plan: dict) -> bytes:
    data, encoding, delim = base
    reserialize = plan["rows"] or plan["delimiter"] or plan["terminator"] or plan["quote_all"]
    if reserialize:
        rows = list(csv.reader(io.StringIO(decode(data, encoding), newline=""), delimiter=delim))
        rows = apply_rows(rows, plan["rows"])
        buffer = io.StringIO()
        csv.writer(
            buffer,
            delimiter=plan["delimiter"] or delim,
            lineterminator=plan["terminator"] or "\r\n",
            quoting=csv.QUOTE_ALL if plan["quote_all"] else csv.QUOTE_MINIMAL,
        ).writerows(rows)
        data = encode(buffer.getvalue(), plan["encoding"] or encoding)
    elif plan["encoding"]:
        data = encode(decode(data, encoding), plan["encoding"])
    return apply_bytes(data, plan["bytes"])


# xlsx: operations on the zip's members (sheet XML above all), then on the zip's bytes.
SHEET_NAMES = (
    "Dataset",
    "Dataset(1)",
    "Dataset(2)",
    "Dataset(0)",
    "Dataset(-1)",
    "Dataset(99999999999999999999)",
    "Labels",
    "Structure",
    "Idébank",
    "idébank",
    "Idébank ",
    "Sheet1",
    "x" * 31,
)
DIMENSIONS = (
    "A1:XFD1048576",
    "A1048576:XFD1048576",
    "XFD1:XFD1048576",
    "A1:A1",
    "Z9:A1",
    "A1:XFD1048577",
    "A0:B0",
    "A1:ZZZZ99999999",
    "",
    "garbage",
)
FORMULAS = ("SUM(A1:A3)", "1/0", "A1", "NOW()", 'CONCAT("a","b")', "", "INDIRECT(A1)")
CELL_VARIANTS = (
    '<c r="{r}" t="s"><v>99999</v></c>',
    '<c r="{r}" t="s"><v>-1</v></c>',
    '<c r="{r}" t="n"><v>abc</v></c>',
    '<c r="{r}" t="n"><v>1e400</v></c>',
    '<c r="{r}" t="n"><v>-0</v></c>',
    '<c r="{r}" t="n"><v>123456789012345678901234567890</v></c>',
    '<c r="{r}" t="b"><v>2</v></c>',
    '<c r="{r}" t="e"><v>#N/A</v></c>',
    '<c r="{r}" t="d"><v>not-a-date</v></c>',
    '<c r="{r}" s="999"><v>44000</v></c>',
    '<c r="XFD1048576"><v>1</v></c>',
    '<c r="A0"><v>1</v></c>',
    "<c><v>1</v></c>",
    '<c r="{r}" t="inlineStr"><is><t>&#0;</t></is></c>',
    '<c r="{r}" t="inlineStr"><is><t>a</t><t>b</t></is></c>',
    '<c r="{r}" t="inlineStr"><is><r><t>rich</t></r><r><t> text</t></r></is></c>',
    '<c r="{r}" t="inlineStr"/>',
    '<c r="{r}" t="str"><f>A1</f><v></v></c>',
    '<c r="{r}" t="bogus"><v>1</v></c>',
)
xlsx_member_op = st.one_of(
    st.tuples(st.just("member_bytes"), index, st.lists(byte_op, min_size=1, max_size=3)),
    st.tuples(st.just("dimension"), index, st.sampled_from(DIMENSIONS)),
    st.tuples(st.just("formula"), index, index, st.sampled_from(FORMULAS), st.booleans()),
    st.tuples(st.just("cell"), index, index, st.sampled_from(CELL_VARIANTS)),
    st.tuples(st.just("inflate"), index, index, st.sampled_from(INFLATE)),
    st.tuples(st.just("drop_row"), index, index),
    st.tuples(st.just("dup_row"), index, index),
    st.tuples(
        st.just("row_number"),
        index,
        index,
        st.sampled_from(["0", "1", "1048576", "1048577", "4294967296", "-1", "x"]),
    ),
    st.tuples(st.just("drop_cell"), index, index),
    st.tuples(st.just("drop_member"), index),
    st.tuples(st.just("dup_member"), index),
    st.tuples(st.just("rename_sheet"), index, st.sampled_from(SHEET_NAMES)),
    st.tuples(st.just("padding"), index, st.sampled_from([MIB] * 3 + [64 * MIB])),
)
zip_op = st.one_of(
    byte_op,
    st.tuples(
        st.just("central"),
        index,
        st.sampled_from([8, 10, 16, 20, 24, 28, 30, 42]),
        st.sampled_from([0, 1, 0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF]),
    ),
    st.tuples(
        st.just("end"),
        st.sampled_from([8, 10, 12, 16, 20]),
        st.sampled_from([0, 1, 0xFFFF, 0xFFFFFFFF]),
    ),
)
xlsx_plan = st.fixed_dictionaries(
    {
        "shared_strings": st.booleans(),
        "members": st.lists(xlsx_member_op, max_size=3),
        "stored": st.booleans(),
        "zip": st.lists(zip_op, max_size=2),
    }
)


def _sheets(members: list[list]) -> list[int]:
    return [i for i, (name, _) in enumerate(members) if name.startswith("xl/worksheets/")]


def _to_shared_strings(members: list[list]) -> None:
    """Inline strings as shared strings, as Excel writes them."""
    strings: dict[str, int] = {}

    def shared(match: re.Match) -> str:
        index_ = strings.setdefault(match.group(3), len(strings))
        return f'<c r="{match.group(1)}"{match.group(2)} t="s"><v>{index_}</v></c>'

    pattern = re.compile(
        r'<c r="([A-Z]+\d+)"([^>]*?) t="inlineStr"><is><t>(.*?)</t></is></c>', re.S
    )
    for member in members:
        if member[0].startswith("xl/worksheets/"):
            member[1] = pattern.sub(shared, member[1].decode("utf-8")).encode("utf-8")
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    )
    members.append(["xl/sharedStrings.xml", sst.encode("utf-8")])
    for member in members:
        if member[0] == "xl/_rels/workbook.xml.rels":
            member[1] = member[1].replace(
                b"</Relationships>",
                b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument'
                b'/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
            )
        elif member[0] == "[Content_Types].xml":
            member[1] = member[1].replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            )


_CELL = re.compile(rb"<c\b[^>]*?(?:/>|>.*?</c>)", re.S)
_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)


def _pick(pattern: re.Pattern, data: bytes, i: int) -> re.Match | None:
    found = list(pattern.finditer(data))
    return found[i % len(found)] if found else None


def _replace(data: bytes, match: re.Match | None, new: bytes) -> bytes:
    return data if match is None else data[: match.start()] + new + data[match.end() :]


def _cell_ref(cell: bytes) -> str:
    found = re.search(rb'\br="([^"]*)"', cell)
    return found.group(1).decode() if found else "A1"


def apply_member(members: list[list], op) -> None:
    kind, *args = op
    sheets = _sheets(members)
    if kind in ("drop_member", "dup_member", "member_bytes"):
        i = args[0] % len(members)
        if kind == "drop_member":
            del members[i]
        elif kind == "dup_member":
            members.insert(i + 1, list(members[i]))
        else:
            members[i][1] = apply_bytes(members[i][1], args[1])
        return
    if kind == "rename_sheet":
        for member in members:
            if member[0] == "xl/workbook.xml":
                names = list(re.finditer(rb'<sheet [^>]*?name="([^"]*)"', member[1]))
                if names:
                    m = names[args[0] % len(names)]
                    name = args[1].replace("&", "&amp;").encode("utf-8")
                    member[1] = member[1][: m.start(1)] + name + member[1][m.end(1) :]
        return
    if not sheets:
        return
    sheet = members[sheets[args[0] % len(sheets)]]
    data = sheet[1]
    if kind == "dimension":
        new = f'<dimension ref="{args[1]}" />'.encode()
        if re.search(rb"<dimension [^>]*/>", data):
            data = re.sub(rb"<dimension [^>]*/>", new, data, count=1)
        else:
            data = data.replace(b"<sheetViews>", new + b"<sheetViews>", 1)
    elif kind in ("formula", "cell", "inflate", "drop_cell"):
        cell = _pick(_CELL, data, args[1])
        ref = _cell_ref(cell.group()) if cell else "A1"
        if kind == "formula":
            t = ' t="str"' if args[3] else ""
            new = f'<c r="{ref}"{t}><f>{args[2]}</f></c>'.encode()
        elif kind == "cell":
            new = args[2].format(r=ref).encode()
        elif kind == "inflate":
            new = f'<c r="{ref}" t="inlineStr"><is><t>'.encode() + b"x" * args[2] + b"</t></is></c>"
        else:
            new = b""
        data = _replace(data, cell, new)
    elif kind in ("drop_row", "dup_row", "row_number"):
        row = _pick(_ROW, data, args[1])
        if row is not None:
            if kind == "drop_row":
                new = b""
            elif kind == "dup_row":
                new = row.group() * 2
            else:
                new = re.sub(rb'^<row r="[^"]*"', f'<row r="{args[2]}"'.encode(), row.group())
            data = _replace(data, row, new)
    elif kind == "padding":
        data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * args[1], 1)
    sheet[1] = data


def _patch(data: bytes, offset: int, width: int, value: int) -> bytes:
    if offset + width > len(data):
        return data
    packed = struct.pack(
        "<H" if width == 2 else "<I", value & (0xFFFF if width == 2 else 0xFFFFFFFF)
    )
    return data[:offset] + packed + data[offset + width :]


# Widths of the fields at those offsets in a central directory record / the end record.
_CENTRAL_WIDTH = {8: 2, 10: 2, 16: 4, 20: 4, 24: 4, 28: 2, 30: 2, 42: 4}
_END_WIDTH = {8: 2, 10: 2, 12: 4, 16: 4, 20: 2}


def apply_zip(data: bytes, ops) -> bytes:
    for op in ops:
        kind, *args = op
        if kind == "central":
            records = [m.start() for m in re.finditer(rb"PK\x01\x02", data)]
            if records:
                start = records[args[0] % len(records)]
                data = _patch(data, start + args[1], _CENTRAL_WIDTH[args[1]], args[2])
        elif kind == "end":
            start = data.rfind(b"PK\x05\x06")
            if start >= 0:
                data = _patch(data, start + args[0], _END_WIDTH[args[0]], args[1])
        else:
            data = apply_bytes(data, [op])
    return data


def mutate_xlsx(base: bytes, plan: dict) -> bytes:
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        members = [[info.filename, archive.read(info)] for info in archive.infolist()]
    if plan["shared_strings"]:
        _to_shared_strings(members)
    for op in plan["members"]:
        if members:
            apply_member(members, op)
    buffer = io.BytesIO()
    method = zipfile.ZIP_STORED if plan["stored"] else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", method, compresslevel=1) as archive:  # a zip per example
        for name, payload in members:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # duplicate names warn: that is dup_member's point
                archive.writestr(name, payload)
    return apply_zip(buffer.getvalue(), plan["zip"])


def example_folder(work: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=work))


# ---------------------------------------------------------------------------------------------
# The fuzz tests: one per reader form
# ---------------------------------------------------------------------------------------------

survey_csv_plan = st.fixed_dictionaries(
    {
        # The small export five times as often as the real one: the same code paths, faster (and
        # first, so a failure shrinks towards it). Names only: bases() is built on first use,
        # not when the module is imported (by collection and by the fork server).
        "base": st.sampled_from(
            [f"small-{f}" for _ in range(5) for f in SURVEY_FLAVOURS]
            + [f"fixture-{f}" for f in SURVEY_FLAVOURS]
        ),
        "files": st.dictionaries(st.sampled_from(SURVEY_FILES), text_plan, min_size=1, max_size=3),
        # The whole export in another delimiter or encoding (one that may well be accepted).
        "all_delimiter": st.none() | st.sampled_from(DELIMITERS),
        "all_encoding": st.none() | st.sampled_from(ENCODINGS),
    }
)


def write_survey_csv(folder: Path, plan: dict) -> list[Path]:
    """The three files in ``folder/survey`` (not ``folder``: the reader's scratch is
    ``folder/scratch``, and an error naming a scratch copy must not pass for one naming the
    export's folder)."""
    base = bases()["survey_csv"][plan["base"]]
    folder = folder / "survey"
    folder.mkdir()
    files = []
    for name in SURVEY_FILES:
        file_plan = dict(
            plan["files"].get(name)
            or {
                "rows": [],
                "delimiter": None,
                "terminator": None,
                "quote_all": False,
                "encoding": None,
                "bytes": [],
            }
        )
        file_plan["delimiter"] = file_plan["delimiter"] or plan["all_delimiter"]
        file_plan["encoding"] = file_plan["encoding"] or plan["all_encoding"]
        path = folder / name
        path.write_bytes(mutate_text(base[name], file_plan))
        files.append(path)
    return files


@pytest.mark.fuzz
@FUZZ
@given(plan=survey_csv_plan)
def test_fuzz_surveyxact_csv(server, work, plan):
    folder = example_folder(work)
    try:
        check(server, "surveyxact", folder, write_survey_csv(folder, plan), plan)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


survey_xlsx_plan = st.fixed_dictionaries(
    {"base": st.sampled_from(["fixture-split", "small", "small", "small"]), "xlsx": xlsx_plan}
)


@pytest.mark.fuzz
@FUZZ
@given(plan=survey_xlsx_plan)
def test_fuzz_surveyxact_xlsx(server, work, plan):
    folder = example_folder(work)
    try:
        path = folder / "survey" / "export.xlsx"
        path.parent.mkdir()
        path.write_bytes(mutate_xlsx(bases()["survey_xlsx"][plan["base"]], plan["xlsx"]))
        check(server, "surveyxact", folder, [path], plan)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.fuzz
@FUZZ
@given(base=st.sampled_from(["utf-8-sig", "cp1252"]), text=text_plan)
def test_fuzz_idebank_csv(server, work, base, text):
    folder = example_folder(work)
    try:
        path = folder / "2021" / "extract.csv"
        path.parent.mkdir()
        path.write_bytes(mutate_text(bases()["idebank_csv"][base], text))
        check(server, "idebank", folder, [path], (base, text))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.fuzz
@FUZZ
@given(base=st.sampled_from(["typed", "text"]), xlsx=xlsx_plan)
def test_fuzz_idebank_xlsx(server, work, base, xlsx):
    folder = example_folder(work)
    try:
        path = folder / "2021" / "extract.xlsx"
        path.parent.mkdir()
        path.write_bytes(mutate_xlsx(bases()["idebank_xlsx"][base], xlsx))
        check(server, "idebank", folder, [path], (base, xlsx))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.fuzz
@FUZZ
@given(base=st.sampled_from(["one-quarter", "two-quarters"]), text=text_plan)
def test_fuzz_folk1a(server, work, base, text):
    folder = example_folder(work)
    try:
        path = folder / "population" / "folk1a.csv"
        path.parent.mkdir()
        path.write_bytes(mutate_text(bases()["folk1a"][base], text))
        check(server, "folk1a", folder, [path], (base, text))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The harness itself: good files read, a runaway is caught
# ---------------------------------------------------------------------------------------------


def test_harness_reads_the_good_bases(server, work):
    """Every unmutated base reads, well inside the limits (so the limits reject nothing good)."""
    empty = {
        "rows": [],
        "delimiter": None,
        "terminator": None,
        "quote_all": False,
        "encoding": None,
        "bytes": [],
    }
    peaks = {}
    for name in bases()["survey_csv"]:
        folder = example_folder(work)
        plan = {"base": name, "files": {}, "all_delimiter": None, "all_encoding": None}
        outcome = check(server, "surveyxact", folder, write_survey_csv(folder, plan))
        assert outcome["kind"] == "ok", outcome
        peaks[f"survey {name}"] = outcome["peak_rss"]
    for name, base in bases()["survey_xlsx"].items():
        folder = example_folder(work)
        path = folder / "survey" / "export.xlsx"
        path.parent.mkdir()
        path.write_bytes(
            mutate_xlsx(
                base, {"shared_strings": name == "small", "members": [], "stored": False, "zip": []}
            )
        )
        assert check(server, "surveyxact", folder, [path])["kind"] == "ok"
    for kind, reader, suffix in (
        ("idebank_csv", "idebank", "csv"),
        ("idebank_xlsx", "idebank", "xlsx"),
        ("folk1a", "folk1a", "csv"),
    ):
        for name, base in bases()[kind].items():
            folder = example_folder(work)
            path = folder / "lake" / f"x.{suffix}"
            path.parent.mkdir()
            path.write_bytes(mutate_text(base, empty) if suffix == "csv" else base)
            outcome = check(server, reader, folder, [path])
            assert outcome["kind"] == "ok", outcome
            peaks[f"{kind} {name}"] = outcome["peak_rss"]
    assert max(peaks.values()) < 512 * MIB, peaks


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("selftest-hang", "hang"),
        ("selftest-abort", "crash: SIGABRT"),
        ("selftest-resident", "memory: peak RSS over 2 GB"),
        ("selftest-runaway", "MemoryError"),
    ],
)
def test_harness_catches_misbehaviour(server, work, kind, expected):
    folder = example_folder(work)
    outcome = server.run(
        {
            "reader": kind,
            "folder": str(folder),
            "files": [],
            "timeout": 3 if kind == "selftest-hang" else 60,
        }
    )
    assert (problem(outcome, []) or "").startswith(expected), outcome


# ---------------------------------------------------------------------------------------------
# Regressions: cases fuzzing found, each fixed in its reader
# ---------------------------------------------------------------------------------------------
#
# Every case below was found against the readers as committed (HEAD ca2ba33) and is fixed in the
# working tree (ops_pipeline/readers/xlsx.py, the overflow checks), so they are plain tests: each
# builds its bytes with the plan fuzzing found (shrunk by hand) and must read or raise a
# LandingError naming the file.

NO_TEXT_CHANGE = {
    "rows": [],
    "delimiter": None,
    "terminator": None,
    "quote_all": False,
    "encoding": None,
    "bytes": [],
}


def _xlsx(members=(), zip_ops=(), shared_strings=False):
    return {
        "shared_strings": shared_strings,
        "members": list(members),
        "stored": False,
        "zip": list(zip_ops),
    }


def _flip_sheet_data(data: bytes) -> bytes:
    """The deflated sheet XML's first block of reserved type (0b11): a corrupt deflate stream."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    return data[:start] + b"\xff" + data[start + 1 :]


IDEBANK_XLSX_REGRESSIONS = {
    # CalamineError "Range is missing the expected row component": a <row r="0">.
    "row number 0": ("typed", _xlsx([("row_number", 0, 0, "0")], shared_strings=True)),
    # CalamineError "Worksheet 'Idébank' not found": workbook.xml lists a sheet with no member.
    "sheet member missing": ("typed", _xlsx([("drop_member", 3)])),
    # CalamineError "Cell string index not found in shared strings table".
    "shared string index out of range": (
        "typed",
        _xlsx([("cell", 0, 20, '<c r="{r}" t="s"><v>99999</v></c>')], shared_strings=True),
    ),
    # CalamineError "invalid character reference: 0x0".
    "NUL character reference": (
        "typed",
        _xlsx([("cell", 0, 20, '<c r="{r}" t="inlineStr"><is><t>&#0;</t></is></c>')]),
    ),
    # duckdb ConversionException: 1.23e29 cast to INTEGER (Kommunenr is cell B2).
    "Kommunenr past INTEGER": (
        "typed",
        _xlsx([("cell", 0, 15, '<c r="{r}" t="n"><v>123456789012345678901234567890</v></c>')]),
    ),
}


@pytest.mark.parametrize("case", sorted(IDEBANK_XLSX_REGRESSIONS))
def test_regression_idebank_xlsx(server, work, case):
    base, plan = IDEBANK_XLSX_REGRESSIONS[case]
    folder = example_folder(work)
    path = folder / "2021" / "extract.xlsx"
    path.parent.mkdir()
    path.write_bytes(mutate_xlsx(bases()["idebank_xlsx"][base], plan))
    check(server, "idebank", folder, [path])


def test_regression_idebank_xlsx_corrupt_deflate_stream(server, work):
    # CalamineError "corrupt deflate stream" / "Invalid checksum" from load_sheet.
    folder = example_folder(work)
    path = folder / "2021" / "extract.xlsx"
    path.parent.mkdir()
    path.write_bytes(_flip_sheet_data(mutate_xlsx(bases()["idebank_xlsx"]["typed"], _xlsx())))
    outcome = check(server, "idebank", folder, [path])
    assert outcome["kind"] == "landing", outcome


@pytest.mark.parametrize(
    ("reader", "base", "cell", "value"),
    [
        # DuckDB ConversionException casting to INTEGER / BIGINT; inf in a DOUBLE effect.
        ("idebank", "utf-8-sig", (1, 1), "9" * 400),
        ("idebank", "utf-8-sig", (1, 11), "9" * 400),
        ("folk1a", "one-quarter", (1, 2), "9" * 30),
    ],
)
def test_regression_number_overflow(server, work, reader, base, cell, value):
    plan = {**NO_TEXT_CHANGE, "rows": [("set_cell", *cell, value)]}
    folder = example_folder(work)
    path = folder / "x" / ("extract.csv" if reader == "idebank" else "folk1a.csv")
    path.parent.mkdir()
    kind = "idebank_csv" if reader == "idebank" else "folk1a"
    path.write_bytes(mutate_text(bases()[kind][base], plan))
    outcome = check(server, reader, folder, [path])
    assert outcome["kind"] == "landing", outcome


def test_regression_idebank_utf16_be_many_quoted_lines(server, work):
    plan = {
        **NO_TEXT_CHANGE,
        "encoding": "utf-16-be-bom",
        "quote_all": True,
        "terminator": "\n",
        "rows": [("inflate", 1, 5, 70_000, "x\n")],
    }
    folder = example_folder(work)
    path = folder / "2021" / "extract.csv"
    path.parent.mkdir()
    path.write_bytes(mutate_text(bases()["idebank_csv"]["cp1252"], plan))
    outcome = check(server, "idebank", folder, [path])
    # Found by fuzzing: read as Windows-1252 (a NUL before every byte), this 142 KB file took
    # ~17 s and 0.6 GB before its error, growing with the lines. UTF-16-BE is refused at once.
    assert outcome["kind"] == "landing", outcome
    assert "encoding is utf-16-be, expected utf-8 or cp1252" in outcome["message"], outcome
