"""Where things live in a data lake.

A lake is one folder: ``landing/`` holds the raw, immutable inputs; everything else is written
by the pipeline. The folder comes from ``--lake``, else ``OPS_DATA_LAKE``, else ``data_lake/`` in
the repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LAKE = REPO_ROOT / "data_lake"
LAKE_ENV_VAR = "OPS_DATA_LAKE"

SURVEY = "survey"
IDEBANK = "idebank"
POPULATION = "population"


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

    def source_folder(self, source: str) -> Path:
        return self.landing / source

    def partition_of(self, path: Path | str) -> str:
        """The year a landing file belongs to (its year folder), or '' (population files)."""
        parts = self.relative(path).split("/")  # landing/<source>/<year>/<file>
        if len(parts) > 3 and parts[0] == "landing" and parts[1] in (SURVEY, IDEBANK):
            return parts[2]
        return ""

    def relative(self, path: Path | str) -> str:
        """A path as shown to people: relative to the lake when inside it.

        Lexical first: ``landing/`` may be a link to a shared drive, and what is shown is the
        path in the lake, never where a link leads."""
        for candidate in (Path(path), Path(path).resolve()):
            try:
                return candidate.relative_to(self.root).as_posix()
            except ValueError:
                continue
        return str(path)
