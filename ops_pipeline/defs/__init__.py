"""Dagster definitions, one module per source or stage: landing → staged → marts → published."""
