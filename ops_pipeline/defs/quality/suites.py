"""The expectation suites, as code, versioned with the package.

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
STATUS_CODES = [1, 2, 3, 4, 5]
METHODS = ["gap", "level", "gap_weighted", "level_weighted"]


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

SUITES: tuple[Suite, ...] = (
    Suite(
        "municipalities_suite",
        ("reference", "municipalities"),
        "The reference list: 98 municipalities with unique codes, names and regions.",
        (
            schema("reference.municipalities"),
            Batch(
                "rows",
                "SELECT * FROM reference.municipalities",
                (
                    unique("municipality_code"),
                    unique("municipality"),
                    not_null("region"),
                    expect(
                        "expect_table_row_count_to_equal", "municipalities, expected 98", value=98
                    ),
                ),
            ),
        ),
    ),
    Suite(
        "population_suite",
        ("staged", "population"),
        "FOLK1A: unique area and quarter, plausible numbers, every municipality present, and the "
        "98 municipalities plus Christiansø adding up to Hele landet in each quarter.",
        (
            schema("staged.population"),
            Batch(
                "rows",
                "SELECT * FROM staged.population",
                (
                    unique("area", "quarter"),
                    not_null("population", "INDHOLD"),
                    between(
                        "population",
                        0,
                        POPULATION_BOUND,
                        f"is not a population between 0 and {POPULATION_BOUND:,}",
                        "INDHOLD",
                    ),
                ),
                locate=ROWS,
            ),
            Batch(
                "quarters",
                """
                SELECT quarter,
                       max(population) FILTER (WHERE area_kind = 'country') AS national,
                       (sum(population) FILTER (WHERE area_kind IN ('municipality',
                                                                    'christiansoe')))::BIGINT
                           AS municipalities_and_christiansoe,
                       count(*) FILTER (WHERE area_kind = 'municipality') AS municipalities,
                       max(source_file) AS source_file
                FROM staged.population GROUP BY quarter ORDER BY quarter""",
                (
                    expect(
                        "expect_column_pair_values_to_be_equal",
                        "(the municipalities plus Christiansø) does not add up to Hele landet",
                        label="INDHOLD",
                        column_A="national",
                        column_B="municipalities_and_christiansoe",
                    ),
                    between(
                        "municipalities", 98, 98, "municipalities in the quarter, expected all 98"
                    ),
                ),
                locate=("source_file", "quarter"),
            ),
            rejected_rows("staged/population"),
        ),
    ),
    Suite(
        "survey_respondents_suite",
        ("staged", "survey_respondents"),
        "Respondents: unique per year, exactly one known status each, municipality codes in the "
        "reference list and at most one respondent per municipality (the CEO survey).",
        (
            schema("staged.survey_respondents"),
            Batch(
                "rows",
                "SELECT * FROM staged.survey_respondents",
                (
                    unique("survey_year", "respondent"),
                    not_null("respondent"),
                    in_set(
                        "status",
                        STATUS_CODES,
                        "is not exactly one status flag (1–5)",
                        "statoverall",
                    ),
                    in_set("municipality_code", MUNICIPALITY_CODES, MUNICIPALITY, "kommunekode"),
                    expect(
                        "expect_compound_columns_to_be_unique",
                        "answers twice: one respondent per municipality in the CEO survey",
                        label="kommunekode",
                        column_list=["survey_year", "municipality_code"],
                        ignore_row_if="any_value_is_missing",
                    ),
                ),
                locate=ROWS,
            ),
            rejected_rows("staged/survey_respondents"),
        ),
    ),
    Suite(
        "survey_answers_suite",
        ("staged", "survey_answers"),
        "Answers within the labels of their variable (for labelled variables), validated on the "
        "per-value aggregate with the first row of each value.",
        (
            schema("staged.survey_answers"),
            Batch(
                "values",
                """
                WITH labelled AS (SELECT DISTINCT survey_year, variable FROM staged.survey_labels),
                values AS (
                    SELECT a.survey_year, a.variable, a.answer, count(*) AS respondents,
                           arg_min(r.source_file, r.source_row) AS source_file,
                           min(r.source_row) AS source_row
                    FROM staged.survey_answers a
                    JOIN labelled USING (survey_year, variable)
                    JOIN staged.survey_respondents r USING (survey_year, respondent)
                    GROUP BY ALL
                )
                SELECT v.*, l.code IS NULL AS outside_labels
                FROM values v LEFT JOIN staged.survey_labels l
                  ON l.survey_year = v.survey_year AND l.variable = v.variable
                 AND l.code = v.answer
                ORDER BY v.survey_year, v.variable, v.answer""",
                (in_set("outside_labels", [False], "is not one of the variable's labels"),),
                locate=("source_file", "source_row", "variable", "answer"),
            ),
        ),
    ),
    Suite(
        "survey_variables_suite",
        ("staged", "survey_variables"),
        "Variables of the structure table: one row per variable and year.",
        (
            Batch(
                "rows",
                "SELECT * FROM staged.survey_variables",
                (
                    unique("survey_year", "variable"),
                    not_null("variable", "variableName"),
                    not_null("question_type", "questionType"),
                ),
                locate=ROWS,
            ),
        ),
    ),
    Suite(
        "survey_labels_suite",
        ("staged", "survey_labels"),
        "Labels: one label per variable, code and year.",
        (
            Batch(
                "rows",
                "SELECT * FROM staged.survey_labels",
                (
                    unique("survey_year", "variable", "code"),
                    not_null("code", "value"),
                ),
                locate=ROWS,
            ),
        ),
    ),
    Suite(
        "idebank_rows_suite",
        ("staged", "idebank_rows"),
        "Idébank rows: budget year equal to the folder's, municipality codes in the reference "
        "list, effects within ±1,000,000 (1.000 kr.).",
        (
            schema("staged.idebank_rows"),
            Batch(
                "rows",
                "SELECT * FROM staged.idebank_rows",
                (
                    not_null("id", "ID"),
                    expect(
                        "expect_column_pair_values_to_be_equal",
                        "differs from the budget year of the folder",
                        label="Budgetår",
                        column_A="budget_year",
                        column_B="stated_budget_year",
                    ),
                    in_set("municipality_code", MUNICIPALITY_CODES, MUNICIPALITY, "Kommunenr"),
                    *(
                        between(
                            f"effect_year_{k}",
                            -EFFECT_BOUND,
                            EFFECT_BOUND,
                            f"is outside ±{EFFECT_BOUND:,} (1.000 kr.)",
                            f"Effekt (year {k})",
                        )
                        for k in range(1, 5)
                    ),
                    not_null("measure_type", "Tiltagstype"),
                ),
                locate=ROWS,
            ),
            rejected_rows("staged/idebank_rows"),
        ),
    ),
    Suite(
        "proposals_suite",
        ("staged", "proposals"),
        "Proposals: one per ID and budget year, savings within ±1 bn kr.",
        (
            Batch(
                "rows",
                "SELECT * FROM staged.proposals",
                (
                    unique("budget_year", "id"),
                    between(
                        "saving_dkk",
                        -SAVING_BOUND,
                        SAVING_BOUND,
                        "is outside ±1 bn kr. a year",
                        "Effekt (last year)",
                    ),
                    not_null("qualifying"),
                ),
                locate=ROWS,
            ),
        ),
    ),
    Suite(
        "survey_response_suite",
        ("marts", "survey_response"),
        "One row per survey year; responded ≤ invited; rates are shares in [0, 1].",
        (
            schema("marts.survey_response"),
            Batch(
                "rows",
                "SELECT * FROM marts.survey_response",
                (
                    unique("survey_year"),
                    between("response_rate", 0, 1, SHARE),
                    between("completion_rate", 0, 1, SHARE),
                    expect(
                        "expect_column_pair_values_a_to_be_greater_than_b",
                        "responded exceeds invited",
                        column_A="invited",
                        column_B="responded",
                        or_equal=True,
                    ),
                ),
                locate=("survey_year",),
            ),
        ),
    ),
    Suite(
        "survey_potential_suite",
        ("marts", "survey_potential"),
        "One row per year and variable; shares in [0, 1]; ranks from 1.",
        (
            schema("marts.survey_potential"),
            Batch(
                "rows",
                "SELECT * FROM marts.survey_potential",
                (
                    unique("survey_year", "variable"),
                    between("share_positive", 0, 1, SHARE),
                    between("share_high", 0, 1, SHARE),
                    between("rank", 1, None, "is not a rank from 1"),
                ),
                locate=("survey_year", "variable"),
            ),
        ),
    ),
    Suite(
        "survey_answer_counts_suite",
        ("marts", "survey_answer_counts"),
        "One row per year, variable and code 1–6; counts from 0.",
        (
            schema("marts.survey_answer_counts"),
            Batch(
                "rows",
                "SELECT * FROM marts.survey_answer_counts",
                (
                    unique("survey_year", "variable", "code"),
                    between("code", 1, 6, "is not a code of the six-point scale"),
                    between("respondents", 0, None, "is a negative count"),
                    not_null("label"),
                ),
                locate=("survey_year", "variable", "code"),
            ),
        ),
    ),
    Suite(
        "municipal_savings_suite",
        ("marts", "municipal_savings"),
        "Every one of the 98 municipalities in every budget year, with a population and savings "
        "per inhabitant within ±10,000 kr.",
        (
            schema("marts.municipal_savings"),
            Batch(
                "rows",
                "SELECT * FROM marts.municipal_savings",
                (
                    unique("budget_year", "municipality_code"),
                    in_set("municipality_code", MUNICIPALITY_CODES, MUNICIPALITY),
                    not_null("population"),
                    between(
                        "savings_per_inhabitant",
                        -PER_INHABITANT_BOUND,
                        PER_INHABITANT_BOUND,
                        f"is outside ±{PER_INHABITANT_BOUND:,} kr. per inhabitant",
                    ),
                ),
                locate=("budget_year", "municipality"),
            ),
            Batch(
                "years",
                """
                SELECT budget_year, count(DISTINCT municipality_code) AS municipalities
                FROM marts.municipal_savings GROUP BY budget_year""",
                (between("municipalities", 98, 98, "municipalities in the year, expected all 98"),),
                locate=("budget_year",),
            ),
        ),
    ),
    Suite(
        "savings_potential_suite",
        ("marts", "savings_potential"),
        "One row per budget year, method and top_n; known methods; potentials not negative.",
        (
            schema("marts.savings_potential"),
            Batch(
                "rows",
                "SELECT * FROM marts.savings_potential",
                (
                    unique("budget_year", "method", "top_n"),
                    in_set("method", METHODS, "is not a known method"),
                    between("potential_dkk", 0, None, "is negative"),
                ),
                locate=("budget_year", "method", "top_n"),
            ),
        ),
    ),
    Suite(
        "savings_potential_by_group_suite",
        ("marts", "savings_potential_by_group"),
        "One row per budget year, grouping, peer group, method and top_n; 1–98 members; potentials "
        "not negative.",
        (
            schema("marts.savings_potential_by_group"),
            Batch(
                "rows",
                "SELECT * FROM marts.savings_potential_by_group",
                (
                    unique("budget_year", "grouping", "peer_group", "method", "top_n"),
                    in_set("grouping", ["region", "size_band"], "is not a known grouping"),
                    in_set("method", ["gap", "level"], "is not a known method"),
                    between("members", 1, 98, "is not between 1 and 98 members"),
                    between("potential_dkk", 0, None, "is negative"),
                ),
                locate=("budget_year", "grouping", "peer_group", "method", "top_n"),
            ),
        ),
    ),
    Suite(
        "savings_by_measure_suite",
        ("marts", "savings_by_measure"),
        "One row per budget year and measure type.",
        (
            schema("marts.savings_by_measure"),
            Batch(
                "rows",
                "SELECT * FROM marts.savings_by_measure",
                (
                    unique("budget_year", "measure_type"),
                    not_null("measure_type"),
                ),
                locate=("budget_year", "measure_type"),
            ),
        ),
    ),
    Suite(
        "idebank_overview_suite",
        ("marts", "idebank_overview"),
        "One row per budget year; qualifying proposals never more than proposals.",
        (
            schema("marts.idebank_overview"),
            Batch(
                "rows",
                "SELECT * FROM marts.idebank_overview",
                (
                    unique("budget_year"),
                    expect(
                        "expect_column_pair_values_a_to_be_greater_than_b",
                        "qualifying proposals exceed proposals",
                        column_A="proposals",
                        column_B="qualifying_proposals",
                        or_equal=True,
                    ),
                    between("municipalities_with_proposals", 0, 98, "is not between 0 and 98"),
                ),
                locate=("budget_year",),
            ),
        ),
    ),
    Suite(
        "proposals_mart_suite",
        ("marts", "proposals"),
        "One row per budget year and proposal ID, municipality codes in the reference list.",
        (
            schema("marts.proposals"),
            Batch(
                "rows",
                "SELECT * EXCLUDE (policy_areas) FROM marts.proposals",
                (
                    unique("budget_year", "id"),
                    in_set("municipality_code", MUNICIPALITY_CODES, MUNICIPALITY),
                ),
                locate=("budget_year", "id"),
            ),
        ),
    ),
)
