"""Cells of an xlsx sheet: A1 references, boxes of cells, and what a scan of a sheet finds.

A box is ``[first row, first col, last row, last col]``, rows and columns counting from 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
REF = re.compile(r"([A-Za-z]+)([0-9]+)")
# calamine reads a <v> of these types as empty when it holds no text (a "str" <v></v> is "").
EMPTY_WHEN_BLANK = (None, "n", "s", "b", "e")
# Inline-string cells: calamine takes their value from <is>, never from a <v>.
INLINE = ("inlineStr", "is")


@dataclass
class Scan:
    """What the scan of one sheet found (rows and columns count from 1)."""

    span: list[int] | None = None  # [first row, first col, last row, last col] of all <c>
    values: list[int] | None = None  # the same for the cells calamine reads a value from
    missing: tuple[int, int] | None = None  # first formula cell without a cached value
    shared_text: int = 0  # bytes of shared-string text the cells refer to (an upper bound)
    columns: set[bytes] = field(default_factory=set)  # column letters seen (the fast scan)


def parse_range(ref: str) -> list[int] | None:
    """A dimension ``A1`` or ``A1:D9`` as [first row, first col, last row, last col], or None
    when it is not a forward range inside Excel's grid."""
    parts = ref.split(":")
    if len(parts) > 2:
        return None
    cells = [parse_cell(part) for part in parts]
    if any(c is None for c in cells):
        return None
    (r1, c1), (r2, c2) = cells[0], cells[-1]
    if r2 < r1 or c2 < c1:
        return None
    return [r1, c1, r2, c2]


def parse_cell(ref: str) -> tuple[int, int] | None:
    """``B7`` as (7, 2); None when it is not a cell of Excel's grid."""
    match = REF.fullmatch(ref)
    if match is None or len(match.group(1)) > 3 or len(match.group(2)) > 7:
        return None
    row, col = int(match.group(2)), column_number(match.group(1))
    if not (1 <= row <= EXCEL_ROWS and 1 <= col <= EXCEL_COLUMNS):
        return None
    return row, col


def column_number(letters: str) -> int:
    """``AB`` as 28 (letters in either case)."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def column_letters(column: int) -> str:
    """28 as ``AB``."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def range_text(box: list[int]) -> str:
    """A box as ``A1:D9``."""
    return f"{column_letters(box[1])}{box[0]}:{column_letters(box[3])}{box[2]}"


def union(a: list[int] | None, b: list[int] | None) -> list[int] | None:
    """The box of two boxes (None: no cells)."""
    if a is None:
        return b
    if b is None:
        return a
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
