"""The client matrix: DuckDB 1.x clients read the warehouse the pipeline publishes (storage v1.0.0)
while a refresh runs, and see exactly what the pipeline's own duckdb 2.0.1 sees.

The clients are built under ``.clients/`` by ``scripts/clients/duckdb`` (``scripts/setup
--dev``): Python duckdb 1.0.0, Python duckdb 1.4.x (the LTS line) and Node's @duckdb/node-api
1.4.x. Each runs a reader of ``tests/clients/`` (``read_marts.py``, ``read_marts.mjs``) that
lists the marts and prints every row of every mart as canonical JSON.

One refresh serves every client: it is held (``OPS_FAULT_PAUSE``, ``ops_pipeline/faults.py``)
where its new warehouse is complete but not yet switched in; each client opens the published
warehouse then and reads it; the refresh goes on and must succeed while the clients still hold
the file open; they read again through the same connection (the old publication, unchanged);
then each client reads the new publication in a new session.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from lakes import write_idebank_csv
from publications import mart_names, start_cli

pytestmark = pytest.mark.bi

REPO = Path(__file__).parents[1]
CLIENTS = REPO / ".clients"
READERS = Path(__file__).parent / "clients"
sys.path.insert(0, str(READERS))  # read_marts.py: the reference read, in this process

import read_marts  # noqa: E402

TIMEOUT = 120  # seconds for a client's read (they take about one)


def _pinned(name: str) -> str:
    """A version pinned in scripts/clients/duckdb."""
    script = (REPO / "scripts" / "clients" / "duckdb").read_text()
    return re.search(rf"^{name}=(\S+)$", script, re.MULTILINE).group(1)


def _node_api() -> str:
    package = json.loads((READERS / "node" / "package.json").read_text())
    return package["dependencies"]["@duckdb/node-api"]


@dataclass
class Client:
    name: str
    command: list[str]
    client: str  # the version it reports
    engine: str
    env: dict = field(default_factory=dict)

    def missing(self) -> str | None:
        executable = shutil.which(self.command[0])
        if executable is None:
            return f"{self.command[0]} not found"
        if self.name == "node" and not (CLIENTS / "node/node_modules/@duckdb/node-api").is_dir():
            return f"{CLIENTS / 'node'} has no @duckdb/node-api"
        return None


def _clients() -> dict[str, Client]:
    oldest, lts, node = _pinned("DUCKDB_OLDEST"), _pinned("DUCKDB_LTS"), _node_api()
    return {
        client.name: client
        for client in [
            Client(
                f"duckdb-{oldest}",
                [str(CLIENTS / f"duckdb-{oldest}/bin/python"), str(READERS / "read_marts.py")],
                f"python duckdb {oldest}",
                f"v{oldest}",
            ),
            Client(
                "duckdb-1.4",
                [str(CLIENTS / "duckdb-1.4/bin/python"), str(READERS / "read_marts.py")],
                f"python duckdb {lts}",
                f"v{lts}",
            ),
            Client(
                "node",
                ["node", str(READERS / "read_marts.mjs")],
                f"node @duckdb/node-api {node}",
                "v" + node.split("-")[0],
                {"DUCKDB_NODE_CLIENT": str(CLIENTS / "node")},
            ),
        ]
    }


CLIENT_NAMES = list(_clients())

# A proposal more: the refresh publishes different marts from those the clients first read.
P9 = ["P9", "751", "Aarhus", "2021", "Velfærdsteknologi", "", "Ældre"]
P9 += ["Digitalisering og teknologi", "0", "0", "-20", "-40", "Ja", "Nej"]


def reference(warehouse: Path) -> dict:
    """What the pipeline's own duckdb 2.0.1 reads of a warehouse, through the same JSON."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return json.loads(read_marts.read_json(con))


# Canonical values, by the column types the pipeline's duckdb reports: JSON does not tell a
# double 3.0 from an integer 3 (Node writes 3), and Python's == does not tell 0.0 from -0.0 nor
# a bool from an int. Doubles become their repr, which names one double exactly.
INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT"}
INTEGERS |= {"UINTEGER", "UBIGINT", "UHUGEINT"}
NON_FINITE = {"NaN", "Infinity", "-Infinity"}


