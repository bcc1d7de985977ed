"""Metadata the Dagster UI shows for tables: column schemas, with the marts contract's meaning of
each mart column (:func:`ops_pipeline.schemas.descriptions`)."""

from __future__ import annotations

import dagster as dg

from ops_pipeline.audit import Ingest
from ops_pipeline.schemas import SCHEMAS, descriptions


def column_schema(columns: list[tuple[str, str]], table: str = "") -> dg.TableSchema:
    """The UI's column schema; with ``table``, a mart's columns carry their contract meaning."""
    meanings = descriptions(table)
    return dg.TableSchema(
        columns=[dg.TableColumn(name, kind, meanings.get(name)) for name, kind in columns]
    )


def schema_metadata(table: str) -> dict:
    """Definition metadata: the column schema the UI shows before the first materialisation."""
    return {"dagster/column_schema": column_schema(SCHEMAS[table], table)}


def ingest_metadata(ingest: Ingest) -> dict:
    """Materialisation metadata summing up what a staging step read (see audit.record_ingest)."""
    return {
        "landing_files": dg.MetadataValue.md(
            "| file | rows | sha256 |\n|---|---|---|\n"
            + "\n".join(f"| {f} | {rows} | `{digest[:12]}` |" for f, digest, rows in ingest.files)
        ),
        "rejected_rows": dg.MetadataValue.int(ingest.rejected_rows),
        "corrections_applied": dg.MetadataValue.int(ingest.corrections_applied),
        "corrections_skipped": dg.MetadataValue.int(ingest.corrections_skipped),
    }
