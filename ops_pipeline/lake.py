"""Where things live in a data lake.

A lake is one folder: ``landing/`` holds the raw, immutable inputs; everything else is written
by the pipeline. The folder comes from ``--lake``, else ``OPS_DATA_LAKE``, else ``data_lake/`` in
the repository.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LAKE = REPO_ROOT / "data_lake"
LAKE_ENV_VAR = "OPS_DATA_LAKE"

SURVEY = "survey"
IDEBANK = "idebank"
POPULATION = "population"

_YEAR_FOLDER = re.compile(r"^(19|20)\d\d$")


def lake_path(explicit: str | os.PathLike | None = None) -> Path:
    """The lake folder: the explicit one, else $OPS_DATA_LAKE, else data_lake/ in the repo."""
    chosen = explicit or os.environ.get(LAKE_ENV_VAR) or DEFAULT_LAKE
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class Lake:
    """The paths of one lake."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def work(self) -> Path:
        """Pipeline-private files: the working database and temporary transcodings."""
        return self.root / "work"

    @property
    def working_db(self) -> Path:
        """Staged tables (individual answers included) and marts, before publishing."""
        return self.work / "working.duckdb"

    @property
    def warehouse(self) -> Path:
        """The published warehouse BI tools read."""
        return self.root / "warehouse.duckdb"

    @property
    def scratch(self) -> Path:
        return self.work / "tmp"

    @property
    def audit_db(self) -> Path:
        """Every run's files, rejected rows, validations and corrections (failed runs too)."""
        return self.root / "audit.duckdb"

    @property
    def corrections(self) -> Path:
        return self.root / "corrections"

    @property
    def docs(self) -> Path:
        """Great Expectations Data Docs of the runs."""
        return self.root / "docs"

    def partition_of(self, path: Path) -> str:
        """The year a landing file belongs to (its year folder), or '' (population files)."""
        try:
            parts = Path(path).resolve().relative_to(self.landing.resolve()).parts
        except ValueError:
            return ""
        return parts[1] if len(parts) > 2 and _YEAR_FOLDER.match(parts[1]) else ""

    def source_folder(self, source: str) -> Path:
        return self.landing / source

    def years(self, source: str) -> list[int]:
        """Year folders of a source (``survey``/``idebank``), sorted."""
        folder = self.source_folder(source)
        if not folder.is_dir():
            return []
        return sorted(
            int(p.name) for p in folder.iterdir() if p.is_dir() and _YEAR_FOLDER.match(p.name)
        )

    def population_files(self) -> list[Path]:
        folder = self.source_folder(POPULATION)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def landing_files(self) -> list[Path]:
        """Every file in the landing zone (hidden files excluded), sorted."""
        if not self.landing.is_dir():
            return []
        return sorted(
            p
            for p in self.landing.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.parts)
        )

    def relative(self, path: Path) -> str:
        """A path as shown to people: relative to the lake when inside it."""
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)
