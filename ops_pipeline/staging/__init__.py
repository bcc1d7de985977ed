"""Staging: from the files the landing gate let through to the ``staged`` schema.

One module per source; plain functions over a DuckDB connection, no Dagster. The assets in
``defs/`` call them; the SQL of each staged table is in ``sql/staged/``.
"""
