"""CSV files into DuckDB: every cell text, rows numbered as a spreadsheet shows them, and the
rows DuckDB cannot parse kept aside for the quality gate (the file's encoding is
:mod:`ops_pipeline.readers.text`'s)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from ops_pipeline.readers.errors import LandingError, message_line
from ops_pipeline.readers.text import DuckDBText, sql_identifier, sql_string

REJECTS_TABLE = "reader_rejects"
# The longest CSV record (quoted line breaks included) a landing or corrections file may hold.
MAX_RECORD_BYTES = 10 * 1024 * 1024


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
        problem = message_line(exc) or repr(exc)
        raise LandingError(origin, f"cannot be read as CSV: {problem}") from exc


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
    # A cell takes at most twice its UTF-8 bytes in the file (every byte a doubled quote; twice
    # that again in UTF-16), two enclosing quotes and a delimiter: a bound without counting the
    # quotes, which would cost a replace() of every cell. Ten MiB is far from any real record.
    cells = [f"coalesce({sql_identifier(c)}, '')" for c in columns]
    row = " + ".join(f"strlen({c})" for c in cells)
    largest = con.execute(
        f"""SELECT greatest(
                2 * (SELECT max({row}) FROM {table}) + {3 * len(cells)},
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
    encode = text.source_encoding
    most = 1 if encode == "cp1252" else 4  # the bytes one character takes at most

    def size(part: str) -> int:
        return len(part.encode(encode, errors="replace"))

    record = _record_pattern(delim)
    line, carry = 1, ""  # the first line of the record in ``carry``, begun in an earlier chunk
    # A byte that is not text (a lone UTF-16 surrogate) is replaced: its size stays the same.
    with text.path.open("r", encoding=text.codec, errors="replace", newline="") as fh:
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
