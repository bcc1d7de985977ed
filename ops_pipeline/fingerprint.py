"""What a publication was computed from, as SHA-256 digests: the landing and corrections files the
gate let through, the package (code, SQL, reference data, templates) with its dependencies'
versions, and the run's settings.

The publish step records it in the publication's ``publication.json``; ``ops-pipeline run``
computes it again, before Dagster is imported, and refreshes nothing when the two match. The same
digests are the Dagster code version of every asset and the data version of the landing gate, so
the UI shows the staleness the command line acts on.

Plain module: no Dagster.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path

from ops_pipeline.lake import Lake
from ops_pipeline.landing import Inventory, landing_years
from ops_pipeline.readers.text import file_digest

PACKAGE = Path(__file__).resolve().parent
DISTRIBUTION = "ops-pipeline"
# The package files a refresh's result depends on (compiled caches and editor leftovers are not).
_CODE_SUFFIXES = {".py", ".sql", ".csv", ".toml", ".md", ".html"}
FORMAT = 1  # of the recorded fingerprint: a change of what it covers changes this


@cache
def code_version() -> str:
    """One digest of every source file of the package (by relative path) and the installed
    version of each pinned dependency: a changed line of SQL, a new reference list or another
    DuckDB all make it differ. Computed once per process (about 150 small files)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.suffix in _CODE_SUFFIXES):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        digest.update(f"{path.relative_to(PACKAGE).as_posix()}\0{file_digest(path)}\n".encode())
    for line in dependency_versions():
        digest.update(f"{line}\n".encode())
    return digest.hexdigest()


def dependency_versions() -> list[str]:
    """``name==installed version`` of each dependency the package declares (its pins)."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return []
    found = []
    for requirement in requirements:
        if "extra ==" in requirement:  # optional groups (dev, bi) do not shape a refresh
            continue
        name = re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} missing")
    return sorted(found)


def landing_version(files: Iterable[tuple[str, str]]) -> str:
    """One digest of ``(file relative to the lake, its SHA-256)`` pairs, in any order."""
    digest = hashlib.sha256()
    for relative, sha256 in sorted(files):
        digest.update(f"{relative}\0{sha256}\n".encode())
    return digest.hexdigest()


def fingerprint(files: Iterable[tuple[str, str]], years: list[str], max_rejected_rows: int) -> dict:
    """What a refresh of ``years`` over ``files`` (relative path, SHA-256) computes from, as
    recorded in ``publication.json``. Two refreshes with equal fingerprints publish the same
    marts."""
    return {
        "format": FORMAT,
        "landing": landing_version(files),
        "code": code_version(),
        "years": sorted(years),
        "max_rejected_rows": max_rejected_rows,
    }


def gate_files(inventory: Inventory) -> list[tuple[str, str]]:
    """``(file relative to the lake, SHA-256)`` of each landing and corrections file the gate let
    through: what ``staged.landing_files`` records of a run."""
    return [(f.relative, file_digest(f.path)) for f in [*inventory.files, *inventory.corrections]]


def of_lake(inventory: Inventory, max_rejected_rows: int) -> dict:
    """The fingerprint a refresh of every year of the lake would record."""
    return fingerprint(gate_files(inventory), landing_years(inventory), max_rejected_rows)


def unchanged_since(lake: Lake, inventory: Inventory, max_rejected_rows: int):
    """The current publication when it was computed from exactly what a refresh of the whole
    lake would read now, else None: the command line and the annual schedule refresh nothing
    then. Costs the hashing of the lake's files."""
    from ops_pipeline import history

    current = history.current_publication(lake)
    if current is None or current.fingerprint is None:
        return None
    if not (current.warehouse.is_file() and current.exports.is_dir()):  # removed by hand
        return None
    return current if current.fingerprint == of_lake(inventory, max_rejected_rows) else None
