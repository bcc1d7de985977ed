"""The one factory that turns a suite into a blocking Dagster asset check, and the Great
Expectations 1.x runner behind it.

GX is imported only when a check runs (the import costs seconds), and one ephemeral context is
built per process and lake, not per expectation. Each batch runs as a GX checkpoint whose action
updates the lake's HTML Data Docs (``<lake>/docs/``); the check's metadata shows the failed
expectations inline, a sample of offending rows (file, row, column, value) and the Data Docs page.
"""

import contextlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from ops_pipeline import audit
from ops_pipeline.defs.quality.suites import (
    MAX_REJECTED_ROWS,
    SUITES,
    Batch,
    Expect,
    RunSetting,
    Suite,
)
from ops_pipeline.defs.resources import LakeResource
from ops_pipeline.faults import fault_point

DOCS_SITE = "lake"
SAMPLE_ROWS = 10
_contexts: dict[str, Any] = {}


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


def _context(docs: Path):
    """One ephemeral GX context per process and Data Docs folder."""
    key = str(docs)
    if key not in _contexts:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.add_data_docs_site(
            site_name=DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        context.data_sources.add_pandas("working_db")
        _contexts[key] = context
    return _contexts[key]


def _replace(collection, name: str, new):
    """Add a named GX object, replacing one of an earlier run in this process."""
    with contextlib.suppress(Exception):  # not there yet: GX raises its own not-found errors
        collection.delete(name)
    return collection.add(new)


def run_suite(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    docs: Path,
    *,
    max_rejected_rows: int = 0,
) -> SuiteOutcome:
    """Validate every batch of ``suite`` against the working database. Plain function: tests
    call it directly with a DuckDB connection."""
    import great_expectations as gx

    context = _context(docs)
    source = context.data_sources.get("working_db")
    outcomes: list[ExpectationOutcome] = []
    pages: list[str] = []
    identifiers: list = []
    for batch in suite.batches:
        name = f"{'.'.join(suite.asset)}.{batch.name}"
        frame = con.execute(batch.query).df()
        with contextlib.suppress(Exception):  # first run in this process
            source.delete_asset(name)
        definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
        expectations = [
            _gx_expectation(gx, e, n, max_rejected_rows) for n, e in enumerate(batch.expectations)
        ]
        gx_suite = _replace(context.suites, name, gx.ExpectationSuite(name, expectations))
        validation = _replace(
            context.validation_definitions,
            name,
            gx.ValidationDefinition(name=name, data=definition, suite=gx_suite),
        )
        checkpoint = _replace(
            context.checkpoints,
            name,
            gx.Checkpoint(
                name=name,
                validation_definitions=[validation],
                # Data Docs are rendered in one pass per run (see build_data_docs): rendering
                # per checkpoint would cost about a second each.
                actions=[],
                result_format=_result_format(batch),
            ),
        )
        result = checkpoint.run(batch_parameters={"dataframe": frame})
        for identifier, run in result.run_results.items():
            identifiers.append(identifier)
            page = next(
                (
                    site["site_url"].removeprefix("file://")
                    for site in context.get_docs_sites_urls(
                        resource_identifier=identifier,
                        site_names=[DOCS_SITE],
                        only_if_exists=False,
                    )
                    if site.get("site_url")
                ),
                None,
            )
            pages += [page] if page else []
            # GX orders results its own way: match them to the specs by the index in meta.
            for gx_result in sorted(run.results, key=lambda r: r.expectation_config.meta["n"]):
                spec = batch.expectations[gx_result.expectation_config.meta["n"]]
                details = gx_result.result or {}
                sample = (details.get("unexpected_index_list") or [])[:SAMPLE_ROWS]
                if not gx_result.success and not sample and batch.rows_are_findings:
                    sample = frame[list(batch.locate)].head(SAMPLE_ROWS).to_dict("records")
                outcomes.append(
                    ExpectationOutcome(
                        batch=batch.name,
                        expectation=spec,
                        success=bool(gx_result.success),
                        element_count=details.get("element_count"),
                        unexpected_count=details.get("unexpected_count"),
                        sample=[_plain(row) for row in sample],
                        observed=_plain(details.get("observed_value")),
                        page=page,
                    )
                )
    outcome = SuiteOutcome(suite, outcomes, pages)
    if not outcome.success:
        # A failed run may not reach the publish step: render its pages now.
        build_data_docs(docs, identifiers)
    return outcome


def build_data_docs(docs: Path, identifiers: list | None = None) -> Path | None:
    """Render the Data Docs of this process's validations (or of ``identifiers``) into ``docs``.

    Returns the index page, or None when no check ran in this process.
    """
    context = _contexts.get(str(docs))
    if context is None:
        return None
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=identifiers)
    return docs / "index.html"


def _gx_expectation(gx, spec: Expect, n: int, max_rejected_rows: int):
    settings = {MAX_REJECTED_ROWS.name: max_rejected_rows}
    kwargs = {
        key: settings[value.name] if isinstance(value, RunSetting) else value
        for key, value in spec.kwargs.items()
    }
    cls = getattr(gx.expectations, "".join(part.title() for part in spec.type.split("_")))
    return cls(**kwargs, meta={"problem": spec.problem, "n": n})


def _result_format(batch: Batch) -> dict:
    form = {"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_ROWS}
    if batch.locate:
        form["unexpected_index_column_names"] = list(batch.locate)
    return form


def _plain(value):
    """JSON-friendly values (numpy scalars, NaN) for metadata and the audit."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def check_result(outcome: SuiteOutcome, lake_root: Path) -> dg.AssetCheckResult:
    """The Dagster check result: pass/fail, failed expectations inline, sample, Data Docs."""
    asset = "/".join(outcome.suite.asset)
    failed = outcome.failed
    metadata: dict[str, Any] = {
        "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
        "failed_expectations": dg.MetadataValue.int(len(failed)),
        "data_docs": dg.MetadataValue.path(
            (failed[0].page if failed else None)
            or (outcome.docs_pages[0] if outcome.docs_pages else str(lake_root / "docs"))
        ),
    }
    if failed:
        metadata["problem"] = dg.MetadataValue.text(failed[0].describe(asset))
        metadata["failures"] = dg.MetadataValue.md(
            "| batch | expectation | column | unexpected | of | problem |\n"
            "|---|---|---|---|---|---|\n"
            + "\n".join(
                f"| {o.batch} | `{o.expectation.type}` | {o.expectation.column_label or o.column}"
                f" | {o.unexpected_count if o.unexpected_count is not None else '–'}"
                f" | {o.element_count if o.element_count is not None else '–'}"
                f" | {o.expectation.problem} |"
                for o in failed
            )
        )
        metadata["sample"] = dg.MetadataValue.json(
            {o.expectation.type + ":" + str(o.column): o.sample for o in failed if o.sample}
        )
    return dg.AssetCheckResult(
        passed=outcome.success, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata
    )


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


def build_check(suite: Suite) -> dg.AssetChecksDefinition:
    """A blocking check: an ERROR here stops the downstream assets and the publish step."""

    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset)),
        name=suite.check_name,
        blocking=True,
        description=suite.description,
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
        with lake.working_db() as con:
            outcome = run_suite(
                con, suite, lake.lake.docs, max_rejected_rows=lake.max_rejected_rows
            )
        fault_point("check")
        audit.append(
            lake.lake.audit_db, "validation_results", audit_rows(outcome, context.run.run_id)
        )
        return check_result(outcome, lake.lake.root)

    return _check


CHECKS = [build_check(suite) for suite in SUITES]
