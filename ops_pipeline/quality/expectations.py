"""What an expectation suite is, and the builders the suites are written with.

A suite belongs to one asset and validates one or more *batches*: a SQL query over the working
database whose result Great Expectations checks. Staged tables are validated row by row (with the
landing file and row of each offending row); the large answer table is validated on its per-value
aggregate, so no full copy of it is ever made in pandas.

Bounds, fixed and documented here:
- Idébank effects: within ±1,000,000 (1.000 kr.), i.e. ±1 bn kr. a year for one proposal, about
  twice the largest municipal budget line a single proposal could touch; beyond is a typo.
- saving per proposal: within ±1 bn kr. (the same bound in kroner).
- savings per inhabitant: within ±10,000 kr. (the best municipality budgets under 1,000 kr.).
- population of an area: 0 to 10,000,000 persons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ops_pipeline.reference import municipalities
from ops_pipeline.schemas import SCHEMAS

EFFECT_BOUND = 1_000_000  # 1.000 kr.
SAVING_BOUND = 1_000_000_000  # kr.
PER_INHABITANT_BOUND = 10_000  # kr.
POPULATION_BOUND = 10_000_000


@dataclass(frozen=True)
class RunSetting:
    """An expectation argument known only when the check runs (a setting of the run)."""

    name: str


# The lake's tolerance of rejected rows (``--max-rejected-rows``), filled in when the check runs.
MAX_REJECTED_ROWS = RunSetting("max_rejected_rows")


MUNICIPALITY_CODES = [m.code for m in municipalities()]


@dataclass(frozen=True)
class Expect:
    """One expectation: a GX expectation type, its arguments, and the problem in plain words
    (shown after the offending value, e.g. "is not one of the 98 municipality codes")."""

    type: str
    problem: str
    kwargs: dict = field(default_factory=dict)
    column_label: str | None = None  # the landing file's name of the column, if it differs


def expect(type_: str, problem: str, *, label: str | None = None, **kwargs) -> Expect:
    return Expect(type_, problem, kwargs, label)


@dataclass(frozen=True)
class Batch:
    name: str
    query: str
    expectations: tuple[Expect, ...]
    # Columns that locate an offending row for people: file and row, or variable and answer.
    locate: tuple[str, ...] = ()
    # Every row of the batch is itself a finding (rejected rows): show them when it fails.
    rows_are_findings: bool = False


@dataclass(frozen=True)
class Suite:
    check_name: str
    asset: tuple[str, ...]
    description: str
    batches: tuple[Batch, ...]


def schema(table: str) -> Batch:
    """Every column of ``schemas.SCHEMAS[table]`` present, in order, with its DuckDB type."""
    columns = SCHEMAS[table]
    schema_name, name = table.split(".")
    values = ", ".join(f"({i}, '{c}', '{t}')" for i, (c, t) in enumerate(columns, start=1))
    query = f"""
        SELECT e.position, e.column_name, e.expected_type, c.data_type AS actual_type,
               c.ordinal_position AS actual_position
        FROM (VALUES {values}) AS e(position, column_name, expected_type)
        LEFT JOIN information_schema.columns AS c
          ON c.table_schema = '{schema_name}' AND c.table_name = '{name}'
         AND c.column_name = e.column_name
        ORDER BY e.position"""
    return Batch(
        "schema",
        query,
        (
            expect(
                "expect_column_values_to_not_be_null",
                "is missing from the table",
                column="actual_type",
            ),
            expect(
                "expect_column_pair_values_to_be_equal",
                "has another type than the schema",
                column_A="expected_type",
                column_B="actual_type",
            ),
            expect(
                "expect_column_pair_values_to_be_equal",
                "is out of the schema's order",
                column_A="position",
                column_B="actual_position",
            ),
        ),
        locate=("column_name", "expected_type", "actual_type"),
    )


def unique(*columns: str) -> Expect:
    if len(columns) == 1:
        return expect(
            "expect_column_values_to_be_unique",
            "repeats: the key must be unique",
            column=columns[0],
        )
    return expect(
        "expect_compound_columns_to_be_unique",
        f"repeats: ({', '.join(columns)}) must be unique",
        column_list=list(columns),
    )


def not_null(column: str, label: str | None = None) -> Expect:
    return expect("expect_column_values_to_not_be_null", "is blank", label=label, column=column)


def between(column: str, low, high, problem: str, label: str | None = None) -> Expect:
    return expect(
        "expect_column_values_to_be_between",
        problem,
        label=label,
        column=column,
        min_value=low,
        max_value=high,
    )


def in_set(column: str, values: list, problem: str, label: str | None = None) -> Expect:
    return expect(
        "expect_column_values_to_be_in_set", problem, label=label, column=column, value_set=values
    )


def rejected_rows(asset: str) -> Batch:
    """Rows readers could not parse: none, unless the lake's explicit tolerance allows some."""
    return Batch(
        "rejected_rows",
        f"SELECT file, line, column_name, reason FROM staged.rejected_rows "
        f"WHERE asset = '{asset}' ORDER BY file, line",
        (
            expect(
                "expect_table_row_count_to_be_between",
                "rows could not be read (see audit.rejected_rows); the tolerance is "
                "--max-rejected-rows",
                min_value=0,
                max_value=MAX_REJECTED_ROWS,
            ),
        ),
        locate=("file", "line", "column_name", "reason"),
        rows_are_findings=True,
    )


ROWS = ("source_file", "source_row")
SHARE = "is not a share between 0 and 1"
MUNICIPALITY = "is not one of the 98 municipality codes of the reference list"
