"""xlsx parts read with expat: a parser that refuses a DTD, and the slow scan of a sheet.

The slow scan (~9 µs a cell) reads any well-formed sheet XML (cells without ``r``, comments,
CDATA, UTF-16, prefixes, …) as calamine reads it; the fast scan
(:mod:`ops_pipeline.readers.xlsx_plain`) hands it every sheet it does not read itself.
"""

from __future__ import annotations

import xml.parsers.expat
import zipfile
from array import array

from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.xlsx_archive import Archive
from ops_pipeline.readers.xlsx_cells import (
    EMPTY_WHEN_BLANK,
    INLINE,
    REF,
    Scan,
    column_number,
    union,
)


class Stop(Exception):
    """Ends an expat parse early."""


def local_name(name: str) -> str:
    """An element's name without its namespace prefix: calamine reads elements by it."""
    return name.rpartition(":")[2]


def not_well_formed(shown: str, exc: xml.parsers.expat.ExpatError) -> LandingError:
    return LandingError(shown, f"cannot be read as xlsx: its XML is not well-formed ({exc})")


def parser(archive: Archive, part: str):
    """An expat parser that refuses a DTD (no entity of a part can then expand)."""
    parser = xml.parsers.expat.ParserCreate()

    def doctype(*_):
        raise archive.broken(f"part {part!r} declares a DTD, which xlsx parts never do")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    return parser


def parse(archive: Archive, info: zipfile.ZipInfo, start=None, end=None, text=None) -> None:
    """Parse a small part with expat (no DTD), calling the handlers given."""
    expat = parser(archive, info.filename)
    expat.StartElementHandler = start
    expat.EndElementHandler = end
    if text:
        expat.CharacterDataHandler = text
    try:
        for chunk in archive.inflate(info):
            expat.Parse(chunk, False)
        expat.Parse(b"", True)
    except xml.parsers.expat.ExpatError as exc:
        raise archive.broken(f"part {info.filename!r} is not well-formed XML ({exc})") from exc


def scan_xml(archive: Archive, part: zipfile.ZipInfo, shown: str, lengths: array) -> Scan:
    """The slow scan: expat over the whole sheet XML, positions and values as calamine
    reads them (a ``<c>`` without ``r`` follows the cell before it in its row; the last of
    a cell's ``<v>``, ``<f>``, ``<is>`` gives its value): ~9 µs a cell."""
    scan = Scan()
    expat = parser(archive, part.filename)
    expat.buffer_text = True
    names: dict[str, str] = {}
    in_data = in_cell = False
    depth = row = col = 0  # depth inside a cell; calamine's 0-based row and column
    cell_row = cell_col = 0
    kind = last = None
    formula = False
    text: list[str] = []

    def start(name, attrs):
        nonlocal in_data, in_cell, depth, row, col, cell_row, cell_col, kind, last, formula
        local = names.get(name) or names.setdefault(name, local_name(name))
        if in_cell:
            depth += 1
            if depth == 1:
                last = local
                if local == "f":
                    formula = True
                elif local == "v":
                    text.clear()
        elif not in_data:
            in_data = local == "sheetData"
        elif local == "c":
            ref = attrs.get("r")
            if ref is None:
                cell_row, cell_col = row + 1, col + 1
            else:
                match = REF.fullmatch(ref)
                if match is None or int(match.group(2)) == 0:
                    raise LandingError(
                        shown, f"cannot be read as xlsx: cell reference {ref!r} is not a cell"
                    )
                cell_row, cell_col = int(match.group(2)), column_number(match.group(1))
                col = cell_col - 1
            in_cell, depth, kind, last, formula = True, 0, attrs.get("t"), None, False
        elif local == "row":
            ref = attrs.get("r")
            if ref is not None and ref.isdigit() and int(ref) > 0:
                row = int(ref) - 1

    def end(name):
        nonlocal in_cell, depth, row, col
        if in_cell:
            if depth:
                depth -= 1
                return
            in_cell = False
            col += 1
            _note_cell(scan, cell_row, cell_col, kind, last, formula, "".join(text), lengths)
        elif in_data:
            local = names.get(name) or names.setdefault(name, local_name(name))
            if local == "row":
                row += 1
                col = 0
            elif local == "sheetData":
                raise Stop

    def characters(data):
        if in_cell and depth == 1 and last == "v" and len(text) < 4:
            text.append(data)

    expat.StartElementHandler = start
    expat.EndElementHandler = end
    expat.CharacterDataHandler = characters
    chunks = archive.inflate(part)
    try:
        for chunk in chunks:
            expat.Parse(chunk, False)
        expat.Parse(b"", True)
    except Stop:
        for _ in chunks:  # read to the end: its size and CRC are checked
            pass
    except xml.parsers.expat.ExpatError as exc:
        raise not_well_formed(shown, exc) from exc
    return scan


def _note_cell(scan, row, col, kind, last, formula, text, lengths) -> None:
    """Note one cell read by the slow scan, its value decided as calamine decides it: by the
    last of its <v>, <f>, <is> (``last``)."""
    span = scan.span
    if span is None:
        scan.span = [row, col, row, col]
    else:
        if row < span[0]:
            span[0] = row
        if col < span[1]:
            span[1] = col
        if row > span[2]:
            span[2] = row
        if col > span[3]:
            span[3] = col
    if last == "is":
        has_value = True
    elif last == "v":
        if kind in INLINE:
            has_value = False
        elif kind in EMPTY_WHEN_BLANK:
            has_value = text != ""
        else:
            has_value = True
        if has_value and kind == "s" and text.strip().isdigit():
            index = int(text.strip())
            scan.shared_text += lengths[index] if index < len(lengths) else 0
    else:
        has_value = False
    if has_value:
        scan.values = union(scan.values, [row, col, row, col])
    elif formula and (scan.missing is None or (row, col) < scan.missing):
        scan.missing = (row, col)
