"""Corrections: fix a landing row without editing the landing file.

Analysts cannot always get a new export in time. ``<lake>/corrections/*.csv`` (UTF-8, ``;``)
names a source row and a field and gives the corrected value::

    file;key;field;value;reason
    idebank/2021/idebank_2021.csv;ID=IB-2021-00017;Effekt 2024;-1.250;KL confirmed by mail 3/12
    survey/2022/dataset.csv;respondentid=R17;kommunekode;250;typo in the export
    population/folk1a.csv;row=12;INDHOLD;45439;

- ``file``: the landing file, relative to ``landing/``.
- ``key``: ``row=N`` (the row as a spreadsheet shows it, header = row 1) or ``<column>=<value>``
  (e.g. ``ID=…`` for every row of an Idébank proposal, ``respondentid=…`` for a respondent).
- ``field``: the column as the file names it; ``value``: the new cell text, written as the file
  would (Danish numbers in a Danish CSV; empty for a blank cell).

- ``file`` is matched exactly (case-sensitive, ``/`` between folders) against the files the
  landing gate let through; it may name a survey ``dataset.csv`` (or a survey workbook's dataset),
  an Idébank extract or a FOLK1A file. An absolute path, ``..``, ``\\``, any other file or one
  not in the landing zone is an error naming the corrections file and its row.

Corrections files are ``*.csv`` in any case, UTF-8 when the whole file is valid UTF-8 (BOM or
not), else Windows-1252. They are applied after reading and before any check, so the gates judge
corrected data; every applied correction is recorded in the audit, and so is every one skipped
because its file's year is not refreshed by the run. A correction that matches no row, or names a
column the file does not have, is an error.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ops_pipeline.readers.csv_load import MAX_RECORD_BYTES
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.text import check_cp1252, sniff_encoding, sql_identifier

if TYPE_CHECKING:
    from ops_pipeline.landing import Inventory

HEADER = ["file", "key", "field", "value", "reason"]
# What a correction may target: survey datasets, Idébank extracts and FOLK1A files.
_CORRECTABLE_SURVEY = re.compile(r"(?i)^(dataset\.csv|.*\.xlsx)$")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Correction:
    source: str  # the corrections file, as shown to people
    source_row: int
    file: str  # landing-relative path of the corrected file
    key: str
    field: str
    value: str | None
    reason: str
    landing_source: str = ""  # survey, idebank or population: the corrected file's source
    year: int | None = None  # the corrected file's year folder


@dataclass
class CorrectionSet:
    """The corrections of a lake, and those applied (or skipped) so far."""

    landing: Path
    corrections: list[Correction] = field(default_factory=list)
    applied: list[tuple[Correction, int]] = field(default_factory=list)
    skipped: list[Correction] = field(default_factory=list)

    def for_file(self, path: Path) -> list[Correction]:
        try:
            relative = Path(path).relative_to(self.landing).as_posix()
        except ValueError:
            return []
        return [c for c in self.corrections if c.file == relative]

    def skip_unrefreshed(self, source: str, years: list[int]) -> None:
        """Set aside the corrections of ``source`` files whose year the run does not refresh."""
        for correction in self.corrections:
            unread = correction.landing_source == source and correction.year not in years
            if unread and correction not in self.skipped:
                self.skipped.append(correction)

    def apply(self, con, table: str, path: Path, columns: list[str]) -> None:
        """Apply the corrections of ``path`` to the raw TEMP ``table`` read from it."""
        for correction in self.for_file(path):
            name, _, wanted = correction.key.partition("=")
            if correction.field not in columns:
                raise LandingError(
                    correction.source,
                    f"{correction.file} has no column {correction.field!r}",
                    row=correction.source_row,
                    column="field",
                )
            if name == "row":  # a number: checked when the file was read
                condition, params = "_row = ?", [int(wanted)]
            elif name in columns:
                condition, params = f"trim({sql_identifier(name)}) = ?", [wanted.strip()]
            else:
                raise LandingError(
                    correction.source,
                    f"key {correction.key!r} names no column of {correction.file}",
                    row=correction.source_row,
                    column="key",
                )
            changed = con.execute(
                f"UPDATE {table} SET {sql_identifier(correction.field)} = ? WHERE {condition}",
                [correction.value, *params],
            ).fetchall()[0][0]
            if changed == 0:
                raise LandingError(
                    correction.source,
                    f"correction of {correction.file} {correction.key} matches no row",
                    row=correction.source_row,
                    column="key",
                )
            self.applied.append((correction, int(changed)))


def read_corrections(inventory: Inventory, landing: Path) -> tuple[CorrectionSet, list]:
    """The corrections files the gate let through, checked against its landing files.

    Returns the corrections and the errors found (one per bad row, naming file and row): the
    gate lists them with its refusals.
    """
    found = CorrectionSet(landing)
    errors: list[LandingError] = []
    # A record may be as long as a landing record (10 MiB); Python's csv stops at 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_BYTES))
    for entry in inventory.corrections:
        try:
            found.corrections += _read_file(entry.path, entry.relative, inventory, errors)
        except LandingError as error:
            errors.append(error)
    return found, errors


def _read_file(path: Path, label: str, inventory: Inventory, errors: list) -> list[Correction]:
    try:
        encoding = sniff_encoding(path, allowed=("utf-8", "cp1252"))
        if encoding == "cp1252":
            check_cp1252(path)
    except LandingError as error:
        # Named as the gate shows it (relative to the lake), not by its absolute path.
        error.file = label
        raise
    corrections = []
    with path.open(encoding="utf-8-sig" if encoding == "utf-8" else "cp1252", newline="") as fh:
        rows = csv.reader(fh, delimiter=";")
        try:
            header = next(rows, [])
            if [c.strip() for c in header] != HEADER:
                raise LandingError(label, f"header must be {';'.join(HEADER)}", row=1)
            for row in rows:
                number = rows.line_num  # a spreadsheet's row as long as no cell spans lines
                if not any(cell.strip() for cell in row):
                    continue
                try:
                    corrections.append(_correction(label, number, row, inventory))
                except LandingError as error:
                    errors.append(error)
        except csv.Error as exc:
            raise LandingError(label, f"cannot be read as CSV: {exc}", row=rows.line_num) from exc
    return corrections


def _correction(label: str, number: int, row: list[str], inventory: Inventory) -> Correction:
    if len(row) != len(HEADER):
        raise LandingError(label, f"expected {len(HEADER)} cells, found {len(row)}", row=number)
    file, key, column, value, reason = row
    file = file.strip()

    def bad_file(problem: str) -> LandingError:
        return LandingError(label, problem, row=number, column="file")

    if not file:
        raise bad_file("names no file")
    if file.startswith("/") or _WINDOWS_DRIVE.match(file):
        raise bad_file(
            f"'{file}' is an absolute path: name the file relative to landing/, "
            "as idebank/2021/extract.csv"
        )
    if "\\" in file:
        raise bad_file(f"'{file}' separates folders with '\\': use '/'")
    if ".." in PurePosixPath(file).parts:
        raise bad_file(f"'{file}' goes up with '..': name a file inside landing/")
    target = inventory.file(file)
    if target is None:
        raise bad_file(
            f"'{file}' is not a file of the landing zone (paths are relative to landing/ "
            "and case-sensitive)"
        )
    if target.source == "survey" and not _CORRECTABLE_SURVEY.match(target.path.name):
        raise bad_file(
            f"'{file}' cannot be corrected: a correction targets a survey dataset.csv (or a "
            "survey workbook), an Idébank extract or a FOLK1A file"
        )
    key = key.strip()
    name, equals, wanted = key.partition("=")
    if not equals or not name.strip():
        raise LandingError(
            label, f"key {key!r} must be row=N or <column>=<value>", row=number, column="key"
        )
    if name == "row" and not wanted.strip().isdigit():
        raise LandingError(label, f"key {key!r}: row must be a number", row=number, column="key")
    return Correction(
        label,
        number,
        file,
        key,
        column.strip(),
        value if value.strip() else None,
        reason.strip(),
        target.source,
        target.year,
    )
