"""Reference data shipped with the package (provenance in ``SOURCES.md``), read in one place."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
MUNICIPALITIES_FILE = FOLDER / "municipalities.csv"
# Real FOLK1A population (the sample lake's landing file), not read by the pipeline itself.
FOLK1A_FILE = FOLDER / "folk1a_2020K1-2023K1.csv"


@dataclass(frozen=True)
class Municipality:
    code: int  # Danmarks Statistik's three-digit code
    name: str
    region: str
    landsdel: str


@cache
def municipalities() -> tuple[Municipality, ...]:
    """The 98 municipalities in code order."""
    with MUNICIPALITIES_FILE.open(encoding="utf-8", newline="") as fh:
        rows = [
            Municipality(int(r["kommunekode"]), r["kommune"], r["region"], r["landsdel"])
            for r in csv.DictReader(fh, delimiter=";")
        ]
    return tuple(sorted(rows, key=lambda m: m.code))
