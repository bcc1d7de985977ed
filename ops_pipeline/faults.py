"""Test-only fault injection: kill a run at a named point, or hold it there.

The crash tests (``tests/test_publish_safety.py``) need a run to die at an exact step, not after
a guessed delay. Steps call ``fault_point("<name>")``; with no setting it does nothing. Never set
these variables outside tests.

``OPS_FAULT_POINT=<name>``
    The process kills itself with SIGKILL when it reaches that point: no ``finally`` block, no
    ``atexit`` handler, no Dagster failure event runs, as when the machine loses power or the
    kernel's OOM killer strikes.
``OPS_FAULT_PAUSE=<name>`` and ``OPS_FAULT_PAUSE_FIFO=<path of a named pipe>``
    The process writes ``paused at <name>`` and its pid into the pipe, then waits for a line (or
    end of file) on its standard input before going on. A test uses it to hold a run at a known
    point, for instance to start a second run while the first holds the lake's run lock.

The points:

``ingest``
    in a staging step, after the landing files are read and before staged tables are written.
``check``
    in a quality check, after validation and before its result is recorded.
``export``
    in the publish step, halfway through writing the Parquet and CSV exports.
``report``
    in the publish step, once the first annual report of the new publication is written.
``before_rename``
    in the publish step, when the new warehouse, its exports and its reports are complete, before
    they are switched in.
"""

from __future__ import annotations

import os
import signal
import sys

FAULT_POINT_ENV = "OPS_FAULT_POINT"
PAUSE_ENV = "OPS_FAULT_PAUSE"
PAUSE_FIFO_ENV = "OPS_FAULT_PAUSE_FIFO"
POINTS = ("ingest", "check", "export", "report", "before_rename")


def fault_point(name: str) -> None:
    """Kill this process (``OPS_FAULT_POINT``) or hold it (``OPS_FAULT_PAUSE``) at ``name``."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r} (known: {', '.join(POINTS)})")
    if os.environ.get(FAULT_POINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(PAUSE_ENV) == name:
        # A named pipe, not stdout: Dagster captures a step's stdout into its compute logs.
        with open(os.environ[PAUSE_FIFO_ENV], "w", encoding="utf-8") as fifo:
            fifo.write(f"paused at {name} {os.getpid()}\n")
        sys.stdin.readline()
