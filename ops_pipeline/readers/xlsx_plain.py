"""The fast scan: regular expressions over the inflated bytes of XML in the plain form.

Plain is XML as Excel, openpyxl, LibreOffice and SurveyXact write it (UTF-8, no comments, CDATA
or prefixes, every cell ``<c r="A1"...``), ~1.2 µs a cell, a few passes per 4 MiB in C. Anything
else raises :class:`NotPlain`, and the slow scan (:mod:`ops_pipeline.readers.xlsx_expat`) reads
the part; the two agree on what they find.
"""

from __future__ import annotations

import functools
import re
from array import array
from collections.abc import Iterator

from ops_pipeline.readers.xlsx_archive import MiB
from ops_pipeline.readers.xlsx_cells import EMPTY_WHEN_BLANK, INLINE, Scan, column_number, union

_MAX_CARRY = 16 * MiB  # one cell's XML the fast scan keeps whole; beyond it the slow scan reads
_CELL = re.compile(rb'<c r="([A-Z]{1,7})([0-9]{1,10})"')
_EMPTY_CELL = re.compile(rb'<c r="([A-Z]{1,7})([0-9]{1,10})"([^>]*?)(?:/>|>(<v/>|<v></v>)?</c>)')
_SHARED_CELL = re.compile(rb' t="s"[^>]*><v>([0-9]{1,10})</v>')
_FORMULA = re.compile(rb"<f[\s/>]")
_TYPE = re.compile(rb'\st="([^"]*)"')
_ROW_OF_CELL = re.compile(rb'<c r="[A-Z]{1,7}([0-9]{1,10})"')
_COLUMN_OF_CELL = re.compile(rb'<c r="([A-Z]{1,7})[0-9]')
_PREFIXED = re.compile(rb":(?:c|f|v|is|row|sheetData)[\s/>]")
_PREFIXED_STRING = re.compile(rb":(?:si|sst)[\s/>]")


class NotPlain(Exception):
    """The fast scan met XML it does not read; the slow scan reads the part."""


def scan_plain(chunks: Iterator[bytes], offset: int, prefix: bytes, lengths: array) -> Scan:
    """The fast scan of a sheet's XML (``chunks``, inflated) whose ``<sheetData>`` starts at
    byte ``offset`` with ``prefix`` (b"" or b"x:"); ``lengths`` are the shared strings'.
    Raises NotPlain when the XML is not in the plain form."""
    scan = Scan()
    buffer = b""
    seen = 0
    for chunk in chunks:
        if seen + len(chunk) > offset:
            buffer = chunk[max(0, offset - seen) :]
            seen += len(chunk)
            break
        seen += len(chunk)
    while (close := buffer.find(b">")) < 0:
        more = next(chunks, None)
        if more is None:
            raise NotPlain
        buffer += more
    if buffer[close - 1 : close] == b"/":  # <sheetData/>
        for _ in chunks:
            pass
        return scan
    buffer = buffer[close + 1 :]
    done = False
    while not done:
        if prefix:  # calamine reads elements by local name: so does the scan, unprefixed
            buffer = buffer.replace(b"<" + prefix, b"<").replace(b"</" + prefix, b"</")
        end = buffer.find(b"</sheetData>")
        if end >= 0:
            body, buffer, done = buffer[:end], b"", True
        else:
            cut = buffer.rfind(b'<c r="')
            body, buffer = (buffer[:cut], buffer[cut:]) if cut > 0 else (b"", buffer)
        if body:
            _scan_cells(body, scan, lengths)
        if not done:
            if len(buffer) > _MAX_CARRY:
                raise NotPlain
            more = next(chunks, None)
            if more is None:
                raise NotPlain  # no </sheetData>: the slow scan (and fastexcel) tell
            buffer += more
    for _ in chunks:  # the rest is read too: its size and CRC are checked at the end
        pass
    return scan


def plain_string_lengths(chunks: Iterator[bytes]) -> array:
    """Shared-string lengths from sharedStrings.xml in the plain form (``<si>`` without
    attributes, UTF-8, no comments, CDATA or prefixed <si>): the bytes from one ``<si>`` to the
    next bound its text. Raises NotPlain otherwise."""
    lengths = array("I")
    buffer = b""
    head = True
    for chunk in chunks:
        buffer += chunk
        if head:
            if buffer.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise NotPlain
            if buffer.startswith(b"<?"):
                close = buffer.find(b"?>")
                if close < 0:
                    continue
                declaration = buffer[: close + 2].lower()
                utf8 = re.search(rb"encoding=[\"']utf-?8[\"']", declaration)
                if b"encoding" in declaration and not utf8:
                    raise NotPlain
                buffer = buffer[close + 2 :]
            head = False
        cut = buffer.rfind(b"<si>")
        if cut < 0:
            if len(buffer) > _MAX_CARRY:
                raise NotPlain
            continue
        _string_lengths(buffer[:cut], lengths)
        buffer = buffer[cut:]
    _string_lengths(buffer, lengths)
    return lengths


def _string_lengths(region: bytes, lengths: array) -> None:
    if (
        b"<!" in region
        or b"<?" in region
        or _PREFIXED_STRING.search(region)
        or region.count(b"<si") != region.count(b"<si>")
    ):
        raise NotPlain
    # calamine keeps one string per <si> (an empty one too); [0] precedes the first <si>.
    lengths.extend(map(len, region.split(b"<si>")[1:]))


