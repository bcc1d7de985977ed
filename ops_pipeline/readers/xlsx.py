"""The one way the project opens an xlsx workbook: inspected first, then read with fastexcel.

fastexcel (calamine 0.36) trusts a workbook: it allocates the span of a sheet's cells up front (a
1.6 KB file with cells A1 and XFD1048576 aborts the process with a Rust allocation failure, exit
134, no Python exception), inflates whatever the zip holds, copies a shared string once for every
cell that refers to it, and reads a formula without a cached value as a blank cell. So
:func:`open_workbook` first inspects the file with the standard library: its zip directory
(entries, sizes, encryption, methods), every part's real inflated size and CRC (read from the raw
data, so a directory that lies is caught), ``xl/workbook.xml`` and its relationships (sheet names
and parts, resolved as calamine resolves them), and each sheet's declared ``<dimension>``,
streaming only the start of its XML. Before fastexcel loads a sheet, :meth:`Workbook.read_sheet`
scans its XML (streaming, bounded memory) for the span of its cells, the shared-string text they
refer to, and formulas without a cached value. fastexcel then reads the very bytes that were
inspected. Whatever is refused is one :class:`LandingError` naming the file (and sheet) and the
bound.

A formula's cached value is decided as calamine decides a cell's value: by the last of its
``<v>``, ``<f>``, ``<is>``; none, or an empty ``<v>`` (``<v/>``, as openpyxl writes), is an
error naming the cell. The one empty ``<v>`` that is a value is a text result's (``t="str"``):
Excel's cached "" of ``IF(…;"";…)``.

The scan has two forms that agree: a fast one (regular expressions over the inflated bytes, ~1.2
µs a cell) for XML as Excel, LibreOffice, openpyxl and SurveyXact write it, and a slow one (expat,
~9 µs a cell) for anything else (cells without ``r``, comments, CDATA, UTF-16, …).

Bounds. The structural ones (``MAX_*``) stop zip bombs and nonsense early; memory is bounded by an
estimate: the file and shared strings when the workbook opens, then each sheet's span, XML and
shared text as it is read, at the costs below, may not exceed ``MEMORY_BOUND`` (512 MiB). The
costs are the worst measured per unit (2026-12-02, this 2-core machine, fastexcel 0.21.0; peak RSS
of a fresh process reading every sheet, above the 62 MiB of the imports), and every workbook
measured stayed under its estimate:

==========================================================  =========  ========
workbook                                                    measured   estimate
==========================================================  =========  ========
Idébank 100,000 × 16 (openpyxl, inline text, 95 MB XML)     169 MiB    223 MiB
SurveyXact 999 × 242 over Dataset(1..3), Labels, Structure   11 MiB     15 MiB
4,000,000 tiny numbers (400,000 × 10, 116 MB XML)           296 MiB    356 MiB
two cells spanning 4,000,000 (A1, J400000)                  135 MiB    172 MiB
32 MiB of one-letter shared strings (1,970,000)             114 MiB    134 MiB
one 1 KiB shared string in 128,000 cells (125 MiB of text)  261 MiB    292 MiB
1,700,000 inline strings of 100 characters (244 MiB XML)    413 MiB    434 MiB
244 rows × 16,384 columns of tiny numbers                   312 MiB    349 MiB
3,000,000 date cells (text of 19 characters each)           226 MiB    310 MiB
32 MiB of shared strings and 4,000,000 tiny numbers         409 MiB    491 MiB
==========================================================  =========  ========

So anything admitted is read in about 550 MB at most, next to the ~400 MB pipeline and DuckDB's
1 GB: well under 2 GB. The 100,000-row Idébank sheet takes 4.1 s (fastexcel alone 2.4 s: the
scan before it ~1.7 s).
"""

from __future__ import annotations

import functools
import io
import re
import struct
import xml.parsers.expat
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ops_pipeline.readers.errors import LandingError

MiB = 1 << 20
MAX_FILE_BYTES = 64 * MiB  # the .xlsx file itself
MAX_ENTRIES = 10_000  # zip entries (parts)
MAX_DIRECTORY_BYTES = 4 * MiB  # the zip's central directory
MAX_PART_BYTES = 256 * MiB  # any one part, inflated
MAX_TOTAL_BYTES = 512 * MiB  # all parts together, inflated
MAX_METADATA_BYTES = 16 * MiB  # xl/workbook.xml, its relationships, xl/styles.xml (read at open)
MAX_SHEET_CELLS = 8_000_000  # a sheet's declared dimension, and the span of its cells
# The memory a workbook's reading takes, estimated at these costs (bytes of memory for each
# byte or cell, measured: see above), may not exceed MEMORY_BOUND.
MEMORY_BOUND = 512 * MiB
COST_FILE_BYTE = 4  # the file: held here, copied by fastexcel, read through
COST_SHARED_STRINGS_BYTE = 4.2  # xl/sharedStrings.xml, which fastexcel keeps whole
COST_CELL = 45  # each cell of a sheet's span (calamine's dense range, Arrow's offsets)
COST_SHEET_XML_BYTE = 1.4  # the sheet's XML: its text in calamine and in Arrow
COST_SHARED_TEXT_BYTE = 2.2  # shared-string text, copied for each cell that refers to it
REFUSED = "refused (export larger tables as CSV)"