def canonical(value, type_: str, where: str):
    if value is None:
        return None
    if type_.endswith("[]"):
        assert isinstance(value, list), f"{where}: {value!r} is no list"
        return [canonical(v, type_[:-2], where) for v in value]
    if type_ == "BOOLEAN":
        assert isinstance(value, bool), f"{where}: {value!r} is no boolean"
    elif type_ in INTEGERS:
        assert type(value) is int, f"{where}: {value!r} is no integer"
    elif type_ in ("DOUBLE", "FLOAT"):
        assert type(value) in (int, float) or value in NON_FINITE, f"{where}: {value!r}"
        return repr(float(value))
    elif type_ == "VARCHAR":
        assert isinstance(value, str), f"{where}: {value!r} is no string"
    else:
        raise AssertionError(f"{where}: no canonical form for type {type_} (add it here)")
    return value


def canonical_marts(read: dict, types: dict[str, list[str]]) -> dict:
    """The marts of a reader's JSON, every value in canonical form (the types of ``types``)."""
    marts = {}
    for mart, table in read["marts"].items():
        assert table["types"] == types[mart], f"{mart}: the client's column types differ"
        rows = []
        for n, row in enumerate(table["rows"]):
            assert len(row) == len(types[mart]), f"{mart} row {n}: {row}"
            rows.append(
                [
                    canonical(value, t, f"{mart} row {n} {column}")
                    for value, t, column in zip(row, types[mart], table["columns"], strict=True)
                ]
            )
        marts[mart] = {"columns": table["columns"], "types": table["types"], "rows": rows}
    return marts


def assert_reads_alike(read: dict, expected: dict, when: str) -> None:
    """A client's read equals the reference read, value for value; the first difference named."""
    types = {mart: table["types"] for mart, table in expected["marts"].items()}
    assert read["tables"] == expected["tables"], f"{when}: the marts listed"
    assert list(read["marts"]) == list(expected["marts"]), f"{when}: the marts read"
    got, want = canonical_marts(read, types), canonical_marts(expected, types)
    for mart, table in want.items():
        assert got[mart]["columns"] == table["columns"], f"{when}: columns of {mart}"
        assert len(got[mart]["rows"]) == len(table["rows"]), f"{when}: rows of {mart}"
        for n, (row, expected_row) in enumerate(zip(got[mart]["rows"], table["rows"], strict=True)):
            assert row == expected_row, f"{when}: {mart} row {n} (doubles as repr)"
    assert got == want


def _missing(name: str) -> None:
    """Skip locally, fail in CI, when a client is not built."""
    why = _clients()[name].missing()
    if why is None:
        return
    message = f"client {name} is not built ({why}): run scripts/setup --dev"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _read_line(process: subprocess.Popen, what: str, deadline: float) -> str:
    """The next line a client writes, or an error with its standard error."""
    while True:
        if select.select([process.stdout], [], [], 0.5)[0]:
            line = process.stdout.readline()
            if line:
                return line
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(
                f"{what}: no output (exit {process.wait()}): {process.stderr.read()[-3000:]}"
            )


def _wait_paused(run: subprocess.Popen, fifo: Path) -> str:
    """The line a run writes into its pipe when it reaches its ``OPS_FAULT_PAUSE`` point."""
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # never blocks; the pipe always has a writer
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 1.0)[0]:
                return os.read(fd, 4096).decode().strip()
            if run.poll() is not None:
                raise AssertionError(f"the run ended (exit {run.returncode}) before its pause")
        raise AssertionError("the run did not reach its pause in 10 minutes")
    finally:
        os.close(fd)


@dataclass
class Matrix:
    lake: Path
    old_marts: list[str]
    new_marts: list[str]
    old: dict  # the reference read of the publication the clients opened
    new: dict  # and of the refresh's publication
    refresh: int  # the refresh's exit code
    refresh_err: str
    during: dict[str, dict]  # per client: its read while the refresh was held
    held: dict[str, dict]  # its second read, same connection, after the refresh
    after: dict[str, dict]  # its read of the new publication, new session


