"""The Great Expectations 1.x runner behind :func:`validate`.

The batch queries run in DuckDB, in the caller's process; GX checks their rows in this process or
in the quality worker (``worker.py``). GX is imported only when a suite runs (the import costs
seconds), and one ephemeral context is built per process, not per expectation or lake, with a
Data Docs site per folder. Each batch runs as a GX checkpoint, built once per process; failed runs
render their Data Docs pages at once, others when the publish step renders them all.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from ops_pipeline.quality.expectations import MAX_REJECTED_ROWS, Batch, Expect, RunSetting, Suite
from ops_pipeline.quality.outcomes import SAMPLE_ROWS, ExpectationOutcome, SuiteOutcome, plain

_context_object = None
# Data Docs folder → its GX site, and the validations of this process not yet rendered there.
_sites: dict[str, str] = {}
_unrendered: dict[str, list] = {}
_checkpoints: dict[str, tuple[tuple, Any]] = {}  # GX name → (variant, checkpoint)


def _context():
    """One ephemeral GX context per process: its checkpoints serve every lake the process
    refreshes (building them costs more than running them)."""
    global _context_object
    if _context_object is None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.data_sources.add_pandas("working_db")
        _context_object = context
    return _context_object


def _site(context, docs: Path) -> str:
    """The GX Data Docs site writing into ``docs``, added on its first use."""
    key = str(docs)
    if key not in _sites:
        name = f"lake_{len(_sites)}"
        context.add_data_docs_site(
            site_name=name,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": key,
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        _sites[key] = name
    return _sites[key]


def _replace(collection, name: str, new):
    """Add a named GX object, replacing one of an earlier run in this process."""
    with contextlib.suppress(Exception):  # not there yet: GX raises its own not-found errors
        collection.delete(name)
    return collection.add(new)


def validate(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    docs: Path,
    *,
    max_rejected_rows: int = 0,
) -> SuiteOutcome:
    """Validate every batch of ``suite`` against the working database. Plain function: tests
    call it directly with a DuckDB connection.

    The batch queries run here, in DuckDB; their results go to Great Expectations in this
    process, or in the quality worker when one was started (:mod:`~ops_pipeline.quality.worker`:
    the command line starts one so that GX is imported while Dagster starts and stages)."""
    batches: list[tuple[Batch, Any]] = []
    for batch in suite.batches:
        try:
            # Arrow travels to the worker in its buffers; pickling a DataFrame's string columns
            # cost 2 s at 500,000 respondents. The DataFrame is made where GX runs (run_batches).
            batches.append((batch, con.sql(batch.query).to_arrow_table()))
        except duckdb.Error as error:
            # A table without a column the batch reads fails the check, naming the error; the
            # schema batch, run first, names the column.
            batches.append((batch, duckdb_error(error)))
    from ops_pipeline.quality import worker

    outcomes, pages = worker.call(run_batches, suite, batches, docs, max_rejected_rows)
    return SuiteOutcome(suite, outcomes, pages)


def duckdb_error(error: duckdb.Error) -> str:
    return str(error).splitlines()[0]


def run_batches(
    suite: Suite, batches: list[tuple[Batch, Any]], docs: Path, max_rejected_rows: int
) -> tuple[list[ExpectationOutcome], list[str]]:
    """Great Expectations over each batch's rows (an Arrow table, or the error that kept the
    batch from being read): the outcome of every expectation, and the Data Docs pages."""
    import great_expectations as gx

    context = _context()
    site = _site(context, docs)
    source = context.data_sources.get("working_db")
    outcomes: list[ExpectationOutcome] = []
    pages: list[str] = []
    identifiers: list = []
    for batch, frame in batches:
        name = f"{'.'.join(suite.asset)}.{batch.name}"
        if isinstance(frame, str):
            problem = f"its {batch.name} batch cannot be read ({frame})"
            outcomes.append(
                ExpectationOutcome(batch.name, Expect("query", problem), False, None, None)
            )
            continue
        # Through DuckDB, so the DataFrame has the dtypes of the query's own .df().
        frame = duckdb.from_arrow(frame).df()
        checkpoint = _checkpoint(gx, context, source, name, batch, max_rejected_rows)
        result = checkpoint.run(batch_parameters={"dataframe": frame})
        for identifier, run in result.run_results.items():
            identifiers.append(identifier)
            _unrendered.setdefault(str(docs), []).append(identifier)
            page = next(
                (
                    site["site_url"].removeprefix("file://")
                    for site in context.get_docs_sites_urls(
                        resource_identifier=identifier,
                        site_names=[site],
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
                        sample=[plain(row) for row in sample],
                        observed=plain(details.get("observed_value")),
                        page=page,
                    )
                )
    if not all(o.success for o in outcomes):
        # A failed run may not reach the publish step: render its pages now.
        render_data_docs(docs, identifiers)
    return outcomes, pages


def _checkpoint(gx, context, source, name: str, batch: Batch, max_rejected_rows: int):
    """The batch's GX checkpoint: built once per process, then reused while the batch's
    expectations and the run's setting stay the same (building suite, validation definition and
    checkpoint costs more than running them). GX objects go by name, so another variant of the
    batch replaces them."""
    signature = (max_rejected_rows, repr((batch.expectations, batch.locate)))
    cached = _checkpoints.get(name)
    if cached is None or cached[0] != signature:
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
        cached = _checkpoints[name] = (signature, checkpoint)
    return cached[1]


def build_data_docs(docs: Path) -> Callable[[], Path | None]:
    """Start rendering the Data Docs of this run's validations into ``docs`` and return the
    function that waits for the index page (None when no check ran). In the quality worker, the
    render runs while the caller goes on (the publish step writes the warehouse meanwhile);
    without one, it runs when waited for."""
    from ops_pipeline.quality import worker

    return worker.begin(render_data_docs, docs)


def start_worker(docs: Path, max_rejected_rows: int, *, always: bool = False) -> bool:
    """Start the quality worker (:mod:`~ops_pipeline.quality.worker`) warmed up for a run writing
    Data Docs to ``docs``; see :func:`worker.start` for when it does not."""
    from ops_pipeline.quality import worker

    return worker.start(warm_up, docs, max_rejected_rows, always=always)


def warm_up(docs: Path, max_rejected_rows: int) -> None:
    """Import GX and build the context and every suite's checkpoints (the quality worker does
    this first, while the run it serves starts)."""
    import great_expectations as gx

    from ops_pipeline.quality.suites import SUITES

    context = _context()
    _site(context, docs)
    source = context.data_sources.get("working_db")
    for suite in SUITES:
        for batch in suite.batches:
            name = f"{'.'.join(suite.asset)}.{batch.name}"
            _checkpoint(gx, context, source, name, batch, max_rejected_rows)


def render_data_docs(docs: Path, identifiers: list | None = None) -> Path | None:
    """Render into ``docs`` the Data Docs of the validations this process ran for it since its
    last render (or only ``identifiers``), with their suites' pages and the index."""
    if str(docs) not in _sites:
        return None
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    pending = _unrendered.setdefault(str(docs), [])
    chosen = list(pending if identifiers is None else identifiers)
    if chosen:
        suites = {ExpectationSuiteIdentifier(i.expectation_suite_identifier.name) for i in chosen}
        _context().build_data_docs(
            site_names=[_sites[str(docs)]], resource_identifiers=[*chosen, *suites]
        )
    pending[:] = [i for i in pending if i not in chosen]
    index = docs / "index.html"
    return index if index.is_file() else None


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