_CHUNK = MiB
_MAX_CARRY = 16 * MiB  # one cell's XML the fast scan keeps whole; beyond it the slow scan reads
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_SHARED_STRINGS = "xl/sharedStrings.xml"
_STYLES = "xl/styles.xml"
_EXCEL_ROWS = 1_048_576
_EXCEL_COLUMNS = 16_384
_REF = re.compile(r"([A-Za-z]+)([0-9]+)")

# The fast scan: sheet XML as Excel, openpyxl, LibreOffice and SurveyXact write it (UTF-8, no
# comments, CDATA or prefixes, every cell ``<c r="A1"...``). Anything else goes to the slow scan.
_CELL = re.compile(rb'<c r="([A-Z]{1,7})([0-9]{1,10})"')
_EMPTY_CELL = re.compile(rb'<c r="([A-Z]{1,7})([0-9]{1,10})"([^>]*?)(?:/>|>(<v/>|<v></v>)?</c>)')
_SHARED_CELL = re.compile(rb' t="s"[^>]*><v>([0-9]{1,10})</v>')
_FORMULA = re.compile(rb"<f[\s/>]")
_TYPE = re.compile(rb'\st="([^"]*)"')
_ROW_OF_CELL = re.compile(rb'<c r="[A-Z]{1,7}([0-9]{1,10})"')
_COLUMN_OF_CELL = re.compile(rb'<c r="([A-Z]{1,7})[0-9]')
_PREFIXED = re.compile(rb":(?:c|f|v|is|row|sheetData)[\s/>]")
_PREFIXED_STRING = re.compile(rb":(?:si|sst)[\s/>]")
# calamine reads a <v> of these types as empty when it holds no text (a "str" <v></v> is "").
_EMPTY_WHEN_BLANK = (None, "n", "s", "b", "e")


@dataclass
class _Sheet:
    name: str
    part: zipfile.ZipInfo | None  # None: a sheet calamine finds no part for
    dimensions: list[str] = field(default_factory=list)
    data_offset: int | None = None  # byte offset of <sheetData> in the part
    prefix: bytes | None = None  # of <sheetData> in UTF-8 XML (b"" or b"x:"): the fast scan


@dataclass
class _Scan:
    """What the scan of one sheet found (rows and columns count from 1)."""

    span: list[int] | None = None  # [first row, first col, last row, last col] of all <c>
    values: list[int] | None = None  # the same for the cells calamine reads a value from
    missing: tuple[int, int] | None = None  # first formula cell without a cached value
    shared_text: int = 0  # bytes of shared-string text the cells refer to (an upper bound)
    columns: set[bytes] = field(default_factory=set)  # column letters seen (the fast scan)


class _Stop(Exception):
    """Ends an expat parse early."""


class _NotPlain(Exception):
    """The fast scan met XML it does not read; the slow scan reads the sheet."""


def open_workbook(path: Path) -> Workbook:
    """Inspect the xlsx ``path`` and open it for reading; raise :class:`LandingError` naming the
    file when it cannot be opened or is beyond the bounds."""
    return Workbook(Path(path))


