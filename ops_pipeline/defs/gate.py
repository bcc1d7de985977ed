"""The landing gate as the first step of every run: the landing zone and ``corrections/`` walked
once (see :mod:`ops_pipeline.landing`), whatever years the run refreshes; what it lets through is
written to ``staged.landing_files``, which is all the staging steps read."""

import dagster as dg
import duckdb

from ops_pipeline import audit, fingerprint, landing, sql
from ops_pipeline.defs.metadata import schema_metadata
from ops_pipeline.defs.resources import OWNER, LakeResource, table_metadata
from ops_pipeline.lake import IDEBANK, POPULATION, SURVEY, Lake
from ops_pipeline.readers.corrections import CorrectionSet, read_corrections
from ops_pipeline.readers.errors import escape
from ops_pipeline.readers.text import file_digest
from ops_pipeline.schemas import ddl

GATE_ASSET = "staged/landing_files"
GATE_KEY = dg.AssetKey(GATE_ASSET.split("/"))


def record_gate(con: duckdb.DuckDBPyConnection, lake: Lake, inventory: landing.Inventory) -> None:
    """``staged.landing_files``: every file the gate let through, with size and SHA-256."""
    rows = [
        (f.relative, f.source, f.year, f.path.stat().st_size, file_digest(f.path))
        for f in [*inventory.files, *inventory.corrections]
    ]
    con.execute(f"CREATE OR REPLACE TEMP TABLE gate_files {ddl('staged.landing_files')}")
    if rows:
        con.executemany("INSERT INTO gate_files VALUES (?, ?, ?, ?, ?)", rows)
    sql.create(con, "staged.landing_files")
    con.execute("DROP TABLE gate_files")


def load_gate(
    con: duckdb.DuckDBPyConnection, lake: Lake
) -> tuple[landing.Inventory, CorrectionSet]:
    """What this run's gate let through, and the corrections read from it."""
    inventory = landing.Inventory()
    for relative, source, year in con.execute(
        "SELECT file, source, year FROM staged.landing_files ORDER BY file"
    ).fetchall():
        entry = landing.LandingFile(lake.root / relative, relative, source, year)
        (inventory.corrections if source == landing.CORRECTIONS else inventory.files).append(entry)
    corrections, errors = read_corrections(inventory, lake.landing)
    if errors:  # a corrections file changed since the gate read it
        raise landing.LandingRefused(errors)
    return inventory, corrections


@dg.asset(
    key=GATE_KEY,
    deps=[dg.AssetKey(["landing", source]) for source in (SURVEY, IDEBANK, POPULATION)],
    group_name="staged",
    kinds={"duckdb"},
    owners=[OWNER],
    metadata=schema_metadata("staged.landing_files"),
)
def landing_files(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """The landing gate: every entry of landing/ and corrections/ is read, ignored (hidden entries,
    Office lock files: listed in the audit's ignored_entries) or refused by name (links leading
    out of the lake or to folders, FIFOs and devices, unknown folders and files, bad corrections).
    Any refusal fails the run before anything is staged; the files let through, with size and
    SHA-256, are all the staging steps read."""
    inventory, _ = landing.gate(lake.lake)
    audit.append(
        lake.lake.audit_db,
        "ignored_entries",
        [(context.run.run_id, e.relative, e.rule) for e in inventory.ignored],
    )
    inventory.raise_refused()
    with lake.working_db() as con:
        record_gate(con, lake.lake, inventory)
        metadata = table_metadata(con, "staged.landing_files")
        files = con.execute("SELECT file, sha256 FROM staged.landing_files").fetchall()
    return dg.MaterializeResult(
        # What the CLI compares before refreshing: the UI shows the same staleness.
        data_version=dg.DataVersion(fingerprint.landing_version(files)),
        metadata={
            **metadata,
            "ignored_entries": dg.MetadataValue.md(
                "| entry | rule |\n|---|---|\n"
                + "\n".join(
                    f"| `{escape(e.relative).replace('|', '/')}` | {e.rule} |"
                    for e in inventory.ignored
                )
            )
            if inventory.ignored
            else dg.MetadataValue.text("none"),
        },
    )
