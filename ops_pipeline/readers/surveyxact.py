"""SurveyXact dataset exports: three tables (Dataset, Labels, Structure) as CSV files or xlsx.

Loads them into TEMP tables on a DuckDB connection, unchanged but for names:

- ``sx_structure(question_name, variable, question_type, sub_type, question_text, choice_value,
  choice_text, _row)``
- ``sx_labels(variable, value, label, _row)``
- ``sx_dataset``: the export's own columns (all VARCHAR), plus ``_file`` (file, and sheet for
  xlsx) and ``_row`` (spreadsheet row number in that file or sheet).

The meaning of the data (status, answers, scales) is read by the staging step, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.csv_load import load_csv
from ops_pipeline.readers.errors import LandingError, reading
from ops_pipeline.readers.text import first_line, for_duckdb, sql_identifier, sql_string
from ops_pipeline.readers.xlsx import open_workbook

CSV_FILES = {"dataset": "dataset.csv", "labels": "labels.csv", "structure": "structure.csv"}
STRUCTURE_COLUMNS = [
    "questionName",
    "variableName",
    "questionType",
    "subType",
    "questionText",
    "choiceValue",
    "choiceText",
]
_STRUCTURE_NAMES = [
    "question_name",
    "variable",
    "question_type",
    "sub_type",
    "question_text",
    "choice_value",
    "choice_text",
]
# CSV flavours by the first line of structure.csv (its header is fixed by SurveyXact).
DELIMITERS = {";": "semicolon", ",": "comma", "\t": "tab"}
_SPLIT_DATASET_SHEET = re.compile(r"^Dataset\((\d+)\)$")


@dataclass(frozen=True)
class SurveyExport:
    """What was read from one survey folder."""

    folder: Path
    files: list[Path]
    form: str  # 'csv-semicolon-cp1252', 'csv-tab-utf-16-le', 'xlsx', …
    dataset_columns: list[str]


def read_surveyxact(
    con, files: list[Path], scratch: Path, corrections: CorrectionSet | None = None
) -> SurveyExport:
    """Load one SurveyXact export into TEMP tables ``sx_*`` of ``con``.

    ``files`` are what the landing gate let through for one survey folder: one ``.xlsx``, or
    ``dataset.csv``, ``labels.csv`` and ``structure.csv`` (names matched case-insensitively).
    ``corrections`` of the dataset are applied to it before anything is checked.
    """
    if len(files) == 1 and files[0].suffix.lower() == ".xlsx":
        with reading(files[0]):
            return _read_xlsx(con, files[0].parent, files[0], corrections)
    by_name = {path.name.lower(): path for path in files}
    csvs = {key: by_name[name] for key, name in CSV_FILES.items() if name in by_name}
    if len(csvs) != len(CSV_FILES) or len(files) != len(CSV_FILES):
        raise ValueError(f"not one SurveyXact export: {', '.join(map(str, files))}")
    with reading(files[0].parent):
        return _read_csv(con, files[0].parent, csvs, scratch, corrections)


def _read_csv(
    con, folder: Path, files: dict[str, Path], scratch: Path, corrections: CorrectionSet | None
) -> SurveyExport:
    allowed = ("utf-8", "utf-16-le", "cp1252")
    texts = {key: for_duckdb(path, scratch, allowed=allowed) for key, path in files.items()}
    header = first_line(texts["structure"])
    delim = next((d for d in DELIMITERS if header.split(d)[:1] == ["questionName"]), None)
    if delim is None:
        raise LandingError(
            files["structure"],
            f"header {header[:80]!r} is not SurveyXact's structure header "
            f"({';'.join(STRUCTURE_COLUMNS)})",
            row=1,
        )

    columns = load_csv(
        con,
        texts["structure"],
        files["structure"],
        table="sx_raw_structure",
        delim=delim,
        header=True,
    )
    _structure_from(con, "sx_raw_structure", columns, files["structure"])
    load_csv(
        con, texts["labels"], files["labels"], table="sx_raw_labels", delim=delim, header=False
    )
    _labels_from(con, "sx_raw_labels", files["labels"])
    con.execute("DROP TABLE IF EXISTS sx_dataset")
    dataset_columns = _trimmed_names(
        con,
        "sx_dataset",
        load_csv(
            con, texts["dataset"], files["dataset"], table="sx_dataset", delim=delim, header=True
        ),
    )
    if corrections:
        corrections.apply(con, "sx_dataset", files["dataset"], dataset_columns)
    # A constant column, added in place: no second copy of a large dataset.
    name = sql_string(files["dataset"].name)
    con.execute(f"ALTER TABLE sx_dataset ADD COLUMN _file VARCHAR DEFAULT {name}")
    _require_rows(con, files["dataset"])
    form = f"csv-{DELIMITERS[delim]}-{texts['dataset'].source_encoding}"
    return SurveyExport(folder, [files[k] for k in CSV_FILES], form, dataset_columns)


def _read_xlsx(con, folder: Path, path: Path, corrections: CorrectionSet | None) -> SurveyExport:
    # Inspected before fastexcel reads it: a workbook that cannot be read safely or right is
    # refused by name (ops_pipeline.readers.xlsx).
    reader = open_workbook(path)
    sheets = reader.sheet_names
    dataset_sheets = ["Dataset"] if "Dataset" in sheets else []
    dataset_sheets += sorted(
        (s for s in sheets if _SPLIT_DATASET_SHEET.match(s)),
        key=lambda s: int(_SPLIT_DATASET_SHEET.match(s).group(1)),
    )
    for needed, present in (
        ("Dataset", dataset_sheets),
        ("Labels", "Labels" in sheets),
        ("Structure", "Structure" in sheets),
    ):
        if not present:
            raise LandingError(path, f"has no sheet {needed!r} (sheets: {', '.join(sheets)})")

    def sheet(name: str, header: bool):
        # Every cell as text, like the CSV forms; blank cells are NULL.
        return reader.read_sheet(name, header=header)

    structure = sheet("Structure", header=True)
    con.register("sx_arrow", structure)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sx_raw_structure AS "
        "SELECT *, (row_number() OVER () + 1)::BIGINT AS _row FROM sx_arrow"
    )
    _structure_from(con, "sx_raw_structure", structure.column_names, f"{path}[Structure]")

    labels = sheet("Labels", header=False)
    con.register("sx_arrow", labels)
    names = labels.column_names
    if len(names) < 3:
        raise LandingError(f"{path}[Labels]", "expected three columns: variable, value, label")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sx_raw_labels AS SELECT "
        + ", ".join(f"{sql_identifier(n)} AS column{i}" for i, n in enumerate(names[:3]))
        + ", (row_number() OVER ())::BIGINT AS _row FROM sx_arrow"
    )
    _labels_from(con, "sx_raw_labels", f"{path}[Labels]")

    # A large dataset is split over Dataset(1), Dataset(2), …: each sheet has the header row.
    columns: list[str] | None = None
    parts = []
    for name in dataset_sheets:
        table = sheet(name, header=True)
        if columns is None:
            columns = table.column_names
        elif table.column_names != columns:
            raise LandingError(
                f"{path}[{name}]", f"header differs from sheet {dataset_sheets[0]!r}", row=1
            )
        parts.append((name, table))
    con.execute("DROP TABLE IF EXISTS sx_dataset")
    for i, (name, table) in enumerate(parts):
        con.register("sx_arrow", table)
        select = (
            f"SELECT *, {sql_string(f'{path.name}[{name}]')} AS _file, "
            "(row_number() OVER () + 1)::BIGINT AS _row FROM sx_arrow"
        )
        con.execute(
            f"CREATE TEMP TABLE sx_dataset AS {select}"
            if i == 0
            else f"INSERT INTO sx_dataset {select}"
        )
    con.unregister("sx_arrow")
    columns = _trimmed_names(con, "sx_dataset", list(columns or []))
    if corrections:
        corrections.apply(con, "sx_dataset", path, columns)
    _require_rows(con, path)
    return SurveyExport(folder, [path], "xlsx", columns)


def _trimmed_names(con, table: str, columns: list[str]) -> list[str]:
    """The dataset's column names as the structure names its variables: trimmed. A padded
    header cell (`` respondentid``, ``s_2_1 ``) would otherwise match no key and no variable and
    its answers be dropped without a word; names that repeat once trimmed are refused when the
    header is read."""
    for name in columns:
        if name.strip() and name != name.strip():
            con.execute(
                f"ALTER TABLE {table} RENAME COLUMN {sql_identifier(name)} "
                f"TO {sql_identifier(name.strip())}"
            )
    return [name.strip() or name for name in columns]


def _structure_from(con, raw: str, columns: list[str], shown_as) -> None:
    missing = [c for c in STRUCTURE_COLUMNS if c not in columns]
    if missing:
        raise LandingError(
            shown_as, f"missing column {missing[0]!r} in the header", row=1, column=missing[0]
        )
    select = ", ".join(
        f"NULLIF(trim({sql_identifier(src)}), '') AS {dst}"
        for src, dst in zip(STRUCTURE_COLUMNS, _STRUCTURE_NAMES, strict=True)
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE sx_structure AS SELECT {select}, _row FROM {raw}")


def _labels_from(con, raw: str, shown_as) -> None:
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sx_labels AS
            SELECT trim(column0) AS variable, trim(column1) AS value, trim(column2) AS label, _row
            FROM {raw} WHERE NULLIF(trim(column0), '') IS NOT NULL"""
    )


def _require_rows(con, shown_as) -> None:
    if con.execute("SELECT count(*) FROM sx_dataset").fetchall()[0][0] == 0:
        raise LandingError(shown_as, "the dataset has a header but no respondents")
