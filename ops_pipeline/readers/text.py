"""Text files as the exporters write them: encodings, delimiters, SQL quoting.

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

import duckdb

from ops_pipeline.readers.errors import LandingError

UTF8_BOM = codecs.BOM_UTF8
UTF16_LE_BOM = codecs.BOM_UTF16_LE
_CHUNK = 1 << 24
# Bytes where Windows-1252 and Latin-1 differ (and the five Windows-1252 leaves undefined).
_CP1252_ONLY = re.compile(rb"[\x80-\x9f]")


@dataclass(frozen=True)
class DuckDBText:
    """How DuckDB should read a text file: the path to give it and the encoding to name."""

    path: Path
    encoding: str  # 'utf-8', 'utf-16' or 'latin-1' (DuckDB's names)
    source_encoding: str  # what the file really is: 'utf-8', 'utf-16-le', 'cp1252'


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
    codec = {"utf-16": "utf-16", "utf-8": "utf-8-sig", "latin-1": "latin-1"}[text.encoding]
    with text.path.open("r", encoding=codec, newline="") as fh:
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


REJECTS_TABLE = "reader_rejects"
# The longest CSV record (quoted line breaks included) a landing or corrections file may hold.
MAX_RECORD_BYTES = 10 * 1024 * 1024
# DuckDB's share of the 2 GB a run may use: Python, Dagster and Great Expectations need the rest.
DUCKDB_MEMORY_LIMIT = "1GB"


def limit_duckdb(con, temp_directory: Path) -> None:
    """Bound a connection's memory and keep what it spills to disk in ``temp_directory``
    (inside the lake's ``work/``), so no input can grow a run past its memory."""
    temp_directory.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = {sql_string(DUCKDB_MEMORY_LIMIT)}")
    con.execute(f"SET temp_directory = {sql_string(temp_directory)}")


def load_csv(
    con,
    text: DuckDBText,
    origin: Path,
    *,
    table: str,
    delim: str,
    header: bool,
) -> list[str]:
    """Load a CSV into a TEMP table of all-VARCHAR columns plus ``_row`` (spreadsheet row number).

    Rows DuckDB cannot parse (too few or too many cells, an unterminated quote) are not loaded:
    they are appended verbatim, with file, line and reason, to the TEMP table ``reader_rejects``
    for the staging step to record and the quality gate to judge. A file DuckDB cannot read at all,
    a record longer than ``MAX_RECORD_BYTES`` and a header that repeats a column name are errors.
    Returns the file's column names.
    """
    try:
        return _load_csv(con, text, origin, table=table, delim=delim, header=header)
    except LandingError:
        raise
    except duckdb.Error as exc:  # a file DuckDB cannot read at all
        if _LINE_TOO_LONG in str(exc):
            raise _record_too_long(text, origin, delim) from exc
        raise LandingError(origin, f"cannot be read as CSV: {_first_line(exc)}") from exc


# DuckDB measures a record in UTF-8 after decoding (and counts one or two bytes of its line break
# into it, depending on where in the file the record is); the contract measures the file's own
# bytes. DuckDB's limit is set high enough for a 10 MiB record in any encoding (a Windows-1252 byte
# is at most 3 bytes of UTF-8, a UTF-16 code unit at most 3), and the 10 MiB themselves are
# checked here, on the file's bytes (``_check_record_sizes``).
_UTF8_PER_FILE_BYTE = {"utf-8": 1.0, "cp1252": 3.0, "utf-16-le": 1.5}
_LINE_TOO_LONG = "Maximum line size of"


def _max_line_size(text: DuckDBText) -> int:
    return int(MAX_RECORD_BYTES * _UTF8_PER_FILE_BYTE[text.source_encoding]) + 2


def _read_csv_sql(text: DuckDBText, delim: str, header: bool, rejects: str, scans: str) -> str:
    return f"""read_csv({sql_string(text.path)}, encoding={sql_string(text.encoding)},
                        delim={sql_string(delim)}, quote='"', escape='"', header={header},
                        all_varchar=true, null_padding=false, strict_mode=true,
                        max_line_size={_max_line_size(text)},
                        store_rejects=true, rejects_table={sql_string(rejects)},
                        rejects_scan={sql_string(scans)})"""


def _load_csv(
    con, text: DuckDBText, origin: Path, *, table: str, delim: str, header: bool
) -> list[str]:
    rejects = f"{table}_rejects"
    scans = f"{table}_reject_scans"
    con.execute(f"DROP TABLE IF EXISTS {rejects}; DROP TABLE IF EXISTS {scans}")
    # The header is row 1 of the sheet a person would open; headerless files start at row 1.
    first_row = 2 if header else 1
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"SELECT * FROM {_read_csv_sql(text, delim, header, rejects, scans)}"
    )
    columns = [name for name in con.table(table).columns if name != "_row"]
    if header:
        _check_header(con, text, origin, delim, columns)
    _check_record_sizes(con, text, origin, delim, table, rejects, columns)
    # The row number from the table's row ids (insertion order is the file's order): far
    # cheaper than a window over the whole file.
    con.execute(f"ALTER TABLE {table} ADD COLUMN _row BIGINT")
    con.execute(f"UPDATE {table} SET _row = rowid + {first_row}")
    con.execute(
        f"""CREATE TEMP TABLE IF NOT EXISTS {REJECTS_TABLE}
            (file VARCHAR, line BIGINT, column_name VARCHAR, reason VARCHAR, raw VARCHAR)"""
    )
    con.execute(
        # DuckDB reports a short row once per missing cell: keep one row per line.
        f"""INSERT INTO {REJECTS_TABLE}
            SELECT ?, line, arg_min(column_name, column_idx),
                   arg_min(lower(error_type) || ': ' || error_message, column_idx),
                   trim(any_value(csv_line), chr(13) || chr(10))
            FROM {rejects} GROUP BY line ORDER BY line""",
        [str(origin)],
    )
    con.execute(f"DROP TABLE {rejects}; DROP TABLE {scans}")
    return columns


