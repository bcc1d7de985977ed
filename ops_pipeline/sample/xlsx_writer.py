"""One-sheet xlsx workbooks with stable bytes.

openpyxl stamps the save time into docProps/core.xml and into every zip member's date, so the
same rows would give other bytes on every save. This writes the workbook, then rewrites the zip
with ``timestamp`` in both places. It uses openpyxl's internals (``ARC_CORE``, the properties'
XML tree), which is why openpyxl is pinned in pyproject.toml.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.xml.constants import ARC_CORE
from openpyxl.xml.functions import tostring


def stable_xlsx(
    sheet_name: str, header: Sequence[str], rows: Iterable[list], timestamp: datetime
) -> bytes:
    """The workbook of one sheet: ``header``, then ``rows``, saved as at ``timestamp``.

    Values are written as values: a text starting with ``=`` stays text, not a formula.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(header)
    for row in rows:
        sheet.append([_as_text(sheet, v) if _looks_like_formula(v) else v for v in row])
    saved = io.BytesIO()
    workbook.save(saved)
    workbook.properties.created = workbook.properties.modified = timestamp
    core = tostring(workbook.properties.to_tree())
    stable = io.BytesIO()
    with (
        zipfile.ZipFile(saved) as source,
        zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=timestamp.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            target.writestr(member, core if info.filename == ARC_CORE else source.read(info))
    return stable.getvalue()


def _looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _as_text(sheet, value: str) -> WriteOnlyCell:
    """A string cell: openpyxl would otherwise store ``=...`` as a formula."""
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell
