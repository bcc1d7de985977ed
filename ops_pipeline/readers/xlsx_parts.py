"""What an xlsx workbook declares, read when it opens.

``xl/workbook.xml`` and its relationships (sheet names and parts, resolved as calamine resolves
them), each sheet's declared ``<dimension>`` (streaming only the start of its XML), and the
length of each shared string (for the shared text a sheet's cells refer to).
"""

from __future__ import annotations

import re
import xml.parsers.expat
import zipfile
from array import array
from dataclasses import dataclass, field

from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.xlsx_archive import REFUSED, Archive, MiB
from ops_pipeline.readers.xlsx_cells import parse_range
from ops_pipeline.readers.xlsx_expat import Stop, local_name, not_well_formed, parse, parser
from ops_pipeline.readers.xlsx_plain import NotPlain, plain_string_lengths

MAX_METADATA_BYTES = 16 * MiB  # xl/workbook.xml, its relationships, xl/styles.xml (read at open)
MAX_SHEET_CELLS = 8_000_000  # a sheet's declared dimension, and the span of its cells
SHARED_STRINGS = "xl/sharedStrings.xml"
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_STYLES = "xl/styles.xml"


@dataclass
class Sheet:
    name: str
    part: zipfile.ZipInfo | None  # None: a sheet calamine finds no part for
    dimensions: list[str] = field(default_factory=list)
    data_offset: int | None = None  # byte offset of <sheetData> in the part
    prefix: bytes | None = None  # of <sheetData> in UTF-8 XML (b"" or b"x:"): the fast scan


def read_sheets(archive: Archive) -> dict[str, Sheet]:
    """Sheet names and parts as calamine resolves them: workbook.xml's ``<sheet r:id>``
    through xl/_rels/workbook.xml.rels, a target outside ``xl/`` taken as relative to it."""
    rels_part = archive.part(_WORKBOOK_RELS)
    workbook_part = archive.part(_WORKBOOK)
    if rels_part is None or workbook_part is None:
        missing = _WORKBOOK_RELS if rels_part is None else _WORKBOOK
        raise archive.broken(f"it has no part {missing!r}")
    for info in (rels_part, workbook_part, archive.part(_STYLES)):
        if info is not None and info.file_size > MAX_METADATA_BYTES:
            raise LandingError(
                archive.path,
                f"part {info.filename!r} is {info.file_size:,} bytes, beyond the bound of "
                f"{MAX_METADATA_BYTES:,}: {REFUSED}",
            )
    targets: dict[str, str] = {}

    def relationship(name, attrs):
        if local_name(name) == "Relationship":
            targets[attrs.get("Id", "")] = attrs.get("Target", "")

    parse(archive, rels_part, relationship)
    # calamine takes a target as written, entities and all; expat decodes them. A target
    # either reads differently could name a part the inspection never sees: refused.
    raw = b"".join(archive.inflate(rels_part))
    for match in re.finditer(rb"""Target\s*=\s*("[^"]*"|'[^']*')""", raw):
        if re.search(rb"[&\t\r\n]", match.group(1)):
            target = match.group(1)[1:-1].decode("utf-8", "replace")
            raise archive.broken(f"a relationship's target {target!r} holds an escape")
    sheets: dict[str, Sheet] = {}

    def sheet(name, attrs):
        if local_name(name) != "sheet":
            return
        title = attrs.get("name", "")
        rid = attrs.get("r:id", attrs.get("relationships:id"))
        target = targets.get(rid) if rid is not None else None
        if target is None:
            raise archive.broken(f"sheet {title!r} has no relationship to a part")
        if target.startswith("/xl/"):
            target = target[1:]
        elif not target.startswith("xl/"):
            target = "xl/" + target
        if title in sheets:
            raise archive.broken(f"it names sheet {title!r} twice")
        sheets[title] = Sheet(title, archive.part(target))

    parse(archive, workbook_part, sheet)
    for entry in sheets.values():
        if entry.part is not None:
            _read_head(archive, entry)
    return sheets


def _read_head(archive: Archive, sheet: Sheet) -> None:
    """A sheet's declared dimensions, read from the start of its XML up to ``<sheetData>``,
    and refused when they claim more cells than its XML has bytes or than the bound."""
    info = sheet.part
    shown = f"{archive.path}[{sheet.name}]"
    expat = parser(archive, info.filename)
    head = bytearray()
    declared_encoding = []

    def start(name, attrs):
        local = local_name(name)
        if local == "dimension" and "ref" in attrs:
            sheet.dimensions.append(attrs["ref"])
        elif local == "sheetData":
            sheet.data_offset = expat.CurrentByteIndex
            sheet.prefix = name[: -len(local)].encode("utf-8")
            raise Stop

    expat.StartElementHandler = start
    expat.XmlDeclHandler = lambda version, encoding, standalone: declared_encoding.append(encoding)
    try:
        for chunk in archive.inflate(info):
            if len(head) < 4:
                head += chunk[:4]
            expat.Parse(chunk, False)
        expat.Parse(b"", True)
    except Stop:
        pass
    except xml.parsers.expat.ExpatError as exc:
        raise not_well_formed(shown, exc) from exc
    # Only UTF-8 XML is plain enough for the fast scan (a prefix of None sends it to the slow).
    encoding = (declared_encoding[0] or "utf-8") if declared_encoding else "utf-8"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or encoding.lower() not in ("utf-8", "utf8"):
        sheet.prefix = None
    for ref in sheet.dimensions:
        box = parse_range(ref)
        if box is None:
            raise LandingError(
                shown,
                f"declares the dimension {ref!r}, which is not a range of Excel's grid "
                "(A1:XFD1048576): refused",
            )
        cells = (box[2] - box[0] + 1) * (box[3] - box[1] + 1)
        if cells > info.file_size:
            raise LandingError(
                shown,
                f"declares {cells:,} cells ({ref}) in {info.file_size:,} bytes of XML: {REFUSED}",
            )
        if cells > MAX_SHEET_CELLS:
            raise LandingError(
                shown,
                f"declares {cells:,} cells ({ref}), beyond the bound of "
                f"{MAX_SHEET_CELLS:,}: {REFUSED}",
            )


def shared_string_lengths(archive: Archive, info: zipfile.ZipInfo | None) -> array:
    """For each shared string calamine keeps, an upper bound of its UTF-8 length."""
    lengths = array("I")
    if info is None:
        return lengths
    try:
        return plain_string_lengths(archive.inflate(info))
    except NotPlain:
        pass
    entry: list[int] | None = None

    def start(name, attrs):
        nonlocal entry
        if local_name(name) == "si":
            entry = [0]

    def end(name):
        nonlocal entry
        if local_name(name) == "si" and entry is not None:
            lengths.append(entry[0])
            entry = None

    def text(data):
        if entry is not None:
            entry[0] += len(data.encode("utf-8", "surrogatepass"))

    parse(archive, info, start, end, text)
    return lengths
