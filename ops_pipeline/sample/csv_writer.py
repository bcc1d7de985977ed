"""The CSV dialect of Danish exports (SurveyXact's "EU" CSV, Excel's Danish CSV)."""

from __future__ import annotations

import csv
import io


def semicolon_csv(rows: list[list], encoding: str) -> bytes:
    """``;``-separated, CRLF, minimal quoting, encoded as the exporting tool does: SurveyXact
    writes Windows-1252 (``cp1252``), Excel UTF-8 with a BOM (``utf-8-sig``)."""
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=";", lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)
