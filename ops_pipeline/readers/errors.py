"""The one error every reader raises for bad input, and how landing names are shown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# How a control character is written in a message: the usual escapes, else \xNN.
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def escape(text: str) -> str:
    """A landing name as one printable line: control characters as ``\\n``, ``\\t``, ``\\xNN``
    and bytes that were not UTF-8 (Python's surrogate escapes) as ``\\xNN``; letters such as æ, ø,
    å stay as they are."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (os.fsdecode)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


class LandingError(ValueError):
    """A landing file that does not meet its contract.

    ``row`` counts as a spreadsheet shows it: the header is row 1, the first data row is row 2.
    ``line`` is a physical line of a text file (a quoted cell may span several). ``file`` is
    shown relative to the lake once the lake resource has seen the error.
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
        where = [escape(self.file)]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column '{escape(self.column)}'")
        # One line, whatever the problem text held.
        problem = escape(" ".join(self.problem.split()))
        return f"{', '.join(where)}: {problem}"


def message_line(exc: BaseException) -> str:
    """The first line of an exception's message ("" when it has none): a library's message may
    run to many lines, an error's problem is one."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


@contextmanager
def reading(path: str | Path) -> Iterator[None]:
    """Any error but a LandingError raised while ``path`` is read becomes one naming the file:
    a library's message alone names nothing a person can fix."""
    try:
        yield
    except LandingError:
        raise
    except Exception as exc:
        problem = f"cannot be read: {type(exc).__name__}: {message_line(exc)}"
        raise LandingError(path, problem) from exc