class Workbook:
    """An inspected xlsx workbook. ``sheet_names`` in workbook order; sheets are read with
    :meth:`read_sheet`, which checks each against the bounds of the workbook as a whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data = _read_file(path)
        self._zip = _open_zip(path, self._data)
        self._parts = {_key(info.filename): info for info in self._zip.infolist()}
        self._sheets = self._read_sheets()
        # Every part but the sheets' own XML (checked when a sheet is read) is checked now:
        # fastexcel reads some of them (relationships, tables) when it opens the workbook.
        sheet_parts = {id(sheet.part) for sheet in self._sheets.values()}
        for info in self._zip.infolist():
            if id(info) not in sheet_parts:
                self._verify(info)
        shared = self._part(_SHARED_STRINGS)
        shared_size = shared.file_size if shared else 0
        self._estimate = COST_FILE_BYTE * len(self._data) + COST_SHARED_STRINGS_BYTE * shared_size
        if self._estimate > MEMORY_BOUND:
            raise LandingError(
                self.path,
                f"reading it takes about {_mib(self._estimate)} of memory for its "
                f"{len(self._data):,} bytes and {shared_size:,} bytes of shared strings, beyond "
                f"the bound of {_mib(MEMORY_BOUND)}: {REFUSED}",
            )
        self._shared = self._shared_string_lengths(shared)
        self._reader = self._open_reader()

    @property
    def sheet_names(self) -> list[str]:
        return list(self._sheets)

    def close(self) -> None:
        """Let go of the file's bytes and fastexcel's reader."""
        self._data = b""
        self._reader = None

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read_sheet(self, name: str, *, header: bool) -> pa.Table:
        """Every cell of sheet ``name`` as text (blank cells null), as a sheet shows it; a sheet
        without a cell is an error.

        ``header``: row 1 names the columns (a blank name becomes ``__UNNAMED__<i>``) and the
        table holds rows 2…; a name repeated after trimming is an error. Without a header the
        table starts at cell A1 (columns ``__UNNAMED__0``…), so table row i is sheet row i + 1.
        """
        if name not in self._sheets:
            raise LandingError(
                self.path, f"has no sheet {name!r} (sheets: {', '.join(self._sheets)})"
            )
        sheet = self._sheets[name]
        shown = f"{self.path}[{name}]"
        scan = self._scan(sheet, shown)
        self._admit(sheet, scan, shown)
        table = self._load(name, shown)
        if table.num_columns == 0 and scan.values is None:
            if scan.missing:
                raise _formula_error(shown, scan.missing, None)
            raise LandingError(shown, "the sheet is empty")
        first_row, first_col, scan = self._origin(sheet, scan, table, shown)
        header_row = [table.column(i)[0].as_py() for i in range(table.num_columns)]
        if scan.missing:
            row, col = scan.missing
            text = None
            if header and first_row == 1 and row > 1 and 0 <= col - first_col < len(header_row):
                text = header_row[col - first_col]
            raise _formula_error(shown, scan.missing, text if text and text.strip() else None)
        if not header:
            return _from_a1(table, first_row, first_col)
        if first_row != 1:
            raise LandingError(shown, "row 1 is blank: the header must be the first row", row=1)
        names = [
            f"__UNNAMED__{i}" if value is None or not value.strip() else value
            for i, value in enumerate(header_row)
        ]
        seen: dict[str, int] = {}
        for i, value in enumerate(names):
            key = value.strip()
            if key in seen:
                j = seen[key]
                raise LandingError(
                    shown,
                    f"column '{value}' repeats column '{names[j]}' (columns "
                    f"{_letters(first_col + j)} and {_letters(first_col + i)}): header names "
                    "must be unique after trimming spaces",
                    row=1,
                    column=value,
                )
            seen[key] = i
        return table.slice(1).rename_columns(names)

    # -- inspection at open -------------------------------------------------------------------

    def _part(self, name: str) -> zipfile.ZipInfo | None:
        """A part by name, found as calamine finds it (ASCII case ignored)."""
        return self._parts.get(_key(name))

    def _broken(self, problem: str) -> LandingError:
        return LandingError(self.path, f"cannot be opened as xlsx: {problem}")

    def _verify(self, info: zipfile.ZipInfo) -> None:
        for _ in self._inflate(info):
            pass

    def _inflate(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The inflated bytes of a part, in chunks, from its raw data: never more than its
        declared size, and checked against its size and CRC when read to the end."""
        data = self._data
        name = info.filename
        offset = info.header_offset
        header = data[offset : offset + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise self._broken(f"part {name!r} has no local header (the file is damaged)")
        fields = _LOCAL_HEADER.unpack(header)
        start = offset + _LOCAL_HEADER.size + fields[10] + fields[11]
        raw = memoryview(data)[start : start + info.compress_size]
        if len(raw) < info.compress_size:
            raise self._broken(f"part {name!r} is cut short (the file is truncated)")
        size = info.file_size
        crc = 0
        produced = 0
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != size:
                raise self._broken(f"part {name!r} is stored with two different sizes")
            for i in range(0, size, _CHUNK):
                chunk = bytes(raw[i : i + _CHUNK])
                crc = zlib.crc32(chunk, crc)
                yield chunk
        else:
            inflater = zlib.decompressobj(-15)
            position = 0
            pending = b""
            while not inflater.eof:
                if not pending and position < len(raw):
                    pending = raw[position : position + MiB]
                    position += len(pending)
                try:
                    chunk = inflater.decompress(pending, _CHUNK)
                except zlib.error as exc:
                    problem = f"part {name!r} is damaged (its deflate data is corrupt)"
                    raise self._broken(problem) from exc
                pending = inflater.unconsumed_tail
                produced += len(chunk)
                if produced > size:
                    raise self._broken(
                        f"part {name!r} inflates to more than its declared {size:,} bytes"
                    )
                if chunk:
                    crc = zlib.crc32(chunk, crc)
                    yield chunk
                elif not pending and position >= len(raw):
                    break
            if not inflater.eof:
                raise self._broken(f"part {name!r} is cut short (its deflate data ends early)")
            if produced != size:
                raise self._broken(
                    f"part {name!r} inflates to {produced:,} bytes, not its declared {size:,}"
                )
        if crc != info.CRC:
            raise self._broken(f"part {name!r} is damaged (its CRC does not match)")

    def _parse(self, info: zipfile.ZipInfo, start=None, end=None, text=None) -> None:
        """Parse a small part with expat (no DTD), calling the handlers given."""
        parser = _parser(self, info.filename)
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        if text:
            parser.CharacterDataHandler = text
        try:
            for chunk in self._inflate(info):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except xml.parsers.expat.ExpatError as exc:
            raise self._broken(f"part {info.filename!r} is not well-formed XML ({exc})") from exc

    def _read_sheets(self) -> dict[str, _Sheet]:
        """Sheet names and parts as calamine resolves them: workbook.xml's ``<sheet r:id>``
        through xl/_rels/workbook.xml.rels, a target outside ``xl/`` taken as relative to it."""
        rels_part = self._part(_WORKBOOK_RELS)
        workbook_part = self._part(_WORKBOOK)
        if rels_part is None or workbook_part is None:
            missing = _WORKBOOK_RELS if rels_part is None else _WORKBOOK
            raise self._broken(f"it has no part {missing!r}")
        for info in (rels_part, workbook_part, self._part(_STYLES)):
            if info is not None and info.file_size > MAX_METADATA_BYTES:
                raise LandingError(
                    self.path,
                    f"part {info.filename!r} is {info.file_size:,} bytes, beyond the bound of "
                    f"{MAX_METADATA_BYTES:,}: {REFUSED}",
                )
        targets: dict[str, str] = {}

        def relationship(name, attrs):
            if _local(name) == "Relationship":
                targets[attrs.get("Id", "")] = attrs.get("Target", "")

        self._parse(rels_part, relationship)
        # calamine takes a target as written, entities and all; expat decodes them. A target
        # either reads differently could name a part the inspection never sees: refused.
        raw = b"".join(self._inflate(rels_part))
        for match in re.finditer(rb"""Target\s*=\s*("[^"]*"|'[^']*')""", raw):
            if re.search(rb"[&\t\r\n]", match.group(1)):
                target = match.group(1)[1:-1].decode("utf-8", "replace")
                raise self._broken(f"a relationship's target {target!r} holds an escape")
        sheets: dict[str, _Sheet] = {}

        def sheet(name, attrs):
            if _local(name) != "sheet":
                return
            title = attrs.get("name", "")
            rid = attrs.get("r:id", attrs.get("relationships:id"))
            target = targets.get(rid) if rid is not None else None
            if target is None:
                raise self._broken(f"sheet {title!r} has no relationship to a part")
            if target.startswith("/xl/"):
                target = target[1:]
            elif not target.startswith("xl/"):
                target = "xl/" + target
            if title in sheets:
                raise self._broken(f"it names sheet {title!r} twice")
            sheets[title] = _Sheet(title, self._part(target))

        self._parse(workbook_part, sheet)
        for entry in sheets.values():
            if entry.part is not None:
                self._read_head(entry)
        return sheets

    def _read_head(self, sheet: _Sheet) -> None:
        """A sheet's declared dimensions, read from the start of its XML up to ``<sheetData>``,
        and refused when they claim more cells than its XML has bytes or than the bound."""
        info = sheet.part
        shown = f"{self.path}[{sheet.name}]"
        parser = _parser(self, info.filename)
        head = bytearray()
        declared_encoding = []

        def start(name, attrs):
            local = _local(name)
            if local == "dimension" and "ref" in attrs:
                sheet.dimensions.append(attrs["ref"])
            elif local == "sheetData":
                sheet.data_offset = parser.CurrentByteIndex
                sheet.prefix = name[: -len(local)].encode("utf-8")
                raise _Stop

        parser.StartElementHandler = start
        parser.XmlDeclHandler = lambda version, encoding, standalone: declared_encoding.append(
            encoding
        )
        try:
            for chunk in self._inflate(info):
                if len(head) < 4:
                    head += chunk[:4]
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Stop:
            pass
        except xml.parsers.expat.ExpatError as exc:
            raise _not_well_formed(shown, exc) from exc
        encoding = (declared_encoding[0] or "utf-8") if declared_encoding else "utf-8"
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or encoding.lower() not in ("utf-8", "utf8"):
            sheet.prefix = None
        for ref in sheet.dimensions:
            box = _parse_range(ref)
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
                    f"declares {cells:,} cells ({ref}) in {info.file_size:,} bytes of XML: "
                    f"{REFUSED}",
                )
            if cells > MAX_SHEET_CELLS:
                raise LandingError(
                    shown,
                    f"declares {cells:,} cells ({ref}), beyond the bound of "
                    f"{MAX_SHEET_CELLS:,}: {REFUSED}",
                )

    def _shared_string_lengths(self, info: zipfile.ZipInfo | None) -> array:
        """For each shared string calamine keeps, an upper bound of its UTF-8 length."""
        lengths = array("I")
        if info is None:
            return lengths
        try:
            return _plain_string_lengths(self._inflate(info))
        except _NotPlain:
            pass
        entry: list[int] | None = None

        def start(name, attrs):
            nonlocal entry
            if _local(name) == "si":
                entry = [0]

        def end(name):
            nonlocal entry
            if _local(name) == "si" and entry is not None:
                lengths.append(entry[0])
                entry = None

        def text(data):
            if entry is not None:
                entry[0] += len(data.encode("utf-8", "surrogatepass"))

        self._parse(info, start, end, text)
        return lengths

    def _open_reader(self):
        import fastexcel  # imported here: only xlsx files need it

        try:
            reader = fastexcel.read_excel(self._data)
        except Exception as exc:
            raise LandingError(self.path, f"cannot be read as xlsx: {_first_line(exc)}") from exc
        if list(reader.sheet_names) != list(self._sheets):
            raise LandingError(
                self.path,
                "cannot be read as xlsx: its sheets are not the ones xl/workbook.xml names "
                f"({', '.join(reader.sheet_names)})",
            )
        return reader

    # -- reading a sheet ----------------------------------------------------------------------

    def _scan(self, sheet: _Sheet, shown: str) -> _Scan:
        if sheet.part is None or sheet.data_offset is None:
            if sheet.part is not None:
                self._verify(sheet.part)
            return _Scan()
        if sheet.prefix is not None:
            try:
                return self._scan_plain(sheet)
            except _NotPlain:
                pass
        return self._scan_xml(sheet, shown)

    def _admit(self, sheet: _Sheet, scan: _Scan, shown: str) -> None:
        """Refuse a sheet whose cells span more than the bound, or whose reading would take the
        workbook's memory estimate beyond MEMORY_BOUND."""
        cells, span = 0, "no cells"
        if scan.span:
            r1, c1, r2, c2 = scan.span
            cells = (r2 - r1 + 1) * (c2 - c1 + 1)
            span = _range_text(scan.span)
            if cells > MAX_SHEET_CELLS:
                raise LandingError(
                    shown,
                    f"its cells span {span} ({cells:,} cells), beyond the bound of "
                    f"{MAX_SHEET_CELLS:,}: {REFUSED}",
                )
        xml_bytes = sheet.part.file_size if sheet.part else 0
        cost = (
            COST_CELL * cells
            + COST_SHEET_XML_BYTE * xml_bytes
            + COST_SHARED_TEXT_BYTE * scan.shared_text
        )
        self._estimate += cost
        if self._estimate > MEMORY_BOUND:
            raise LandingError(
                shown,
                f"reading it takes about {_mib(cost)} of memory ({cells:,} cells in {span}, "
                f"{xml_bytes:,} bytes of XML, {scan.shared_text:,} bytes of shared text), "
                f"{_mib(self._estimate)} with the rest of the workbook read: beyond the bound of "
                f"{_mib(MEMORY_BOUND)}: {REFUSED}",
            )

    def _load(self, name: str, shown: str) -> pa.Table:
        try:
            loaded = self._reader.load_sheet(
                name, header_row=None, dtypes="string", schema_sample_rows=None
            ).to_arrow()
        except Exception as exc:
            raise LandingError(shown, f"cannot be read as xlsx: {_first_line(exc)}") from exc
        if isinstance(loaded, pa.RecordBatch):
            loaded = pa.Table.from_batches([loaded])
        return loaded

    def _origin(
        self, sheet: _Sheet, scan: _Scan, table: pa.Table, shown: str
    ) -> tuple[int, int, _Scan]:
        """Sheet row and column of the table's first cell: fastexcel starts a sheet at its first
        cell with a value, which the scan found. A scan that disagrees with fastexcel about the
        shape is an error, never a guess."""
        shape = (table.num_rows, table.num_columns)
        for attempt in (scan, None):
            if attempt is None:
                if sheet.prefix is None:
                    break
                attempt = self._scan_xml(sheet, shown)
            if attempt.values:
                r1, c1, r2, c2 = attempt.values
                if (r2 - r1 + 1, c2 - c1 + 1) == shape:
                    return r1, c1, attempt
        where = _range_text(scan.values or scan.span) if scan.values or scan.span else "none"
        raise LandingError(
            shown,
            f"cannot be read as xlsx: fastexcel finds {shape[0]:,} rows × {shape[1]:,} columns "
            f"where its XML has cells in {where}",
        )

    def _scan_plain(self, sheet: _Sheet) -> _Scan:
        """The fast scan of sheet XML in the plain form: regular expressions over the inflated
        bytes of ``<sheetData>``, a few passes per 4 MiB in C. Raises _NotPlain otherwise."""
        scan = _Scan()
        chunks = self._inflate(sheet.part)
        offset = sheet.data_offset
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
                raise _NotPlain
            buffer += more
        if buffer[close - 1 : close] == b"/":  # <sheetData/>
            for _ in chunks:
                pass
            return scan
        buffer = buffer[close + 1 :]
        prefix = sheet.prefix
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
                _scan_cells(body, scan, self._shared)
            if not done:
                if len(buffer) > _MAX_CARRY:
                    raise _NotPlain
                more = next(chunks, None)
                if more is None:
                    raise _NotPlain  # no </sheetData>: the slow scan (and fastexcel) tell
                buffer += more
        for _ in chunks:  # the rest is read too: its size and CRC are checked at the end
            pass
        return scan

    def _scan_xml(self, sheet: _Sheet, shown: str) -> _Scan:
        """The slow scan: expat over the whole sheet XML, positions and values as calamine
        reads them (a ``<c>`` without ``r`` follows the cell before it in its row; the last of
        a cell's ``<v>``, ``<f>``, ``<is>`` gives its value): ~9 µs a cell."""
        scan = _Scan()
        parser = _parser(self, sheet.part.filename)
        parser.buffer_text = True
        lengths = self._shared
        names: dict[str, str] = {}
        in_data = in_cell = False
        depth = row = col = 0  # depth inside a cell; calamine's 0-based row and column
        cell_row = cell_col = 0
        kind = last = None
        formula = False
        text: list[str] = []

        def start(name, attrs):
            nonlocal in_data, in_cell, depth, row, col, cell_row, cell_col, kind, last, formula
            local = names.get(name) or names.setdefault(name, name.rpartition(":")[2])
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
                    match = _REF.fullmatch(ref)
                    if match is None or int(match.group(2)) == 0:
                        raise LandingError(
                            shown, f"cannot be read as xlsx: cell reference {ref!r} is not a cell"
                        )
                    cell_row, cell_col = int(match.group(2)), _column(match.group(1))
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
                local = names.get(name) or names.setdefault(name, name.rpartition(":")[2])
                if local == "row":
                    row += 1
                    col = 0
                elif local == "sheetData":
                    raise _Stop

        def characters(data):
            if in_cell and depth == 1 and last == "v" and len(text) < 4:
                text.append(data)

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        chunks = self._inflate(sheet.part)
        try:
            for chunk in chunks:
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Stop:
            for _ in chunks:  # read to the end: its size and CRC are checked
                pass
        except xml.parsers.expat.ExpatError as exc:
            raise _not_well_formed(shown, exc) from exc
        return scan


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LandingError(
                path, f"is {size:,} bytes, beyond the bound of {MAX_FILE_BYTES:,}: {REFUSED}"
            )
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LandingError(path, f"cannot be opened as xlsx: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise LandingError(path, f"grew beyond the bound of {MAX_FILE_BYTES:,} bytes: {REFUSED}")
    return data


def _open_zip(path: Path, data: bytes) -> zipfile.ZipFile:
    """The zip directory, after its end record says it is within the bounds."""

    def broken(problem: str) -> LandingError:
        return LandingError(path, f"cannot be opened as xlsx: {problem}")

    if data.startswith(_OLE2):
        raise broken(
            "it is an OLE2 compound file (a password-protected workbook, or an .xls named .xlsx)"
        )
    if not data.startswith(b"PK"):
        raise broken("it is not a zip archive" if data else "the file is empty")
    end = data.rfind(_EOCD, max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or len(data) < end + 22:
        raise broken("the zip archive is truncated (it has no central directory)")
    entries, directory = struct.unpack_from("<HL", data, end + 10)
    if entries == 0xFFFF or directory == 0xFFFFFFFF:
        locator = end - 20
        if locator >= 0 and data[locator : locator + 4] == _ZIP64_LOCATOR:
            (record,) = struct.unpack_from("<Q", data, locator + 8)
            if data[record : record + 4] == _ZIP64_EOCD and len(data) >= record + 56:
                entries, directory = struct.unpack_from("<QQ", data, record + 32)
    if entries > MAX_ENTRIES:
        raise LandingError(
            path, f"has {entries:,} zip entries, beyond the bound of {MAX_ENTRIES:,}: {REFUSED}"
        )
    if directory > MAX_DIRECTORY_BYTES:
        raise LandingError(
            path,
            f"has a zip directory of {directory:,} bytes, beyond the bound of "
            f"{MAX_DIRECTORY_BYTES:,}: {REFUSED}",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise broken(f"the zip archive is damaged ({_first_line(exc)})") from exc
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise LandingError(
            path, f"has {len(infos):,} zip entries, beyond the bound of {MAX_ENTRIES:,}: {REFUSED}"
        )
    names: set[str] = set()
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise broken(f"part {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise broken(
                f"part {info.filename!r} uses compression method {info.compress_type} (only "
                "stored and deflate are read)"
            )
        key = _key(info.filename)
        if key in names:
            raise broken(f"it holds part {info.filename!r} twice")
        names.add(key)
        if info.file_size > MAX_PART_BYTES:
            raise LandingError(
                path,
                f"part {info.filename!r} is {info.file_size:,} bytes inflated, beyond the bound "
                f"of {MAX_PART_BYTES:,}: {REFUSED}",
            )
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise LandingError(
            path,
            f"its parts are {total:,} bytes inflated, beyond the bound of {MAX_TOTAL_BYTES:,}: "
            f"{REFUSED}",
        )
    return archive


def _parser(workbook: Workbook, part: str):
    """An expat parser that refuses a DTD (no entity of a part can then expand)."""
    parser = xml.parsers.expat.ParserCreate()

    def doctype(*_):
        raise workbook._broken(f"part {part!r} declares a DTD, which xlsx parts never do")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    return parser


def _plain_string_lengths(chunks: Iterator[bytes]) -> array:
    """Shared-string lengths from sharedStrings.xml in the plain form (``<si>`` without
    attributes, UTF-8, no comments, CDATA or prefixed <si>): the bytes from one ``<si>`` to the
    next bound its text. Raises _NotPlain otherwise."""
    lengths = array("I")
    buffer = b""
    head = True
    for chunk in chunks:
        buffer += chunk
        if head:
            if buffer.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise _NotPlain
            if buffer.startswith(b"<?"):
                close = buffer.find(b"?>")
                if close < 0:
                    continue
                declaration = buffer[: close + 2].lower()
                utf8 = re.search(rb"encoding=[\"']utf-?8[\"']", declaration)
                if b"encoding" in declaration and not utf8:
                    raise _NotPlain
                buffer = buffer[close + 2 :]
            head = False
        cut = buffer.rfind(b"<si>")
        if cut < 0:
            if len(buffer) > _MAX_CARRY:
                raise _NotPlain
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
        raise _NotPlain
    # calamine keeps one string per <si> (an empty one too); [0] precedes the first <si>.
    lengths.extend(map(len, region.split(b"<si>")[1:]))


def _scan_cells(body: bytes, scan: _Scan, lengths: array) -> None:
    """Note the whole cells of ``body`` (plain sheet XML inside <sheetData>)."""
    if b"<!" in body or b"<?" in body or _PREFIXED.search(body):
        raise _NotPlain
    rows = _ROW_OF_CELL.findall(body)
    starts = body.count(b"<c")
    if starts != len(rows):
        starts -= body.count(b"<co") + body.count(b"<ch")  # rich text: <color>, <charset>
        if starts != len(rows):
            raise _NotPlain  # a cell without r, or r not its first attribute: the slow scan
    if not rows:
        return
    shared = body.count(b' t="s"')
    if shared:
        indexes = _SHARED_CELL.findall(body)
        if len(indexes) != shared:
            raise _NotPlain
        size = len(lengths)
        scan.shared_text += sum(lengths[i] if i < size else 0 for i in map(int, indexes))
    empty: set[tuple[bytes, bytes]] = set()
    if b"/>" in body or b'"></c>' in body or b"<v></v>" in body:
        for letters, digits, attrs, value in _EMPTY_CELL.findall(body):
            kind = _TYPE.search(attrs)
            kind = kind.group(1).decode("ascii", "replace") if kind else None
            if not value or kind in _EMPTY_WHEN_BLANK or kind in ("inlineStr", "is"):
                empty.add((letters, digits))
    if b"<f" in body:
        _scan_formulas(body, scan, empty)
    numbers = list(map(int, set(rows)))
    columns = list(map(_column_of, _new_columns(body, scan))) or scan.span[1::2]
    span = [min(numbers), min(columns), max(numbers), max(columns)]
    scan.span = _union(scan.span, span)
    if empty:
        values = [ref for ref in set(_CELL.findall(body)) if ref not in empty]
        scan.values = _union(scan.values, _box(values) if values else None)
    else:
        scan.values = _union(scan.values, span)


def _new_columns(body: bytes, scan: _Scan) -> set[bytes]:
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
    return _column(letters.decode("ascii"))


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


def _scan_formulas(body: bytes, scan: _Scan, empty: set) -> None:
    """Formula cells of plain XML whose value calamine reads as empty: no <v> after the <f>, an
    empty <v> of a type that reads blank as empty, or an inline-string cell's <v>."""
    done = -1
    for match in _FORMULA.finditer(body):
        if match.start() < done:
            continue
        start = body.rfind(b'<c r="', 0, match.start())
        end = body.find(b"</c>", match.end())
        if start < 0 or end < 0:
            raise _NotPlain
        done = end
        tag_end = body.find(b">", start)
        tag, inner = body[start:tag_end], body[tag_end + 1 : end]
        if b"<is" in inner or b"<![" in inner:
            raise _NotPlain
        kind = _TYPE.search(tag)
        kind = kind.group(1).decode("ascii", "replace") if kind else None
        last_v, last_f = inner.rfind(b"<v"), inner.rfind(b"<f")
        if last_v < last_f or kind in ("inlineStr", "is"):
            blank = True
        else:
            close = inner.find(b">", last_v)
            value = inner[close + 1 :].split(b"<", 1)[0]
            if inner[close - 1 : close] == b"/":  # <v/>
                value = b""
            blank = kind in _EMPTY_WHEN_BLANK and (not value or value.startswith(b"&"))
        if blank:
            ref = _CELL.match(body, start)
            letters, digits = ref.group(1), ref.group(2)
            empty.add((letters, digits))
            position = (int(digits), _column(letters.decode("ascii")))
            if scan.missing is None or position < scan.missing:
                scan.missing = position


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
        if kind in ("inlineStr", "is"):
            has_value = False
        elif kind in _EMPTY_WHEN_BLANK:
            has_value = text != ""
        else:
            has_value = True
        if has_value and kind == "s" and text.strip().isdigit():
            index = int(text.strip())
            scan.shared_text += lengths[index] if index < len(lengths) else 0
    else:
        has_value = False
    if has_value:
        scan.values = _union(scan.values, [row, col, row, col])
    elif formula and (scan.missing is None or (row, col) < scan.missing):
        scan.missing = (row, col)


def _box(cells) -> list[int]:
    """[first row, first col, last row, last col] of (letters, digits) references."""
    letters, digits = zip(*cells, strict=True)  # in C: no Python loop per cell
    columns = [_column(c.decode("ascii")) for c in set(letters)]
    rows = list(map(int, set(digits)))
    return [min(rows), min(columns), max(rows), max(columns)]


def _union(a: list[int] | None, b: list[int] | None) -> list[int] | None:
    if a is None:
        return b
    if b is None:
        return a
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def _from_a1(table: pa.Table, first_row: int, first_col: int) -> pa.Table:
    """The table padded with null rows and columns so that it starts at cell A1."""
    columns = list(table.columns)
    if first_row > 1:
        columns = [
            pa.chunked_array([pa.nulls(first_row - 1, column.type), *column.chunks])
            for column in columns
        ]
    height = table.num_rows + first_row - 1
    columns = [pa.nulls(height, pa.string())] * (first_col - 1) + columns
    return pa.table(columns, names=[f"__UNNAMED__{i}" for i in range(len(columns))])


def _not_well_formed(shown: str, exc: xml.parsers.expat.ExpatError) -> LandingError:
    return LandingError(shown, f"cannot be read as xlsx: its XML is not well-formed ({exc})")


def _formula_error(shown: str, cell: tuple[int, int], column: str | None) -> LandingError:
    row, col = cell
    return LandingError(
        shown,
        f"cell {_letters(col)}{row} holds a formula without a cached value: its value is "
        "unknown (recalculate and save it in Excel, or export CSV)",
        row=row,
        column=column,
    )


def _parse_range(ref: str) -> list[int] | None:
    """A dimension ``A1`` or ``A1:D9`` as [first row, first col, last row, last col], or None
    when it is not a forward range inside Excel's grid."""
    parts = ref.split(":")
    if len(parts) > 2:
        return None
    cells = [_parse_cell(part) for part in parts]
    if any(c is None for c in cells):
        return None
    (r1, c1), (r2, c2) = cells[0], cells[-1]
    if r2 < r1 or c2 < c1:
        return None
    return [r1, c1, r2, c2]


def _parse_cell(ref: str) -> tuple[int, int] | None:
    """``B7`` as (7, 2); None when it is not a cell of Excel's grid."""
    match = _REF.fullmatch(ref)
    if match is None or len(match.group(1)) > 3 or len(match.group(2)) > 7:
        return None
    row, col = int(match.group(2)), _column(match.group(1))
    if not (1 <= row <= _EXCEL_ROWS and 1 <= col <= _EXCEL_COLUMNS):
        return None
    return row, col


def _column(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def _letters(column: int) -> str:
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _range_text(box: list[int]) -> str:
    return f"{_letters(box[1])}{box[0]}:{_letters(box[3])}{box[2]}"


def _mib(size: float) -> str:
    return f"{size / MiB:,.0f} MiB"


def _key(name: str) -> bytes:
    """A part name as calamine matches it: ASCII case ignored (and only ASCII case)."""
    return name.encode("utf-8", "surrogateescape").lower()


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
