"""The landing gate: every entry under ``landing/`` and ``corrections/`` is read, ignored or
refused (landing-zone contract, "What is read, ignored and refused").

One walk of the lake, before any reader runs, on every run whatever years it refreshes. Nothing
is opened here: entries are judged by ``lstat`` and, for links, by where they resolve. What the
gate lets through (:class:`Inventory`) is all the readers and the landing-zone sensor ever see.

- Inside the lake only: ``landing/`` and ``corrections/`` may themselves be links; below them a
  link to a folder is refused, a link to a file is read only when it resolves to a regular file
  inside the same folder tree, and FIFOs, sockets and devices are refused, never opened.
- Ignored (and listed in the run's audit): hidden entries (``.*``) and Office lock files (``~$*``).
- Recognised (extensions case-insensitive): ``survey/<year>/`` with ``dataset.csv``,
  ``labels.csv`` and ``structure.csv`` or one ``.xlsx``; ``idebank/<year>/`` with ``.csv`` and
  ``.xlsx`` extracts; ``population/*.csv``; ``corrections/*.csv``. A year is four digits from 2000
  to 2099. Anything else, and a year folder holding no export, is refused by name.
- A name that is not valid UTF-8 is refused: no reader could name it, nor a correction.

This module is plain Python: no Dagster, no DuckDB.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ops_pipeline.lake import IDEBANK, POPULATION, SURVEY, Lake
from ops_pipeline.readers.corrections import CorrectionSet, read_corrections
from ops_pipeline.readers.errors import LandingError

YEAR_FOLDER = re.compile(r"^20\d\d$")
SURVEY_CSV = ("dataset.csv", "labels.csv", "structure.csv")
SOURCES = (SURVEY, IDEBANK, POPULATION)
CORRECTIONS = "corrections"  # the source of a corrections file
# Rules for ignored entries, as recorded in the audit's ignored_entries.rule.
HIDDEN = "hidden entry (name begins with '.')"
OFFICE_LOCK = "Office lock file (name begins with '~$')"


@dataclass(frozen=True)
class LandingFile:
    """A file the gate lets through. ``path`` is where it lies in the lake (a link's own path,
    never its target), ``relative`` how it is shown and matched (``landing/…``, ``/``-separated)."""

    path: Path
    relative: str
    source: str  # survey, idebank, population or corrections
    year: int | None = None

    @property
    def in_landing(self) -> str:
        """The path relative to ``landing/``, as corrections name it."""
        return self.relative.removeprefix("landing/")


@dataclass(frozen=True)
class IgnoredEntry:
    relative: str
    rule: str


@dataclass
class Inventory:
    """What one walk of the gate found."""

    files: list[LandingFile] = field(default_factory=list)
    ignored: list[IgnoredEntry] = field(default_factory=list)
    refused: list[LandingError] = field(default_factory=list)
    corrections: list[LandingFile] = field(default_factory=list)

    def years(self, source: str) -> list[int]:
        """The years of a source (``survey``/``idebank``) that hold an export, sorted."""
        return sorted({f.year for f in self.files if f.source == source and f.year is not None})

    def files_of(self, source: str, year: int | None = None) -> list[Path]:
        """The files of a source (and year), sorted by their shown path."""
        return [
            f.path for f in self.files if f.source == source and (year is None or f.year == year)
        ]

    def file(self, in_landing: str) -> LandingFile | None:
        """The file a correction names (relative to ``landing/``, matched exactly)."""
        return next((f for f in self.files if f.in_landing == in_landing), None)

    def raise_refused(self) -> None:
        if self.refused:
            raise LandingRefused(self.refused)


def _by_path(error: LandingError) -> tuple:
    return (error.file, error.row or 0, str(error))


class LandingRefused(LandingError):
    """The gate refused entries: one line each, sorted by path."""

    def __init__(self, errors: list[LandingError]) -> None:
        self.errors = sorted(errors, key=_by_path)
        first = self.errors[0]
        super().__init__(first.file, first.problem, row=first.row, column=first.column)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def landing_years(inventory: Inventory) -> list[str]:
    """Every year whose survey or Idébank folder the landing gate let through, sorted: the
    partition keys of a refresh of the whole lake."""
    return [str(y) for y in sorted(set(inventory.years(SURVEY)) | set(inventory.years(IDEBANK)))]


def scan(lake: Lake) -> Inventory:
    """Walk ``landing/`` and ``corrections/`` once and judge every entry (nothing is opened)."""
    found = Inventory()
    _Walk(lake, found).run()
    found.files.sort(key=lambda f: f.relative)
    found.corrections.sort(key=lambda f: f.relative)
    found.ignored.sort(key=lambda e: e.relative)
    found.refused.sort(key=_by_path)
    return found


def gate(lake: Lake) -> tuple[Inventory, CorrectionSet]:
    """The whole gate: the walk, then the corrections files read and checked against the landing
    files it let through. Bad corrections rows are refusals like any other."""
    inventory = scan(lake)
    corrections, errors = read_corrections(inventory, lake.landing)
    inventory.refused = sorted(inventory.refused + errors, key=_by_path)
    return inventory, corrections


def _ignore_rule(name: str) -> str | None:
    if name.startswith("."):
        return HIDDEN
    if name.startswith("~$"):
        return OFFICE_LOCK
    return None


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # surrogate escapes: bytes that were not UTF-8
        return False
    return True


@dataclass
class _Walk:
    lake: Lake
    found: Inventory

    def run(self) -> None:
        self._tree(self.lake.landing, "landing", self._landing_entry)
        self._tree(self.lake.corrections, "corrections", self._corrections_entry)

    def refuse(self, shown: str, problem: str) -> None:
        self.found.refused.append(LandingError(shown, problem))

    def _tree(self, top: Path, shown: str, judge) -> None:
        """A top folder (it may itself be a link): judge each of its entries."""
        if not os.path.lexists(top):
            return
        if not top.is_dir():
            self.refuse(shown, "is not a folder")
            return
        self._children(top, shown, os.path.realpath(top), judge)

    def _children(self, folder: Path, shown: str, root: str, judge, *args) -> None:
        """Record the ignored entries of ``folder`` and those refused for their name; hand each
        other one to ``judge``."""
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            child = f"{shown}/{entry.name}"
            rule = _ignore_rule(entry.name)
            if rule:
                self.found.ignored.append(IgnoredEntry(child, rule))
            elif not _valid_name(entry.name):
                self.refuse(child, "the name is not valid UTF-8: rename it")
            else:
                judge(entry, child, root, *args)

    def _kind(self, entry: os.DirEntry, shown: str, root: str) -> str | None:
        """'dir' or 'file' for an entry that may be read, else None (refused here)."""
        if entry.is_symlink():
            target = os.path.realpath(entry.path)
            try:
                mode = os.stat(target).st_mode
            except OSError:
                self.refuse(shown, "is a link to nothing that exists: not read")
                return None
            if stat.S_ISDIR(mode):
                self.refuse(shown, "is a link to a folder: links to folders are not followed")
                return None
            if os.path.commonpath([root, target]) != root:
                self.refuse(shown, f"is a link to a file outside {shown.split('/')[0]}/: not read")
                return None
            if not stat.S_ISREG(mode):
                self.refuse(shown, "is a link to something that is not a regular file: not read")
                return None
            return "file"
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            return "dir"
        if stat.S_ISREG(mode):
            return "file"
        what = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a device"
        )
        self.refuse(shown, f"is {what}, not a regular file: never read")
        return None

    def _landing_entry(self, entry: os.DirEntry, shown: str, root: str) -> None:
        kind = self._kind(entry, shown, root)
        if kind is None:
            return
        if kind != "dir" or entry.name not in SOURCES:
            self.refuse(
                shown,
                "is not one of the landing folders survey/, idebank/ and population/",
            )
            return
        if entry.name == POPULATION:
            self._children(Path(entry.path), shown, root, self._population_entry)
        else:
            self._children(Path(entry.path), shown, root, self._year_folder, entry.name)

    def _year_folder(self, entry: os.DirEntry, shown: str, root: str, source: str) -> None:
        kind = self._kind(entry, shown, root)
        if kind is None:
            return
        if kind != "dir" or not YEAR_FOLDER.match(entry.name):
            self.refuse(shown, "is not a year folder (four digits, a year from 2000 to 2099)")
            return
        year = int(entry.name)
        files: list[LandingFile] = []

        def judge(child: os.DirEntry, child_shown: str, root: str) -> None:
            child_kind = self._kind(child, child_shown, root)
            if child_kind is None:
                return
            if child_kind == "dir":
                self.refuse(child_shown, "is a folder: a year folder holds export files only")
                return
            name = child.name.lower()
            wanted = (
                name in SURVEY_CSV or name.endswith(".xlsx")
                if source == SURVEY
                else name.endswith((".csv", ".xlsx"))
            )
            if not wanted:
                self.refuse(
                    child_shown,
                    "is not part of a SurveyXact export (dataset.csv, labels.csv and "
                    "structure.csv, or one .xlsx)"
                    if source == SURVEY
                    else "is not an Idébank extract (.xlsx or .csv)",
                )
                return
            files.append(LandingFile(Path(child.path), child_shown, source, year))

        self._children(Path(entry.path), shown, root, judge)
        if source == SURVEY:
            files = self._survey_export(shown, files)
        elif not files:
            self.refuse(shown, "holds no Idébank extract (.xlsx or .csv)")
        self.found.files += files

    def _survey_export(self, shown: str, files: list[LandingFile]) -> list[LandingFile]:
        """One export per survey folder: three CSV files or one workbook."""
        xlsx = [f for f in files if f.path.name.lower().endswith(".xlsx")]
        csvs = [f for f in files if f not in xlsx]
        names = [f.path.name.lower() for f in csvs]
        if not files:
            self.refuse(
                shown,
                "holds no SurveyXact export (dataset.csv, labels.csv and "
                "structure.csv, or one .xlsx)",
            )
        elif xlsx and csvs:
            self.refuse(shown, "holds both an xlsx export and CSV files: keep one form")
        elif len(xlsx) > 1:
            self.refuse(shown, f"holds {len(xlsx)} xlsx exports: one survey export per year")
        elif len(set(names)) < len(names):
            self.refuse(shown, "holds two files of one name in different cases")
        elif csvs and len(csvs) < len(SURVEY_CSV):
            missing = next(n for n in SURVEY_CSV if n not in names)
            self.refuse(f"{shown}/{missing}", "missing: a CSV export has all three files")
        else:
            return files
        return []

    def _csv_entry(
        self, entry: os.DirEntry, shown: str, root: str, source: str, what: str, into: list
    ) -> None:
        """A file of a flat folder of CSV files (population/, corrections/)."""
        kind = self._kind(entry, shown, root)
        if kind is None:
            return
        if kind == "dir" or not entry.name.lower().endswith(".csv"):
            self.refuse(shown, f"is not a {what} (.csv)")
            return
        into.append(LandingFile(Path(entry.path), shown, source))

    def _population_entry(self, entry: os.DirEntry, shown: str, root: str) -> None:
        self._csv_entry(entry, shown, root, POPULATION, "FOLK1A export", self.found.files)

    def _corrections_entry(self, entry: os.DirEntry, shown: str, root: str) -> None:
        self._csv_entry(entry, shown, root, CORRECTIONS, "corrections file", self.found.corrections)
