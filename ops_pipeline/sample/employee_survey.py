"""A workplace survey of all municipal employees as a SurveyXact export, for benchmarks.

Any number of respondents and six-point variables, drawn with numpy (whose pinned version keeps
the bytes stable) and written in chunks, so that a survey at the size of a real one (500,000 ×
100) takes seconds and bounded memory.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ops_pipeline.sample.surveyxact_export import (
    FIRST_RESPONDENT_ID,
    RESPONDENT_ID_STEP,
    STATUS_CHOICES,
    export_csv,
    labels_table,
    status_columns,
    structure_table,
)
from ops_pipeline.sample.vocabulary import EMPLOYEE_ITEMS, EMPLOYEE_QUESTION, EMPLOYEE_SUBJECTS

EMPLOYEE_VARIABLES = 100  # six-point variables when only the number of respondents is given
# Share of each status 1-5: about 78 pct. respond (3 or 4), as in large workplace surveys.
EMPLOYEE_STATUS_SHARES = (0.01, 0.19, 0.08, 0.70, 0.02)
EMPLOYEE_ITEM_BLANK = 0.03  # a respondent leaves an item blank now and then (no forced answers)
# Answer shares of codes 1-6 before a per-variable jitter: most see "høj" or "nogen grad".
EMPLOYEE_CODE_WEIGHTS = (0.20, 0.33, 0.24, 0.12, 0.06, 0.05)
EMPLOYEE_CODE_JITTER = (0.5, 1.5)
# Rows drawn and written at a time: bounds memory, and fixes the draws so that the file does not
# depend on anything but (seed, respondents, variables).
EMPLOYEE_CHUNK_ROWS = 20_000


def write_employee_survey(folder: Path, seed: int, respondents: int, variables: int) -> list[Path]:
    """Write dataset.csv, labels.csv and structure.csv into ``folder``; returns them in order.

    Matrix questions of the vocabulary's items, exported one variable ``q_k`` per item as
    SurveyXact does; no ``kommunekode`` (employees are not one per municipality).
    """
    folder.mkdir(parents=True, exist_ok=True)
    dataset = folder / "dataset.csv"
    _write_dataset(dataset, seed, respondents, variables)
    labels, structure = folder / "labels.csv", folder / "structure.csv"
    labels.write_bytes(export_csv(labels_table(_names(variables))))
    structure.write_bytes(export_csv(_structure(variables)))
    return [dataset, labels, structure]


def _names(variables: int) -> list[str]:
    """The six-point variables ``q_1`` ... ``q_n``, in questionnaire order."""
    return [f"q_{k}" for k in range(1, variables + 1)]


def _text(k: int) -> str:
    """Structure text of six-point variable ``k`` (1-based): an item of a matrix question."""
    subject = EMPLOYEE_SUBJECTS[(k - 1) // len(EMPLOYEE_ITEMS) % len(EMPLOYEE_SUBJECTS)]
    item = EMPLOYEE_ITEMS[(k - 1) % len(EMPLOYEE_ITEMS)]
    return f"{EMPLOYEE_QUESTION.format(subject)} - {item}"


def _structure(variables: int) -> list[list]:
    """structure.csv: the six-point items between the key and the status."""
    items = [
        [name, name, "Closed", "Single", _text(k), "", ""]
        for k, name in enumerate(_names(variables), 1)
    ]
    return structure_table(items)


def _write_dataset(path: Path, seed: int, respondents: int, variables: int) -> None:
    """dataset.csv, written in chunks of EMPLOYEE_CHUNK_ROWS rows.

    Status 1, 2 and 5 leave every item blank, status 3 answers the items up to a random stop,
    status 4 all of them; both skip an item now and then. Each item has its own jittered answer
    distribution. The text is built with numpy as one byte matrix per chunk (a Python loop per
    cell would take minutes at 500,000 × 100): every field has a fixed slot, and slots of blank
    cells and of leading zeros of the key are masked out.
    """
    digest = hashlib.sha256(f"{seed}:employee survey".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:16], "big"))
    weights = np.array(EMPLOYEE_CODE_WEIGHTS) * rng.uniform(
        *EMPLOYEE_CODE_JITTER, size=(variables, len(EMPLOYEE_CODE_WEIGHTS))
    )
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    statuses = len(STATUS_CHOICES)
    fields = variables + statuses  # after the key, each field is ";" and at most one character
    next_id = int(rng.integers(*FIRST_RESPONDENT_ID))
    header = ";".join(["respondentid", *_names(variables), *status_columns()])
    with path.open("wb") as out:
        out.write(f"{header}\r\n".encode("cp1252"))
        for start in range(0, respondents, EMPLOYEE_CHUNK_ROWS):
            n = min(EMPLOYEE_CHUNK_ROWS, respondents - start)
            ids = next_id + np.cumsum(rng.integers(1, RESPONDENT_ID_STEP + 1, size=n))
            next_id = int(ids[-1])
            status = 1 + rng.choice(statuses, size=n, p=EMPLOYEE_STATUS_SHARES)
            stop = np.where(status == 4, variables, 0)
            partial = status == 3
            stop[partial] = rng.integers(1, max(2, variables), size=int(partial.sum()))
            draws = rng.random((n, variables))
            codes = np.empty((n, variables), dtype=np.uint8)
            for k in range(variables):
                codes[:, k] = 1 + np.searchsorted(cumulative[k, :-1], draws[:, k], side="right")
            answered = (np.arange(variables) < stop[:, None]) & (
                rng.random((n, variables)) >= EMPLOYEE_ITEM_BLANK
            )
            flags = status[:, None] == np.arange(1, statuses + 1)

            width = len(str(next_id))
            matrix = np.empty((n, width + 2 * fields + 2), dtype=np.uint8)
            keep = np.ones(matrix.shape, dtype=bool)
            for d in range(width):
                place = 10 ** (width - 1 - d)
                matrix[:, d] = ord("0") + ids // place % 10
                keep[:, d] = (ids >= place) | (d == width - 1)
            cells = matrix[:, width : width + 2 * fields]
            cells[:, 0::2] = ord(";")
            cells[:, 1::2][:, :variables] = ord("0") + codes
            cells[:, 1::2][:, variables:] = ord("0") + flags
            keep[:, width + 1 : width + 2 * variables : 2] = answered
            matrix[:, -2:] = (ord("\r"), ord("\n"))
            out.write(matrix[keep].tobytes())
