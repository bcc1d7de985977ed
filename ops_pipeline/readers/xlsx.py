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

The parts of the work, each in its module: the zip and its parts checked as they are inflated
(:mod:`~ops_pipeline.readers.xlsx_archive`), what the workbook declares at open
(:mod:`~ops_pipeline.readers.xlsx_parts`), the fast and the slow scan
(:mod:`~ops_pipeline.readers.xlsx_plain`, :mod:`~ops_pipeline.readers.xlsx_expat`) and cell
references (:mod:`~ops_pipeline.readers.xlsx_cells`); this module reads sheets with fastexcel.

Bounds. The structural ones (``MAX_*``, where each is checked) stop zip bombs and nonsense early;
memory is bounded by an estimate: the file and shared strings when the workbook opens, then each
sheet's span, XML and shared text as it is read, at the costs below, may not exceed
``MEMORY_BOUND`` (512 MiB). The costs are the worst measured per unit (2026-12-02, this 2-core
machine, fastexcel 0.21.0; peak RSS of a fresh process reading every sheet, above the 62 MiB of
the imports), and every workbook measured stayed under its estimate:

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

from pathlib import Path

import pyarrow as pa

from ops_pipeline.readers.errors import LandingError, message_line
from ops_pipeline.readers.xlsx_archive import REFUSED, Archive, MiB
from ops_pipeline.readers.xlsx_cells import Scan, column_letters, range_text
from ops_pipeline.readers.xlsx_expat import scan_xml
from ops_pipeline.readers.xlsx_parts import (
    MAX_SHEET_CELLS,
    SHARED_STRINGS,
    Sheet,
    read_sheets,
    shared_string_lengths,
)
from ops_pipeline.readers.xlsx_plain import NotPlain, scan_plain

# The memory a workbook's reading takes, estimated at these costs (bytes of memory for each
# byte or cell, measured: see above), may not exceed MEMORY_BOUND.
MEMORY_BOUND = 512 * MiB
COST_FILE_BYTE = 4  # the file: held here, copied by fastexcel, read through
COST_SHARED_STRINGS_BYTE = 4.2  # xl/sharedStrings.xml, which fastexcel keeps whole
COST_CELL = 45  # each cell of a sheet's span (calamine's dense range, Arrow's offsets)
COST_SHEET_XML_BYTE = 1.4  # the sheet's XML: its text in calamine and in Arrow
COST_SHARED_TEXT_BYTE = 2.2  # shared-string text, copied for each cell that refers to it


def open_workbook(path: Path) -> Workbook:
    """Inspect the xlsx ``path`` and open it for reading; raise :class:`LandingError` naming the
    file when it cannot be opened or is beyond the bounds."""
    return Workbook(Path(path))


