"""Great Expectations behind the quality gates, without Dagster: what any caller of the
validation needs before it starts (the slow GX import, overlapped with other work)."""

from __future__ import annotations

import os
import sys
import threading

_warming: threading.Thread | None = None


def warm_up() -> None:
    """Import Great Expectations in the background (it takes seconds), so that by the time the
    first check runs, the import has overlapped with staging work instead of adding to it."""
    global _warming
    if _warming is None and "great_expectations" not in sys.modules:
        _warming = threading.Thread(target=_import_gx, name="gx-warm-up", daemon=True)
        _warming.start()


def _import_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations  # noqa: F401
