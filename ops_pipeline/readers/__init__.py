"""Readers: one module per input format. Plain functions, no Dagster.

Each reader turns landing files into DuckDB relations on a connection it is given and raises
:class:`~ops_pipeline.readers.errors.LandingError` (one line: file, row, column, problem) when a
file cannot be read as its contract says.
"""
