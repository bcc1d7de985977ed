"""One run at a time per lake: an exclusive lock on ``<lake>/.run.lock``.

Every run writes the same working database and publishes into the same ``history/``, so two runs
on one lake must not overlap. ``ops-pipeline run`` and ``ops-pipeline restore`` hold the lock for
their whole duration; the publish step takes it as well (it is re-entrant within a process), which
covers runs started from the Dagster UI: those are also queued one at a time by the instance's run
coordinator (``dagster_home/dagster.yaml``).

The lock is ``flock(2)`` on the file: the kernel releases it when the holding process ends, even
by SIGKILL, so a crashed run never leaves a stale lock behind. The file's text only says who holds
it, for the message a waiting run prints. ``flock`` needs the lake on a local file system.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ops_pipeline.lake import Lake

LOCK_FILE = ".run.lock"
# Tags ``ops-pipeline run`` puts on its runs.
LAKE_TAG = "ops_pipeline/lake"
STARTED_BY_TAG = "ops_pipeline/started_by"
_POLL_SECONDS = 0.2
# Locks this process holds: lock path → nesting depth (the CLI holds it around the publish step).
_held: dict[Path, int] = {}


class RunLockBusy(RuntimeError):
    """Another process holds the lake's run lock."""


def lock_path(lake: Lake) -> Path:
    return lake.root / LOCK_FILE


@contextmanager
def run_lock(lake: Lake, wait: float = 0) -> Iterator[None]:
    """Hold the lake's run lock; wait up to ``wait`` seconds for another run to end, then raise
    :class:`RunLockBusy` naming the holder. Re-entrant within one process."""
    path = lock_path(lake)
    if _held.get(path):
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, wait)
        # Who holds it, for the message of a run that finds it taken.
        os.ftruncate(fd, 0)
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()}, started {started}\n".encode(), 0)
        _held[path] = 1
        try:
            yield
        finally:
            del _held[path]
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _acquire(fd: int, path: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise RunLockBusy(_busy_message(path, wait)) from None
            time.sleep(_POLL_SECONDS)


def _busy_message(path: Path, wait: float) -> str:
    holder = path.read_text(encoding="utf-8", errors="replace").strip() or "another process"
    waited = f" (waited {wait:g} s)" if wait else ""
    return (
        f"another ops-pipeline run holds {path} ({holder}){waited}; the published warehouse is "
        "unchanged. Let it finish, or pass --wait SECONDS to queue behind it."
    )
