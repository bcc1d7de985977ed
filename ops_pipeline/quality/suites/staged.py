"""The suites of the reference list and the staged tables: every row of a landing file checked,
with its file and row when it fails."""

from __future__ import annotations

from ops_pipeline.quality.expectations import (
    EFFECT_BOUND,
    MUNICIPALITY,
    MUNICIPALITY_CODES,
    POPULATION_BOUND,
    ROWS,
    SAVING_BOUND,
    Batch,
    Suite,
    between,
    expect,
    in_set,
    not_null,
    rejected_rows,
    schema,
    unique,
)
from ops_pipeline.schemas import STATUS_CODES

MUNICIPALITIES_SUITE = Suite(
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
                expect("expect_table_row_count_to_equal", "municipalities, expected 98", value=98),
            ),
        ),
    ),
)

POPULATION_SUITE = Suite(
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
                between("municipalities", 98, 98, "municipalities in the quarter, expected all 98"),
            ),
            locate=("source_file", "quarter"),
        ),
        rejected_rows("staged/population"),
    ),
)

SURVEY_RESPONDENTS_SUITE = Suite(
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
                    list(STATUS_CODES),
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
)

SURVEY_ANSWERS_SUITE = Suite(
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
)

SURVEY_VARIABLES_SUITE = Suite(
    "survey_variables_suite",
    ("staged", "survey_variables"),
    "Variables of the structure table: one row per variable and year.",
    (
        schema("staged.survey_variables"),
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
)

SURVEY_LABELS_SUITE = Suite(
    "survey_labels_suite",
    ("staged", "survey_labels"),
    "Labels: one label per variable, code and year.",
    (
        schema("staged.survey_labels"),
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
)

IDEBANK_ROWS_SUITE = Suite(
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
)

PROPOSALS_SUITE = Suite(
    "proposals_suite",
    ("staged", "proposals"),
    "Proposals: one per ID and budget year, savings within ±1 bn kr.",
    (
        schema("staged.proposals"),
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
)

STAGED = (
    MUNICIPALITIES_SUITE,
    POPULATION_SUITE,
    SURVEY_RESPONDENTS_SUITE,
    SURVEY_ANSWERS_SUITE,
    SURVEY_VARIABLES_SUITE,
    SURVEY_LABELS_SUITE,
    IDEBANK_ROWS_SUITE,
    PROPOSALS_SUITE,
)
