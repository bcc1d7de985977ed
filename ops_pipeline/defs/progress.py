"""The ``progress`` logger: hands a run's step events to :mod:`ops_pipeline.progress`, which
shows them on the terminal of ``ops-pipeline run``. Configured only by the command line; runs
from the UI, the schedule and the sensor log as Dagster's default console logger does."""

import logging

import dagster as dg

from ops_pipeline import progress

_EVENTS = {"STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


class _StepEvents(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        shown = progress.active()
        if shown is None or event is None or event.event_type_value not in _EVENTS:
            return
        if event.event_type_value == "STEP_START":
            shown.step_started(event.step_key)
        else:
            shown.step_done(event.step_key)


@dg.logger(description="Step progress on the terminal of `ops-pipeline run`.")
def progress_logger(_init_context) -> logging.Logger:
    logger = logging.getLogger("ops_pipeline.progress")
    logger.handlers = [_StepEvents()]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger


LOGGERS = {"console": dg.colored_console_logger, "progress": progress_logger}
