"""The lake resource every asset uses: paths of the lake and the working DuckDB database."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline.defs.metadata import column_schema
from ops_pipeline.lake import Lake
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.text import limit_duckdb

OWNER = "team:data-engineering"

# Schemas of the working database, in the order data flows through them.
WORKING_SCHEMAS = ("reference", "staged", "marts")


class LakeResource(dg.ConfigurableResource):
    """One data lake: ``landing/`` in, the working database and published warehouse out."""

    root: str
    # How many rows readers may fail to parse before the quality gate stops the run. Zero by
    # default: a lost row changes a ranking. Raise it only knowingly, for one refresh
    # (``ops-pipeline run --max-rejected-rows N``); rejected rows stay in the audit either way.
    max_rejected_rows: int = 0
    # Another working database than the lake's (``ops-pipeline check`` builds in a throwaway one).
    working_database: str = ""

    @property
    def lake(self) -> Lake:
        return Lake(Path(self.root))

    @property
    def working_path(self) -> Path:
        """The working database: ``working_database`` when set, else the lake's."""
        return Path(self.working_database) if self.working_database else self.lake.working_db

    @contextmanager
    def working_db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the working database; one writer at a time (runs are serialised).

        Landing errors raised inside name their file relative to the lake, as people see it.
        """
        lake = self.lake
        lake.work.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.working_path))
        try:
            limit_duckdb(con, lake.work / "duckdb_tmp")
            for schema in WORKING_SCHEMAS:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            yield con
        except LandingError as error:
            error.file = lake.relative(Path(error.file))
            raise
        finally:
            con.close()


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    """Row count and column schema of a working-database table, as materialisation metadata."""
    schema, name = table.split(".")
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    rows = con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchall()[0][0]
    return {
        "dagster/row_count": dg.MetadataValue.int(int(rows)),
        "dagster/column_schema": column_schema(columns, table),
        "dagster/table_name": dg.MetadataValue.text(f"working.{schema}.{name}"),
    }
