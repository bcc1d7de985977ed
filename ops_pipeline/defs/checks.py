"""The one factory that turns a quality suite into a blocking Dagster asset check: the check
runs :func:`ops_pipeline.quality.validate` on the working database, audits every expectation and
shows the failed ones inline, with a sample of offending rows and the Data Docs page."""

from pathlib import Path
from typing import Any

import dagster as dg

from ops_pipeline import audit
from ops_pipeline.defs.resources import LakeResource
from ops_pipeline.faults import fault_point
from ops_pipeline.quality import Suite, SuiteOutcome, audit_rows, validate


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
            outcome = validate(con, suite, lake.lake.docs, max_rejected_rows=lake.max_rejected_rows)
        fault_point("check")
        audit.append(
            lake.lake.audit_db, "validation_results", audit_rows(outcome, context.run.run_id)
        )
        return check_result(outcome, lake.lake.root)

    return _check
