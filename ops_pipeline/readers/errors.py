"""The one error every reader raises for bad input."""

from __future__ import annotations

from pathlib import Path


class LandingError(ValueError):
    """A landing file that does not meet its contract.

    ``row`` counts as a spreadsheet shows it: the header is row 1, the first data row is row 2.
    ``line`` is a physical line of a text file (a quoted cell may span several).
    """

    def __init__(
        self,
        file: str | Path,
        problem: str,
        *,
        row: int | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file)
        self.problem = problem
        self.row = row
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        # One line, whatever the problem text held.
        problem = " ".join(self.problem.split())
        return f"{', '.join(where)}: {problem}"
