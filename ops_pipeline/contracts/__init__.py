"""The contracts the project keeps (``marts.md``, ``landing-zone.md``, ``published-figures.md``):
one copy, read here for the marts' descriptions.

``marts.md`` gives each mart a section ``## marts.<name>``: a paragraph starting ``Key:`` (the
table's meaning) and a table of ``| column | type | meaning |`` rows. :func:`mart_contracts`
parses exactly that, so the descriptions BI tools and the Dagster UI show are the contract's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
MARTS = FOLDER / "marts.md"
_VERSION = re.compile(r"^Contract version (\d+)\b", re.MULTILINE)
_SECTION = re.compile(r"^## marts\.(\w+)\s*$", re.MULTILINE)
_ROW = re.compile(r"^\|\s*(\w+)\s*\|\s*([^|]+?)\s*\|\s*(.+?)\s*\|\s*$")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type as the contract writes it, e.g. INTEGER, VARCHAR[]
    meaning: str


@dataclass(frozen=True)
class MartContract:
    name: str
    description: str  # the section's text before its column table
    columns: tuple[Column, ...]

    @property
    def key(self) -> list[str]:
        found = re.match(r"Key: `([^`]+)`", self.description)
        return [name.strip() for name in found.group(1).split(",")] if found else []

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def version() -> int:
    """The version of the marts contract the package implements."""
    found = _VERSION.search(MARTS.read_text(encoding="utf-8"))
    if not found:
        raise ValueError(f"{MARTS}: no 'Contract version N' line")
    return int(found.group(1))


@cache
def mart_contracts() -> dict[str, MartContract]:
    """Every mart of ``marts.md`` by name, in the contract's order."""
    text = MARTS.read_text(encoding="utf-8")
    sections = list(_SECTION.finditer(text))
    contracts = {}
    for n, section in enumerate(sections):
        end = sections[n + 1].start() if n + 1 < len(sections) else len(text)
        body = text[section.end() : end].strip().splitlines()
        prose, columns = [], []
        for line in body:
            row = _ROW.match(line)
            if row and row.group(1) != "column":
                columns.append(Column(*row.groups()))
            elif not line.startswith("|") and not columns:
                prose.append(line.strip())
        description = " ".join(" ".join(prose).split())
        if not columns or not description:
            raise ValueError(f"{MARTS}: section marts.{section.group(1)} has no table or text")
        contracts[section.group(1)] = MartContract(section.group(1), description, tuple(columns))
    return contracts
