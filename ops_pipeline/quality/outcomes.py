"""What a validation found, in the words of the people who fix the landing files: each
expectation's outcome, the one line that names file, row, column and value, and the audit rows."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from ops_pipeline import audit
from ops_pipeline.quality.expectations import Expect, Suite

SAMPLE_ROWS = 10


@dataclass
class ExpectationOutcome:
    batch: str
    expectation: Expect
    success: bool
    element_count: int | None
    unexpected_count: int | None
    sample: list[dict] = field(default_factory=list)
    observed: Any = None
    page: str | None = None  # the Data Docs page of the batch

    @property
    def column(self) -> str | None:
        kwargs = self.expectation.kwargs
        return (
            kwargs.get("column")
            or kwargs.get("column_A")
            or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None)
        )

    def describe(self, asset: str) -> str:
        """One line a data engineer understands: where, which value, what is wrong."""
        problem = self.expectation.problem
        if not self.sample:
            observed = "" if self.observed is None else f" (found {self.observed})"
            return f"{asset}: {problem}{observed} [{self.expectation.type}]"
        first = dict(self.sample[0])
        where = [str(first.pop("source_file", None) or first.pop("file", None) or asset)]
        for key, label in (("source_row", "row"), ("line", "line")):
            if first.get(key) is not None:
                where.append(f"{label} {first.pop(key)}")
        column = (
            first.pop("variable", None)
            or first.pop("column_name", None)
            or self.expectation.column_label
            or self.column
        )
        where.append(f"column {column!r}")
        value = self._offending_value(first)
        reason = first.pop("reason", None)
        shown = "" if value is None else f"value {value!r} "
        if reason:
            problem = f"{reason}; {problem}"
        # What else locates the row (a quarter, a budget year), for reports on aggregates.
        context = ", ".join(f"{k} {v}" for k, v in first.items() if v is not None)
        more = (
            f"; {self.unexpected_count} rows in all"
            if self.unexpected_count and self.unexpected_count > 1
            else ""
        )
        extra = f" ({context}{more})" if context else (f" ({more[2:]})" if more else "")
        return f"{', '.join(where)}: {shown}{problem}{extra} [{self.expectation.type}]"

    def _offending_value(self, located: dict):
        """The checked value of the first offending row (removed from ``located``)."""
        kwargs = self.expectation.kwargs
        for key in (
            "answer",
            kwargs.get("column_B"),
            kwargs.get("column"),
            *(kwargs.get("column_list") or [])[::-1],
        ):
            if key and key in located:
                return located.pop(key)
        return None


@dataclass
class SuiteOutcome:
    suite: Suite
    outcomes: list[ExpectationOutcome]
    docs_pages: list[str]

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def audit_rows(outcome: SuiteOutcome, run_id: str, partition: str = "") -> list[tuple]:
    asset = "/".join(outcome.suite.asset)
    at = audit.now()
    return [
        (
            run_id,
            asset,
            partition,
            outcome.suite.check_name,
            o.expectation.type,
            o.expectation.column_label or o.column,
            o.success,
            o.element_count,
            o.unexpected_count,
            json.dumps(o.sample, default=str, ensure_ascii=False) if o.sample else None,
            o.page,
            at,
        )
        for o in outcome.outcomes
    ]


def plain(value):
    """JSON-friendly values (numpy scalars, NaN) for metadata and the audit."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
