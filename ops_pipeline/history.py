"""Publications of a lake: the warehouse, its exports and its reports, published as one unit, the
last five kept.

A publication is a folder ``<lake>/history/<id>/`` holding ``warehouse.duckdb`` (in the storage
format of :mod:`~ops_pipeline.warehouse`), ``exports/`` (one Parquet and one CSV per mart),
``reports/`` (the annual reports, rendered from that warehouse) and ``publication.json`` (run,
time, row counts, format, reports). Its id is a sequence number and the run: ``000012-<run id>``.
The paths BI tools, people and other programs open are symbolic links that never change::

    <lake>/current           → history/<id of the published one>
    <lake>/warehouse.duckdb  → current/warehouse.duckdb
    <lake>/exports           → current/exports
    <lake>/reports           → current/reports

A publication is written complete under a temporary name (``history/.<id>.tmp/``), flushed to disk,
renamed to ``history/<id>``, and published by replacing ``current`` with a new link in one
``rename(2)``: a reader, and a crash at any moment, sees the old warehouse with the old exports and
reports, or the new ones with the new. A reader that opened the old warehouse keeps its file (its
inode) open undisturbed, even once the folder is pruned. Everything a crash can leave is
recognisable and removed by the next run (:func:`recover`), never the published publication:
temporary folders and links, and a complete publication newer than ``current`` that was never
switched in.

The newest :data:`KEEP` publications are kept; :func:`restore_publication` republishes an older
one (as a new publication, so history stays in order), rewriting an older publication's warehouse
in the compatible format and rendering its reports when it has none. Callers hold the lake's run
lock (:mod:`ops_pipeline.runlock`) around :func:`recover` and publishing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ops_pipeline.exports import write_exports
from ops_pipeline.faults import fault_point
from ops_pipeline.lake import Lake
from ops_pipeline.report import REPORT_PREFIX, missing_marts, write_reports
from ops_pipeline.runlock import run_lock
from ops_pipeline.warehouse import copy_warehouse, table_counts, warehouse_storage_version

KEEP = 5
# The DuckDB storage format of published warehouses: v1.0.0 opens in every DuckDB client from 1.0.0
# on (BI tools ship older drivers than the pipeline's DuckDB). The working database keeps the
# pipeline's own default format.
HISTORY = "history"
CURRENT = "current"
EXPORTS = "exports"
REPORTS = "reports"
WAREHOUSE = "warehouse.duckdb"
MANIFEST = "publication.json"
# history/<id>, and history/.<id>.tmp while it is written.
_ENTRY = re.compile(r"^\.?(\d{6})-(.+?)(\.tmp)?$")


class HistoryError(RuntimeError):
    """A publication that cannot be found or restored."""


@dataclass(frozen=True)
class Publication:
    """One published warehouse with its exports, as its manifest describes it."""

    id: str
    run_id: str
    published_at: str  # ISO 8601, UTC
    counts: dict[str, int]  # rows per published table ("marts.x", "audit.y")
    restored_from: str | None
    path: Path
    storage_version: str | None  # None: published before the format was recorded
    # What it was computed from (ops_pipeline.fingerprint); None: not a refresh of every year,
    # or published before fingerprints were recorded.
    fingerprint: dict | None = None

    @property
    def sequence(self) -> int:
        return int(self.id[:6])

    @property
    def warehouse(self) -> Path:
        return self.path / WAREHOUSE

    @property
    def exports(self) -> Path:
        return self.path / EXPORTS

    @property
    def reports(self) -> Path:
        return self.path / REPORTS

    def report_files(self) -> list[str]:
        """The reports it holds (none for a publication of before reports were published)."""
        return sorted(p.name for p in self.reports.glob(f"{REPORT_PREFIX}*.html"))


@dataclass(frozen=True)
class Draft:
    """A publication being written, under its temporary name."""

    id: str
    path: Path

    @property
    def warehouse(self) -> Path:
        return self.path / WAREHOUSE

    @property
    def exports(self) -> Path:
        return self.path / EXPORTS

    @property
    def reports(self) -> Path:
        return self.path / REPORTS


def history_folder(lake: Lake) -> Path:
    return lake.root / HISTORY


def current_link(lake: Lake) -> Path:
    return lake.root / CURRENT


def exports_link(lake: Lake) -> Path:
    return lake.root / EXPORTS


def reports_link(lake: Lake) -> Path:
    return lake.root / REPORTS


def list_publications(lake: Lake) -> list[Publication]:
    """Every complete publication in ``history/``, newest first."""
    folder = history_folder(lake)
    if not folder.is_dir():
        return []
    found = [
        _read(path)
        for path in folder.iterdir()
        if _ENTRY.match(path.name) and not path.name.startswith(".") and (path / MANIFEST).is_file()
    ]
    return sorted(found, key=lambda p: p.sequence, reverse=True)


def current_publication(lake: Lake) -> Publication | None:
    """The publication ``current`` points to, or None before the first one."""
    link = current_link(lake)
    if not link.is_symlink():
        return None
    target = (lake.root / os.readlink(link)).resolve()
    if target.parent != history_folder(lake).resolve() or not (target / MANIFEST).is_file():
        return None
    return _read(target)


@contextmanager
def draft(lake: Lake, run_id: str) -> Iterator[Draft]:
    """A new, empty publication folder ``history/.<id>.tmp/``; removed on exit unless
    :func:`publish` has made it a publication."""
    folder = history_folder(lake)
    folder.mkdir(parents=True, exist_ok=True)
    entry = f"{_next_sequence(folder):06d}-{run_id}"
    path = folder / f".{entry}.tmp"
    _remove(path)
    path.mkdir()
    try:
        yield Draft(entry, path)
    finally:
        _remove(path)  # nothing left once published: the folder has been renamed


def publish(
    lake: Lake,
    new: Draft,
    run_id: str,
    counts: dict[str, int],
    *,
    restored_from: str | None = None,
    published_at: dt.datetime | None = None,
    fingerprint: dict | None = None,
) -> Publication:
    """Make a complete draft (warehouse, exports and reports written) the published
    publication, then prune history to the newest :data:`KEEP`."""
    new.reports.mkdir(exist_ok=True)  # a lake without budget years has no report, but the folder
    manifest = {
        "id": new.id,
        "run_id": run_id,
        "published_at": (published_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "counts": counts,
        "restored_from": restored_from,
        "storage_version": warehouse_storage_version(new.warehouse),
        "reports": sorted(p.name for p in new.reports.glob(f"{REPORT_PREFIX}*.html")),
        "fingerprint": fingerprint,
    }
    (new.path / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    _fsync_tree(new.path)
    fault_point("before_rename")
    final = history_folder(lake) / new.id
    os.rename(new.path, final)
    _fsync(final.parent)
    # The one step that publishes: readers and a crash see the old current or the new one.
    _link(lake, current_link(lake), f"{HISTORY}/{new.id}")
    # The stable paths: created once (or when a lake of an older layout is first published).
    _ensure_link(lake, lake.warehouse, f"{CURRENT}/{WAREHOUSE}")
    _ensure_link(lake, exports_link(lake), f"{CURRENT}/{EXPORTS}")
    _ensure_link(lake, reports_link(lake), f"{CURRENT}/{REPORTS}")
    _fsync(lake.root)
    prune(lake)
    return _read(final)


def recover(lake: Lake) -> list[Path]:
    """Remove what unfinished publications left (never the published one) and bring a lake of the
    older layout (a plain ``warehouse.duckdb`` file) into history. Returns what was removed."""
    removed = [p for p in history_folder(lake).glob(".*.tmp") if _remove(p)]
    # Temporary links of an interrupted switch, and temporary warehouses of older versions.
    removed += [
        p for pattern in (".*.tmp", ".*.tmp.wal") for p in lake.root.glob(pattern) if _remove(p)
    ]
    if lake.warehouse.is_file() and not lake.warehouse.is_symlink():
        _adopt(lake)
    current = current_publication(lake)
    if current is not None:
        # Complete but never switched in: the run died between the rename and the switch.
        for publication in list_publications(lake):
            if publication.sequence > current.sequence and _remove(publication.path):
                removed.append(publication.path)
    return removed


def prune(lake: Lake, keep: int = KEEP) -> list[Path]:
    """Remove all but the newest ``keep`` publications (never the published one)."""
    current = current_publication(lake)
    removed = []
    for publication in list_publications(lake)[keep:]:
        if current is None or publication.id != current.id:
            _remove(publication.path)
            removed.append(publication.path)
    return removed


def find_publication(lake: Lake, wanted: str) -> Publication:
    """The publication with id ``wanted``, or the newest of the run whose id starts with it."""
    publications = list_publications(lake)
    exact = [p for p in publications if p.id == wanted]
    if exact:
        return exact[0]
    matches = [p for p in publications if wanted and p.run_id.startswith(wanted)]
    runs = sorted({p.run_id for p in matches})
    if not runs:
        known = ", ".join(p.run_id for p in publications) or "none"
        raise HistoryError(
            f"no publication of run {wanted!r} in {history_folder(lake)} (kept: {known})"
        )
    if len(runs) > 1:
        raise HistoryError(f"{wanted!r} matches several runs: {', '.join(runs)}")
    return matches[0]


def restore_publication(lake: Lake, wanted: str, *, wait: float = 0) -> Publication:
    """Publish again the kept publication of run (or publication id) ``wanted``, warehouse,
    exports and reports, as a new publication; the current one stays in history. Holds the run
    lock. A warehouse in another storage format is rewritten in the published one; a
    publication without reports gets them rendered from its warehouse, or is refused by name
    when that warehouse lacks a mart the reports need."""
    with run_lock(lake, wait):
        recover(lake)
        source = find_publication(lake, wanted)
        current = current_publication(lake)
        if current is not None and current.id == source.id:
            return current
        reports = source.report_files()
        if not reports:
            missing = missing_marts(source.warehouse)
            if missing:
                raise HistoryError(
                    f"publication {source.id} has no reports and its warehouse lacks "
                    f"{', '.join(missing)} to render them: not restored"
                )
        with draft(lake, source.run_id) as new:
            copy_warehouse(source.warehouse, new.warehouse)
            copied = table_counts(new.warehouse)
            if copied != source.counts:
                raise HistoryError(
                    f"{source.warehouse} does not hold the rows its manifest lists: not restored"
                )
            write_exports(new.warehouse, new.exports)
            if reports:
                new.reports.mkdir()
                for name in reports:
                    shutil.copyfile(source.reports / name, new.reports / name)
            else:
                write_reports(new.warehouse, new.reports)
            # It holds what the source was computed from: a run over other inputs refreshes.
            return publish(
                lake,
                new,
                source.run_id,
                source.counts,
                restored_from=source.id,
                fingerprint=source.fingerprint,
            )


def describe(publications: list[Publication], current: Publication | None) -> str:
    """The text of ``ops-pipeline history``: one block per publication, newest first."""
    if not publications:
        return "No publications yet: `ops-pipeline run` makes the first."
    lines = []
    for p in publications:
        mark = "*" if current is not None and p.id == current.id else " "
        restored = f", restored from {p.restored_from}" if p.restored_from else ""
        lines.append(f"{mark} {p.id}  published {p.published_at}  run {p.run_id}{restored}")
        reports = p.report_files()
        lines.append(
            f"    storage {p.storage_version or 'unrecorded'}; reports: "
            + (", ".join(reports) if reports else "none")
        )
        marts = sorted(
            (name.removeprefix("marts."), rows)
            for name, rows in p.counts.items()
            if name.startswith("marts.")
        )
        lines.append("    " + ", ".join(f"{name} {rows}" for name, rows in marts))
    lines.append(f"(* published now; the newest {KEEP} are kept in history/)")
    return "\n".join(lines)


def _adopt(lake: Lake) -> None:
    """Make a plain ``warehouse.duckdb`` (published by an older version, or a lake copied without
    its links) the first publication, with exports, before anything replaces it."""
    legacy = lake.warehouse
    run_id = _run_of(legacy)
    with draft(lake, run_id) as new:
        try:
            os.link(legacy, new.warehouse)  # the same file: nothing copied, nothing to go stale
        except OSError:
            shutil.copy2(legacy, new.warehouse)
        write_exports(new.warehouse, new.exports)
        # The reports published beside it (a real folder then), as they were.
        new.reports.mkdir()
        for report in reports_link(lake).glob(f"{REPORT_PREFIX}*.html"):
            shutil.copyfile(report, new.reports / report.name)
        modified = dt.datetime.fromtimestamp(legacy.stat().st_mtime, dt.UTC)
        publish(lake, new, run_id, table_counts(new.warehouse), published_at=modified)


def _run_of(warehouse: Path) -> str:
    """The run a warehouse file was published by, from its audit tables ('unknown' if none)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        has_audit = con.execute(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE schema_name = 'audit' AND table_name = 'ingested_files'"
        ).fetchall()[0][0]
        runs = (
            con.execute("SELECT DISTINCT run_id FROM audit.ingested_files").fetchall()
            if has_audit
            else []
        )
    return runs[0][0] if len(runs) == 1 else "unknown"