def _check_header(con, text: DuckDBText, origin: Path, delim: str, columns: list[str]) -> None:
    """Raise when the header repeats a column name (after trimming, in any letter case).

    DuckDB renames a repeated ``x`` to ``x_1``: the header is read again as a data record, as
    DuckDB parses it with the same dialect, and every name it kept is checked against it.
    """
    rejects, scans = "csv_header_rejects", "csv_header_reject_scans"
    try:
        raw = con.execute(
            f"SELECT * FROM {_read_csv_sql(text, delim, False, rejects, scans)} LIMIT 1"
        ).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {rejects}; DROP TABLE IF EXISTS {scans}")
    names = [("" if cell is None else cell).strip() for cell in (raw[0] if raw else ())]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not name:
            continue  # a blank name is no name: the checks of the columns a reader needs judge it
        if name.lower() == "_row":
            raise LandingError(
                origin,
                f"column {position} is named {name!r}, the name the reader gives the row number",
                row=1,
                column=name,
            )
        first = seen.setdefault(name.lower(), position)
        if first != position:
            raise LandingError(
                origin,
                f"column {name!r} repeats column {names[first - 1]!r} (columns {first} and "
                f"{position}): each column name may appear once",
                row=1,
                column=name,
            )
    if len(names) != len(columns):
        raise LandingError(
            origin,
            f"the header has {len(names)} columns but is read as {len(columns)}",
            row=1,
        )
    for position, (name, kept) in enumerate(zip(names, columns, strict=True), start=1):
        same = kept.strip() == name if name else re.fullmatch(r"column\d+", kept) is not None
        if not same:
            raise LandingError(
                origin,
                f"column {position} is named {name!r} but is read as {kept!r}: "
                "each column needs a name of its own",
                row=1,
                column=name or None,
            )


def _check_record_sizes(
    con, text: DuckDBText, origin: Path, delim: str, table: str, rejects: str, columns: list[str]
) -> None:
    """Raise when a record is longer than ``MAX_RECORD_BYTES`` bytes of the file.

    DuckDB's own limit (in UTF-8, see ``_max_line_size``) lets a somewhat longer record through:
    an upper bound of each record's size in the file, from what was loaded, tells whether one may
    be too long, and only then is the file scanned for it.
    """
    refused = con.execute(
        f"SELECT count(*) FROM {rejects} WHERE error_type = 'LINE SIZE OVER MAXIMUM'"
    ).fetchall()[0][0]
    if refused:
        raise _record_too_long(text, origin, delim)
    if text.path.stat().st_size <= MAX_RECORD_BYTES:
        return  # a UTF-8 copy of a Windows-1252 file is never smaller than the file
    # A cell takes at most its UTF-8 bytes in the file (twice that in UTF-16), plus a doubled
    # quote for each quote, two enclosing quotes and a delimiter.
    cells = [f"coalesce({sql_identifier(c)}, '')" for c in columns]
    row = " + ".join(f"2 * strlen({c}) - strlen(replace({c}, '\"', ''))" for c in cells)
    largest = con.execute(
        f"""SELECT greatest(
                (SELECT max({row}) FROM {table}) + {3 * len(cells)},
                (SELECT max(strlen(csv_line)) FROM {rejects}),
                {sum(len(c.encode()) + c.count('"') + 3 for c in columns)})"""
    ).fetchall()[0][0]
    if largest * (2 if text.source_encoding == "utf-16-le" else 1) <= MAX_RECORD_BYTES:
        return
    line = _long_record_line(text, delim)
    if line is not None:
        raise _record_too_long(text, origin, delim, line=line)