class Workbook:
    """An inspected xlsx workbook. ``sheet_names`` in workbook order; sheets are read with
    :meth:`read_sheet`, which checks each against the bounds of the workbook as a whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._archive = Archive(path)
        self._sheets = read_sheets(self._archive)
        # Every part but the sheets' own XML (checked when a sheet is read) is checked now:
        # fastexcel reads some of them (relationships, tables) when it opens the workbook.
        sheet_parts = {id(sheet.part) for sheet in self._sheets.values()}
        for info in self._archive.infos:
            if id(info) not in sheet_parts:
                self._archive.verify(info)
        shared = self._archive.part(SHARED_STRINGS)
        shared_size = shared.file_size if shared else 0
        size = len(self._archive.data)
        self._estimate = COST_FILE_BYTE * size + COST_SHARED_STRINGS_BYTE * shared_size
        if self._estimate > MEMORY_BOUND:
            raise LandingError(
                self.path,
                f"reading it takes about {_mib(self._estimate)} of memory for its "
                f"{size:,} bytes and {shared_size:,} bytes of shared strings, beyond "
                f"the bound of {_mib(MEMORY_BOUND)}: {REFUSED}",
            )
        self._shared = shared_string_lengths(self._archive, shared)
        self._reader = self._open_reader()

    @property
    def sheet_names(self) -> list[str]:
        return list(self._sheets)

    def close(self) -> None:
        """Let go of the file's bytes and fastexcel's reader."""
        self._archive.close()
        self._reader = None

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def no_sheet(self, name: str) -> LandingError:
        """The error for a sheet ``name`` the workbook does not have, naming those it has."""
        return LandingError(self.path, f"has no sheet {name!r} (sheets: {', '.join(self._sheets)})")

    def read_sheet(self, name: str, *, header: bool) -> pa.Table:
        """Every cell of sheet ``name`` as text (blank cells null), as a sheet shows it; a sheet
        without a cell is an error.

        ``header``: row 1 names the columns (a blank name becomes ``__UNNAMED__<i>``) and the
        table holds rows 2…; a name repeated after trimming is an error. Without a header the
        table starts at cell A1 (columns ``__UNNAMED__0``…), so table row i is sheet row i + 1.
        """
        if name not in self._sheets:
            raise self.no_sheet(name)
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
                    f"{column_letters(first_col + j)} and {column_letters(first_col + i)}): "
                    "header names must be unique after trimming spaces",
                    row=1,
                    column=value,
                )
            seen[key] = i
        return table.slice(1).rename_columns(names)

    def _open_reader(self):
        import fastexcel  # imported here: only xlsx files need it

        try:
            reader = fastexcel.read_excel(self._archive.data)
        except Exception as exc:
            raise _unreadable(self.path, exc) from exc
        if list(reader.sheet_names) != list(self._sheets):
            raise LandingError(
                self.path,
                "cannot be read as xlsx: its sheets are not the ones xl/workbook.xml names "
                f"({', '.join(reader.sheet_names)})",
            )
        return reader

    def _scan(self, sheet: Sheet, shown: str) -> Scan:
        if sheet.part is None or sheet.data_offset is None:
            if sheet.part is not None:
                self._archive.verify(sheet.part)
            return Scan()
        if sheet.prefix is not None:
            try:
                chunks = self._archive.inflate(sheet.part)
                return scan_plain(chunks, sheet.data_offset, sheet.prefix, self._shared)
            except NotPlain:
                pass
        return scan_xml(self._archive, sheet.part, shown, self._shared)

    def _admit(self, sheet: Sheet, scan: Scan, shown: str) -> None:
        """Refuse a sheet whose cells span more than the bound, or whose reading would take the
        workbook's memory estimate beyond MEMORY_BOUND."""
        cells, span = 0, "no cells"
        if scan.span:
            r1, c1, r2, c2 = scan.span
            cells = (r2 - r1 + 1) * (c2 - c1 + 1)
            span = range_text(scan.span)
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
            raise _unreadable(shown, exc) from exc
        if isinstance(loaded, pa.RecordBatch):
            loaded = pa.Table.from_batches([loaded])
        return loaded

    def _origin(
        self, sheet: Sheet, scan: Scan, table: pa.Table, shown: str
    ) -> tuple[int, int, Scan]:
        """Sheet row and column of the table's first cell: fastexcel starts a sheet at its first
        cell with a value, which the scan found. A scan that disagrees with fastexcel about the
        shape is an error, never a guess."""
        shape = (table.num_rows, table.num_columns)
        for attempt in (scan, None):
            if attempt is None:
                if sheet.prefix is None:
                    break
                attempt = scan_xml(self._archive, sheet.part, shown, self._shared)
            if attempt.values:
                r1, c1, r2, c2 = attempt.values
                if (r2 - r1 + 1, c2 - c1 + 1) == shape:
                    return r1, c1, attempt
        where = range_text(scan.values or scan.span) if scan.values or scan.span else "none"
        raise LandingError(
            shown,
            f"cannot be read as xlsx: fastexcel finds {shape[0]:,} rows × {shape[1]:,} columns "
            f"where its XML has cells in {where}",
        )


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


def _formula_error(shown: str, cell: tuple[int, int], column: str | None) -> LandingError:
    row, col = cell
    return LandingError(
        shown,
        f"cell {column_letters(col)}{row} holds a formula without a cached value: its value is "
        "unknown (recalculate and save it in Excel, or export CSV)",
        row=row,
        column=column,
    )


def _unreadable(shown: str | Path, exc: Exception) -> LandingError:
    """The error for a workbook or sheet fastexcel fails to read."""
    return LandingError(shown, f"cannot be read as xlsx: {message_line(exc) or type(exc).__name__}")


def _mib(size: float) -> str:
    return f"{size / MiB:,.0f} MiB"
