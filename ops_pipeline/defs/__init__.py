"""Dagster definitions, one module per source or stage: landing → staged → marts → published."""

import warnings

import dagster as dg

# Chosen on purpose, though marked beta in this Dagster release: single-run backfill policies
# (one writer per backfill) and source code references (the UI links assets to their code).
warnings.filterwarnings("ignore", category=dg.BetaWarning)