@pytest.fixture(scope="module")
def matrix(published_lake, dagster_home, tmp_path_factory) -> Matrix:
    """One refresh, every built client reading across it (see the module's docstring)."""
    tmp = tmp_path_factory.mktemp("clients")
    lake = tmp / "lake"
    shutil.copytree(published_lake, lake, symlinks=True)
    warehouse = lake / "warehouse.duckdb"
    opened = warehouse.resolve()  # the publication's own file, kept by history
    write_idebank_csv(lake / "landing" / "idebank" / "2021" / "late.csv", 2021, [P9])
    clients = {n: c for n, c in _clients().items() if c.missing() is None}

    fifo = tmp / "pause"
    os.mkfifo(fifo)
    pause = {"OPS_FAULT_PAUSE": "before_rename", "OPS_FAULT_PAUSE_FIFO": str(fifo)}
    run = start_cli(dagster_home, tmp / "run", "run", "--lake", str(lake), env=pause)
    readers: dict[str, subprocess.Popen] = {}
    during, held = {}, {}
    try:
        assert _wait_paused(run, fifo) == f"paused at before_rename {run.pid}"
        # The new warehouse is written, not switched in: the clients open the published one.
        for name, client in clients.items():
            readers[name] = subprocess.Popen(
                [*client.command, str(warehouse), "--hold"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, **client.env},
                cwd=tmp,
            )
        deadline = time.monotonic() + TIMEOUT
        for name, reader in readers.items():
            during[name] = json.loads(_read_line(reader, f"{name} during the refresh", deadline))
        # The refresh goes on while every client holds the old warehouse open.
        run.communicate("go\n", timeout=600)
        deadline = time.monotonic() + TIMEOUT
        for name, reader in readers.items():
            reader.stdin.write("again\n")
            reader.stdin.flush()
            held[name] = json.loads(_read_line(reader, f"{name} after the refresh", deadline))
            reader.stdin.close()
            assert reader.wait(timeout=TIMEOUT) == 0, reader.stderr.read()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        for reader in readers.values():
            if reader.poll() is None:
                reader.kill()
                reader.wait()
            for pipe in (reader.stdin, reader.stdout, reader.stderr):
                if not pipe.closed:
                    pipe.close()

    after = {}
    if run.returncode == 0:
        for name, client in clients.items():
            done = subprocess.run(
                [*client.command, str(warehouse)],
                capture_output=True,
                text=True,
                env={**os.environ, **client.env},
                cwd=tmp,
                timeout=TIMEOUT,
            )
            assert done.returncode == 0, f"{name}: {done.stderr[-3000:]}"
            after[name] = json.loads(done.stdout)
    return Matrix(
        lake=lake,
        old_marts=mart_names(opened),
        new_marts=mart_names(warehouse),
        old=reference(opened),
        new=reference(warehouse),
        refresh=run.returncode,
        refresh_err=(tmp / "run.err").read_text(),
        during=during,
        held=held,
        after=after,
    )


@pytest.mark.parametrize("name", CLIENT_NAMES)
def test_a_client_reads_the_warehouse_during_a_refresh(request, name):
    _missing(name)  # before the refresh: a client skipped here costs none
    matrix = request.getfixturevalue("matrix")
    client = _clients()[name]
    # A reader holding the published warehouse open does not block the publisher.
    assert matrix.refresh == 0, matrix.refresh_err[-3000:]
    assert matrix.old_marts and matrix.old_marts == matrix.new_marts

    for when, read in [
        ("while the refresh was held", matrix.during[name]),
        ("same session, after the refresh", matrix.held[name]),
    ]:
        assert (read["client"], read["engine"]) == (client.client, client.engine), when
        assert read["tables"] == matrix.old_marts, when
        assert_reads_alike(read, matrix.old, f"{name} {when}")

    # A new session reads the new publication, as exactly.
    assert matrix.after[name]["tables"] == matrix.new_marts
    assert_reads_alike(matrix.after[name], matrix.new, f"{name} new session")


def test_the_refresh_published_different_marts(request):
    """The reads compared two publications, not one twice: the refresh added a proposal."""
    if all(client.missing() for client in _clients().values()):
        _missing(CLIENT_NAMES[0])  # no client to compare: no refresh either
    matrix = request.getfixturevalue("matrix")
    assert matrix.refresh == 0, matrix.refresh_err[-3000:]
    old, new = matrix.old["marts"]["proposals"]["rows"], matrix.new["marts"]["proposals"]["rows"]
    assert len(new) == len(old) + 1
    assert [r for r in new if r[1] == "P9"] and not [r for r in old if r[1] == "P9"]
