"""The quality worker: a second process that imports Great Expectations and runs the suites'
expectations for the process that reads the data.

Why: importing GX costs about 3 s here, and building its suites and checkpoints another half
second. ``ops-pipeline run`` starts the worker first thing, so on a machine with a second core
that happens while the command imports Dagster, opens the instance and stages the landing files.
A second process cannot open the working DuckDB while the run writes it, so the worker never
reads it: the caller runs each batch's query in DuckDB and sends the rows. Data Docs render in
the worker too, while the publish step writes the warehouse, exports and reports.

Without a worker (runs the UI launches, tests calling :func:`~ops_pipeline.quality.validate`
directly, a process that has imported GX already) the same functions run in the calling process;
a worker that dies is replaced by the calling process for the rest of the run.
"""

from __future__ import annotations

import atexit
import multiprocessing
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


class QualityWorkerError(RuntimeError):
    """An error Great Expectations raised in the worker, with the worker's traceback."""


_connection = None
_process = None
_sent = 0  # requests sent, numbered
_answers: dict[int, tuple[str, Any]] = {}  # answers read, not yet taken by their waiters


def start(
    warm_up: Callable[[Path, int], None],
    docs: Path,
    max_rejected_rows: int,
    *,
    always: bool = False,
) -> bool:
    """Start the worker, which first calls ``warm_up(docs, max_rejected_rows)``; it then serves
    this process until it ends (later runs in the process reuse it). False, and no new worker,
    when one runs, or when this process has imported GX already (a worker would only cost a
    process) unless ``always``."""
    global _connection, _process
    if _process is not None and _process.is_alive():
        return False
    if "great_expectations" in sys.modules and not always:
        return False
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(
        target=_serve,
        args=(child, warm_up, docs, max_rejected_rows),
        daemon=True,
        name="ops-quality",
    )
    process.start()
    child.close()
    _connection, _process = parent, process
    atexit.register(stop)
    return True


def stop() -> None:
    """End the worker (it ends by itself when this process ends)."""
    global _connection, _process
    connection, process = _connection, _process
    _connection = _process = None
    _answers.clear()
    if connection is not None:
        connection.close()
    if process is not None:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


def running() -> bool:
    return _process is not None


def call(function: Callable, *args: Any) -> Any:
    """``function(*args)`` in the worker, or here without one. ``function`` is a module-level
    function (it travels by name), its arguments and result picklable."""
    return begin(function, *args)()


def begin(function: Callable, *args: Any) -> Callable[[], Any]:
    """Start ``function(*args)`` in the worker and return the function that waits for its
    result; without a worker, that function runs it here."""
    global _sent
    if _connection is None:
        return lambda: function(*args)
    _sent += 1
    number, connection = _sent, _connection
    try:
        connection.send((number, function, args))
    except (OSError, EOFError):
        _lost()
        return lambda: function(*args)

    def result() -> Any:
        try:
            while number not in _answers:
                if _connection is not connection:
                    raise EOFError
                answer, status, value = connection.recv()
                _answers[answer] = (status, value)
        except (OSError, EOFError):  # the worker died: carry on here
            _lost()
            return function(*args)
        status, value = _answers.pop(number)
        if status == "error":
            raise QualityWorkerError(value)
        return value

    return result


def _lost() -> None:
    global _connection, _process
    if _process is not None:
        _process.kill()
    _connection = _process = None
    _answers.clear()


def _serve(connection, warm_up: Callable, docs: Path, max_rejected_rows: int) -> None:
    """The worker's loop: warm up, then answer requests until the pipe closes."""
    warm_up(docs, max_rejected_rows)
    while True:
        try:
            number, function, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer = (number, "ok", function(*args))
        except Exception:  # sent back whole: the check fails with GX's own traceback
            answer = (number, "error", traceback.format_exc())
        connection.send(answer)