def _read(path: Path) -> Publication:
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    return Publication(
        id=path.name,
        run_id=manifest["run_id"],
        published_at=manifest["published_at"],
        counts=manifest["counts"],
        restored_from=manifest.get("restored_from"),
        path=path,
        storage_version=manifest.get("storage_version"),
        fingerprint=manifest.get("fingerprint"),
    )


def _next_sequence(folder: Path) -> int:
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := _ENTRY.match(p.name))]
    return max(numbers, default=0) + 1


def _link(lake: Lake, link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one rename: a new link under a temporary name first."""
    temporary = link.with_name(f".{link.name}-{os.getpid()}.tmp")
    _remove(temporary)
    os.symlink(target, temporary)
    if link.is_dir() and not link.is_symlink():
        # A real folder where the link belongs (the lake was copied without its links): a
        # folder cannot be renamed over, so it is moved aside first, then removed.
        aside = history_folder(lake) / f".{link.name}-{os.getpid()}-replaced.tmp"
        os.rename(link, aside)
        os.replace(temporary, link)
        _remove(aside)
    else:
        os.replace(temporary, link)


def _ensure_link(lake: Lake, link: Path, target: str) -> None:
    if not (link.is_symlink() and os.readlink(link) == target):
        _link(lake, link, target)


def _remove(path: Path) -> bool:
    """Remove a file, link or folder if it is there; say whether it was."""
    if path.is_symlink() or path.is_file():
        path.unlink()
        return True
    if path.is_dir():
        shutil.rmtree(path)
        return True
    return False


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` to disk, before it is published."""
    for root, _, files in os.walk(folder):
        for name in files:
            _fsync(Path(root) / name)
        _fsync(Path(root))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
