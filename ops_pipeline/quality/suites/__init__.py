"""The expectation suites, as code, versioned with the package: one per staged table and mart,
in the order data flows (``staged.py``, then ``marts.py``). A suite's constant is its check's
name in upper case (``POPULATION_SUITE`` runs as the check ``population_suite``)."""

from __future__ import annotations

from ops_pipeline.quality.expectations import Suite
from ops_pipeline.quality.suites.marts import MARTS
from ops_pipeline.quality.suites.staged import STAGED

SUITES: tuple[Suite, ...] = STAGED + MARTS