def _scan_cells(body: bytes, scan: Scan, lengths: array) -> None:
    """Note the whole cells of ``body`` (plain sheet XML inside <sheetData>)."""
    if b"<!" in body or b"<?" in body or _PREFIXED.search(body):
        raise NotPlain
    rows = _ROW_OF_CELL.findall(body)
    starts = body.count(b"<c")
    if starts != len(rows):
        starts -= body.count(b"<co") + body.count(b"<ch")  # rich text: <color>, <charset>
        if starts != len(rows):
            raise NotPlain  # a cell without r, or r not its first attribute: the slow scan
    if not rows:
        return
    shared = body.count(b' t="s"')
    if shared:
        indexes = _SHARED_CELL.findall(body)
        if len(indexes) != shared:
            raise NotPlain
        size = len(lengths)
        scan.shared_text += sum(lengths[i] if i < size else 0 for i in map(int, indexes))
    empty: set[tuple[bytes, bytes]] = set()
    if b"/>" in body or b'"></c>' in body or b"<v></v>" in body:
        for letters, digits, attrs, value in _EMPTY_CELL.findall(body):
            kind = _TYPE.search(attrs)
            kind = kind.group(1).decode("ascii", "replace") if kind else None
            if not value or kind in EMPTY_WHEN_BLANK or kind in INLINE:
                empty.add((letters, digits))
    if b"<f" in body:
        _scan_formulas(body, scan, empty)
    numbers = list(map(int, set(rows)))
    columns = list(map(_column_of, _new_columns(body, scan))) or scan.span[1::2]
    span = [min(numbers), min(columns), max(numbers), max(columns)]
    scan.span = union(scan.span, span)
    if empty:
        values = [ref for ref in set(_CELL.findall(body)) if ref not in empty]
        scan.values = union(scan.values, _box(values) if values else None)
    else:
        scan.values = union(scan.values, span)


def _new_columns(body: bytes, scan: Scan) -> set[bytes]:
    """The column letters of the cells of ``body`` not seen before in the sheet. While a sheet
    has few columns, one search in C finds a cell outside those already known (most often
    none), instead of a list of every cell's letters."""
    known = scan.columns
    if len(known) > 64:
        found = set(_COLUMN_OF_CELL.findall(body)) - known
    else:
        found = set()
        position = 0
        while match := _other_column(frozenset(known)).search(body, position):
            known.add(match.group(1))
            found.add(match.group(1))
            position = match.start()
            if len(known) > 64:
                found |= set(_COLUMN_OF_CELL.findall(body, position)) - known
                break
    known |= found
    return found


@functools.lru_cache(maxsize=32768)
def _column_of(letters: bytes) -> int:
    return column_number(letters.decode("ascii"))


@functools.lru_cache(maxsize=128)
def _other_column(known: frozenset[bytes]) -> re.Pattern:
    """A cell whose column is not in ``known``."""
    single = b"".join(sorted(c for c in known if len(c) == 1))
    longer = b"|".join(sorted(c for c in known if len(c) > 1))
    choices = []
    if single:
        choices.append(b"[" + single + b"]")
    if longer:
        choices.append(longer)
    if not choices:
        return _COLUMN_OF_CELL
    return re.compile(rb'<c r="(?!(?:' + b"|".join(choices) + rb")[0-9])([A-Z]{1,7})[0-9]")


def _scan_formulas(body: bytes, scan: Scan, empty: set) -> None:
    """Formula cells of plain XML whose value calamine reads as empty: no <v> after the <f>, an
    empty <v> of a type that reads blank as empty, or an inline-string cell's <v>."""
    done = -1
    for match in _FORMULA.finditer(body):
        if match.start() < done:
            continue
        start = body.rfind(b'<c r="', 0, match.start())
        end = body.find(b"</c>", match.end())
        if start < 0 or end < 0:
            raise NotPlain
        done = end
        tag_end = body.find(b">", start)
        tag, inner = body[start:tag_end], body[tag_end + 1 : end]
        if b"<is" in inner or b"<![" in inner:
            raise NotPlain
        kind = _TYPE.search(tag)
        kind = kind.group(1).decode("ascii", "replace") if kind else None
        last_v, last_f = inner.rfind(b"<v"), inner.rfind(b"<f")
        if last_v < last_f or kind in INLINE:
            blank = True
        else:
            close = inner.find(b">", last_v)
            value = inner[close + 1 :].split(b"<", 1)[0]
            if inner[close - 1 : close] == b"/":  # <v/>
                value = b""
            blank = kind in EMPTY_WHEN_BLANK and (not value or value.startswith(b"&"))
        if blank:
            ref = _CELL.match(body, start)
            letters, digits = ref.group(1), ref.group(2)
            empty.add((letters, digits))
            position = (int(digits), column_number(letters.decode("ascii")))
            if scan.missing is None or position < scan.missing:
                scan.missing = position


def _box(cells) -> list[int]:
    """[first row, first col, last row, last col] of (letters, digits) references."""
    letters, digits = zip(*cells, strict=True)  # in C: no Python loop per cell
    columns = [column_number(c.decode("ascii")) for c in set(letters)]
    rows = list(map(int, set(digits)))
    return [min(rows), min(columns), max(rows), max(columns)]
