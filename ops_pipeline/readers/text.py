"""Landing text: the encodings of text files as the exporters write them, SQL quoting, the check
of a loaded table's rows, and DuckDB's bounds (CSV loading: :mod:`ops_pipeline.readers.csv_load`).

DuckDB reads UTF-8, UTF-16 and Latin-1 natively. Windows-1252 ("ANSI" in the contracts) differs
from Latin-1 only in bytes 0x80–0x9F, so a Windows-1252 file without such bytes is handed to DuckDB
as Latin-1 unchanged, and only a file that has them is decoded here, once, into a UTF-8 copy.
"""

from __future__ import annotations

import codecs
import hashlib
import mmap
import re
from dataclasses import dataclass
from pathlib import Path

from ops_pipeline.readers.errors import LandingError

UTF8_BOM = codecs.BOM_UTF8
UTF16_LE_BOM = codecs.BOM_UTF16_LE
_CHUNK = 1 << 24
# Bytes where Windows-1252 and Latin-1 differ (and the five Windows-1252 leaves undefined).
_CP1252_ONLY = re.compile(rb"[\x80-\x9f]")
_PYTHON_CODECS = {"utf-16": "utf-16", "utf-8": "utf-8-sig", "latin-1": "latin-1"}


@dataclass(frozen=True)
class DuckDBText:
    """How DuckDB should read a text file: the path to give it and the encoding to name."""

    path: Path
    encoding: str  # 'utf-8', 'utf-16' or 'latin-1' (DuckDB's names)
    source_encoding: str  # what the file really is: 'utf-8', 'utf-16-le', 'cp1252'

    @property
    def codec(self) -> str:
        """The Python codec that reads the file as DuckDB does (a UTF-8 BOM dropped)."""
        return _PYTHON_CODECS[self.encoding]


def sniff_encoding(path: Path, *, allowed: tuple[str, ...]) -> str:
    """The encoding of a whole file: 'utf-16-le' (BOM), 'utf-8' (BOM or valid UTF-8), or 'cp1252'.

    Looks at every byte, never guesses from the first kilobytes. Raises when the file is empty
    or its encoding is not among ``allowed``.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
        if not head:
            raise LandingError(path, "the file is empty")
        if head.startswith(UTF16_LE_BOM):
            found = "utf-16-le"
        elif head.startswith(codecs.BOM_UTF16_BE):
            # Never an export's encoding; read as Windows-1252 it would be a NUL before each byte.
            found = "utf-16-be"
        elif head.startswith(UTF8_BOM):
            found = "utf-8"
        else:
            fh.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")()
            found = "utf-8"
            offset = 0
            try:
                while chunk := fh.read(_CHUNK):
                    decoder.decode(chunk)
                    offset += len(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                found = "cp1252"
    if found not in allowed:
        raise LandingError(
            path, f"encoding is {found}, expected {' or '.join(allowed)} (see the landing contract)"
        )
    return found


def check_cp1252(path: Path) -> bool:
    """Raise on a byte Windows-1252 leaves undefined; return whether 0x80–0x9F bytes occur."""
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        match = _CP1252_ONLY.search(data)
        if match is None:
            return False
        for m in _CP1252_ONLY.finditer(data, match.start()):
            try:
                m.group().decode("cp1252")
            except UnicodeDecodeError:
                raise LandingError(
                    path,
                    f"byte 0x{m.group()[0]:02X} at offset {m.start()} is undefined in "
                    "Windows-1252: the file is not in the ANSI encoding the export should have",
                ) from None
        return True


def for_duckdb(path: Path, scratch: Path, *, allowed: tuple[str, ...]) -> DuckDBText:
    """Make a landing file readable by DuckDB's CSV reader without changing the file."""
    encoding = sniff_encoding(path, allowed=allowed)
    if encoding == "utf-16-le":
        return DuckDBText(path, "utf-16", encoding)
    if encoding == "utf-8":
        return DuckDBText(path, "utf-8", encoding)
    if not check_cp1252(path):
        return DuckDBText(path, "latin-1", encoding)
    # A UTF-8 copy in the lake's scratch folder, named by content so reruns reuse it.
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / f"{file_digest(path)[:16]}-{path.stem}.utf8{path.suffix}"
    if not target.exists():
        partial = target.with_suffix(target.suffix + ".part")
        with (
            path.open("r", encoding="cp1252", newline="") as src,
            partial.open("w", encoding="utf-8", newline="") as dst,
        ):
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
        partial.replace(target)
    return DuckDBText(target, "utf-8", encoding)


def first_line(text: DuckDBText) -> str:
    """The first line of a file, decoded (BOM removed)."""
    with text.path.open("r", encoding=text.codec, newline="") as fh:
        return fh.readline().rstrip("\r\n")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sql_string(value: str | Path) -> str:
    """A SQL string literal: file names and other landing text never reach SQL unquoted."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A quoted SQL identifier, for column and sheet names taken from landing files."""
    return '"' + name.replace('"', '""') + '"'


# DuckDB's share of the 2 GB a run may use: Python, Dagster and Great Expectations need the rest.
DUCKDB_MEMORY_LIMIT = "1GB"


def limit_duckdb(con, temp_directory: Path) -> None:
    """Bound a connection's memory and keep what it spills to disk in ``temp_directory``
    (inside the lake's ``work/``), so no input can grow a run past its memory."""
    temp_directory.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = {sql_string(DUCKDB_MEMORY_LIMIT)}")
    con.execute(f"SET temp_directory = {sql_string(temp_directory)}")


def fail_on_first(
    con,
    table: str,
    path: Path | str | None,
    column: str,
    condition: str,
    problem: str,
    *,
    header=None,
    files: str | None = None,
    value: str | None = None,
) -> None:
    """Raise for the first row of ``table`` where ``condition`` holds, naming file, row, column
    and what it holds: "value '…' <problem>", or "the cell <problem>" when it is empty.

    ``header`` maps a contract column name to the file's own spelling of it. For a table read
    from several files, ``files`` is the SQL expression naming each row's file (it replaces
    ``path``, and rows are taken in ``_file`` order); ``value`` is an SQL expression shown
    instead of the column's cell.
    """
    shown_expr = value or sql_identifier((header or {}).get(column, column))
    bad = con.execute(
        f"SELECT {files or 'NULL'}, _row, {shown_expr} FROM {table} WHERE {condition} "
        f"ORDER BY {'_file, ' if files else ''}_row LIMIT 1"
    ).fetchall()
    if bad:
        file, row, found = bad[0]
        shown = "the cell" if found is None else f"value {found!r}"
        raise LandingError(
            file if files else path, f"{shown} {problem}", row=int(row), column=column
        )
