"""Deterministic sample landing zone (synthetic survey and Idébank, real population).

The one entry point is ``ops_pipeline.sample.generator.write_sample_lake``.
"""
