"""Progress of a refresh on a terminal: one line per stage (staging, checks, marts, publish,
report) as it finishes, with the time since the command started, and a status line rewritten in
place while steps run. Nothing is shown when the output is not a terminal (a cron log or a pipe
gets the command's summary only).

Plain module: the Dagster side feeds it step events (``defs/progress.py``); publishing code marks
its own stages with :func:`mark`. Inactive (every call a no-op) unless :func:`start` was called.
"""

from __future__ import annotations

import time
from typing import TextIO

STAGES = ("staging", "checks", "marts", "publish", "report")
_UNITS = {"staging": "steps", "checks": "suites", "marts": "marts"}


def stage_of(step_key: str) -> str:
    """The stage of a refresh step by its key: ``staged__x``, ``marts__x_x_suite``, ``publish``."""
    if step_key.endswith("_suite"):
        return "checks"
    if step_key.startswith("marts__"):
        return "marts"
    if step_key == "publish":
        return "publish"
    return "staging"


class Progress:
    def __init__(self, stream: TextIO, steps: list[str], started: float) -> None:
        self.stream = stream
        self.started = started
        self.total = {stage: 0 for stage in STAGES}
        for key in steps:
            self.total[stage_of(key)] += 1
        self.done = dict.fromkeys(STAGES, 0)
        self.running: str | None = None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def step_started(self, step_key: str) -> None:
        self.running = step_key
        self._status()

    def step_done(self, step_key: str) -> None:
        stage = stage_of(step_key)
        self.done[stage] += 1
        self.running = None
        if stage in _UNITS and self.done[stage] == self.total[stage]:
            self._line(f"{stage:<8} {self.total[stage]:>3} {_UNITS[stage]:<7}")
        self._status()

    def mark(self, stage: str, what: str) -> None:
        """A stage inside a step finished (publish: warehouse and exports; report)."""
        self._line(f"{stage:<8} {what:<11}")
        self._status()

    def finish(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(f"\r\033[K  {text} {self.elapsed():6.1f} s\n")

    def _status(self) -> None:
        parts = [
            f"{stage} {self.done[stage]}/{self.total[stage]}"
            for stage in ("staging", "checks", "marts")
            if self.total[stage]
        ]
        running = f" · {self.running}" if self.running else ""
        self.stream.write(f"\r\033[K  {' · '.join(parts)} · {self.elapsed():.1f} s{running}")
        self.stream.flush()


_active: Progress | None = None


def start(stream: TextIO, steps: list[str], started: float) -> Progress | None:
    """Show progress on ``stream`` when it is a terminal (else do nothing); returns it."""
    global _active
    _active = Progress(stream, steps, started) if stream.isatty() else None
    return _active


def stop() -> None:
    global _active
    if _active is not None:
        _active.finish()
    _active = None


def active() -> Progress | None:
    return _active


def mark(stage: str, what: str) -> None:
    if _active is not None:
        _active.mark(stage, what)
