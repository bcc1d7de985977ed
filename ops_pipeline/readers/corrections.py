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

Corrections are applied after reading and before any check, so the gates judge corrected data;
every applied correction is recorded in the audit. A correction that matches no row, or names a
column the file does not have, is an error.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.text import sql_identifier

HEADER = ["file", "key", "field", "value", "reason"]


@dataclass(frozen=True)
class Correction:
    source: str  # the corrections file, as shown to people
    source_row: int
    file: str  # landing-relative path of the corrected file
    key: str
    field: str
    value: str | None
    reason: str


@dataclass
class CorrectionSet:
    """The corrections of a lake, and those applied so far."""

    landing: Path
    corrections: list[Correction] = field(default_factory=list)
    applied: list[tuple[Correction, int]] = field(default_factory=list)

    def for_file(self, path: Path) -> list[Correction]:
        try:
            relative = path.resolve().relative_to(self.landing.resolve()).as_posix()
        except ValueError:
            return []
        return [c for c in self.corrections if c.file == relative]

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
            if name == "row":
                if not wanted.isdigit():
                    raise LandingError(
                        correction.source,
                        f"key {correction.key!r}: row must be a number",
                        row=correction.source_row,
                        column="key",
                    )
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


def read_corrections(folder: Path, landing: Path, shown: str = "corrections") -> CorrectionSet:
    """Every ``*.csv`` in ``folder`` (none is fine)."""
    found = CorrectionSet(landing)
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.csv")):
        label = f"{shown}/{path.name}"
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh, delimiter=";"))
        if not rows or [c.strip() for c in rows[0]] != HEADER:
            raise LandingError(label, f"header must be {';'.join(HEADER)}", row=1)
        for number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(HEADER):
                raise LandingError(
                    label, f"expected {len(HEADER)} cells, found {len(row)}", row=number
                )
            file, key, column, value, reason = row
            if "=" not in key:
                raise LandingError(
                    label,
                    f"key {key!r} must be row=N or <column>=<value>",
                    row=number,
                    column="key",
                )
            found.corrections.append(
                Correction(
                    label,
                    number,
                    file.strip().lstrip("/").removeprefix("landing/"),
                    key.strip(),
                    column.strip(),
                    value if value.strip() else None,
                    reason.strip(),
                )
            )
    return found
