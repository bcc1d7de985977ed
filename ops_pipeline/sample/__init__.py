"""Deterministic sample landing zone (synthetic survey and Idébank, real population)."""
