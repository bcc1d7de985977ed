"""Metadata the Dagster UI shows for tables: column schemas, with the marts contract's meaning of
each mart column (:func:`ops_pipeline.schemas.descriptions`)."""

from __future__ import annotations

import dagster as dg

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