def _record_too_long(
    text: DuckDBText, origin: Path, delim: str, *, line: int | None = None
) -> LandingError:
    """The error for the first record longer than ``MAX_RECORD_BYTES``, naming its first line.

    DuckDB's own line numbers count records, and are wrong for a record its sniffer met: the file
    is scanned here for the record (unless ``line`` is known).
    """
    problem = (
        f"a record (quoted line breaks included) is longer than {MAX_RECORD_BYTES:,} bytes "
        "(10 MiB), the most a record may hold"
    )
    return LandingError(origin, problem, line=line or _long_record_line(text, delim))


_SCAN_CHARS = 1 << 22


def _record_pattern(delim: str) -> re.Pattern[str]:
    """One whole record and its line break (group 1), as DuckDB parses it: a quote opens a quoted
    cell only at the start of a cell (elsewhere it is text, of a row DuckDB rejects), a doubled
    quote inside one is a quote, and a line break inside one belongs to the record."""
    d = re.escape(delim)
    return re.compile(
        rf'(?:[^"\r\n]++|(?<=[^{d}\r\n])"|(?<![^{d}\r\n])"[^"]*+(?:""[^"]*+)*+"(?!"))*+'
        r"(\r\n?|\n)"
    )


def _line_breaks(part: str) -> int:
    """The line breaks in ``part``: CRLF, LF and a lone CR each end a line."""
    return part.count("\n") + part.count("\r") - part.count("\r\n")


def _long_record_line(text: DuckDBText, delim: str) -> int | None:
    """The first line of the first record longer than ``MAX_RECORD_BYTES`` bytes of the file
    (in its own encoding, its line break not counted), or None.

    Reads the file in chunks, record by record (``_record_pattern``); a record still open at the
    end of a chunk is carried into the next, never beyond ``MAX_RECORD_BYTES`` characters. About
    three seconds for 100 MiB of quoted cells.
    """
    decode = {"utf-16": "utf-16", "utf-8": "utf-8-sig", "latin-1": "latin-1"}[text.encoding]
    encode = text.source_encoding
    most = 1 if encode == "cp1252" else 4  # the bytes one character takes at most

    def size(part: str) -> int:
        return len(part.encode(encode, errors="replace"))

    record = _record_pattern(delim)
    line, carry = 1, ""  # the first line of the record in ``carry``, begun in an earlier chunk
    # A byte that is not text (a lone UTF-16 surrogate) is replaced: its size stays the same.
    with text.path.open("r", encoding=decode, errors="replace", newline="") as fh:
        while chunk := fh.read(_SCAN_CHARS):
            # Never end a chunk inside a CRLF or before a quote that may be doubled.
            while chunk[-1] in '"\r' and (more := fh.read(1)):
                chunk += more
            data, i = carry + chunk, 0
            while m := record.match(data, i):
                body = m.start(1) - i
                if body * most > MAX_RECORD_BYTES and size(data[i : m.start(1)]) > MAX_RECORD_BYTES:
                    return line
                line += _line_breaks(m.group())
                i = m.end()
            carry = data[i:]
            if len(carry) > MAX_RECORD_BYTES:  # a character is at least a byte
                return line
    return line if size(carry) > MAX_RECORD_BYTES else None


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)


def fail_on_first(
    con, table: str, path: Path, column: str, condition: str, problem: str, *, header=None
) -> None:
    """Raise for the first row of ``table`` where ``condition`` holds, naming row, column, value.

    ``header`` maps a contract column name to the file's own spelling of it.
    """
    source = (header or {}).get(column, column)
    bad = con.execute(
        f"SELECT _row, {sql_identifier(source)} FROM {table} WHERE {condition} "
        "ORDER BY _row LIMIT 1"
    ).fetchall()
    if bad:
        row, value = bad[0]
        shown = "the cell" if value is None else f"value {value!r}"
        raise LandingError(path, f"{shown} {problem}", row=int(row), column=column)
