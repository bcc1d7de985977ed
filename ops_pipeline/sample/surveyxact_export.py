"""What every SurveyXact export of the sample shares: the respondent status, the six-point
scale's labels, respondent ids, the structure header and the file encoding.

The CEO survey and the employee survey differ in their questions only; both end with the
status question ``statoverall``, which SurveyXact exports as one 0/1 flag per choice.
"""

from __future__ import annotations

from ops_pipeline.readers.surveyxact import STRUCTURE_COLUMNS
from ops_pipeline.sample.csv_writer import semicolon_csv
from ops_pipeline.schemas import STATUS_CODES, STATUS_QUESTION

# The structure table's header as SurveyXact writes it (and the reader expects it).
STRUCTURE_HEADER = tuple(STRUCTURE_COLUMNS)
# SurveyXact's Danish texts of the status codes (schemas.STATUS_CODES, in that order).
STATUS_CHOICES = tuple(
    zip(STATUS_CODES, ("Ny", "Distribueret", "Nogen svar", "Gennemført", "Frafaldet"), strict=True)
)
FLAG_LABELS = ((0, "Ikke valgt"), (1, "Valgt"))
SCALE_LABELS = (
    (1, "I meget høj grad"),
    (2, "I høj grad"),
    (3, "I nogen grad"),
    (4, "I mindre grad"),
    (5, "Slet ikke"),
    (6, "Ved ikke"),
)
FIRST_RESPONDENT_ID = (4_000_000, 6_000_000)
RESPONDENT_ID_STEP = 40  # SurveyXact's respondent ids increase with gaps


def status_columns() -> list[str]:
    """The dataset's status flags, its last columns."""
    return [f"stato_{value}" for value, _ in STATUS_CHOICES]


def structure_table(questions: list[list]) -> list[list]:
    """structure.csv: its header, the respondent id (the key of every dataset), the rows of
    ``questions``, then the status question, the last of every questionnaire."""
    rows = [list(STRUCTURE_HEADER)]
    rows.append(["respondentid", "respondentid", "Background", "Number", "Respondent-id", "", ""])
    rows += questions
    rows += [
        [STATUS_QUESTION, f"stato_{value}", "Closed", "Multiple", "Samlet status", value, text]
        for value, text in STATUS_CHOICES
    ]
    return rows


def labels_table(variables: list[str]) -> list[list]:
    """labels.csv (no header): the six-point scale of each variable, and 0/1 of each flag."""
    rows = [[v, code, label] for v in variables for code, label in SCALE_LABELS]
    rows += [[column, flag, label] for column in status_columns() for flag, label in FLAG_LABELS]
    return rows


def export_csv(rows: list[list]) -> bytes:
    """SurveyXact's "EU" CSV: ``;``-separated, Windows-1252, CRLF."""
    return semicolon_csv(rows, "cp1252")
