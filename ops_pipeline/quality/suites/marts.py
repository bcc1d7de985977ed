"""The suites of the marts: the figures BI reads, checked against the marts contract's rules."""

from __future__ import annotations

from ops_pipeline.quality.expectations import (
    MUNICIPALITY,
    MUNICIPALITY_CODES,
    PER_INHABITANT_BOUND,
    SHARE,
    Batch,
    Suite,
    between,
    expect,
    in_set,
    not_null,
    schema,
    unique,
)
from ops_pipeline.schemas import METHODS

SURVEY_RESPONSE_SUITE = Suite(
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
)

SURVEY_POTENTIAL_SUITE = Suite(
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
)

SURVEY_ANSWER_COUNTS_SUITE = Suite(
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
)

MUNICIPAL_SAVINGS_SUITE = Suite(
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
)

SAVINGS_POTENTIAL_SUITE = Suite(
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
                in_set("method", list(METHODS), "is not a known method"),
                between("potential_dkk", 0, None, "is negative"),
            ),
            locate=("budget_year", "method", "top_n"),
        ),
    ),
)

SAVINGS_POTENTIAL_BY_GROUP_SUITE = Suite(
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
)

SAVINGS_BY_MEASURE_SUITE = Suite(
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
)

IDEBANK_OVERVIEW_SUITE = Suite(
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
)

PROPOSALS_MART_SUITE = Suite(
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
)

MARTS = (
    SURVEY_RESPONSE_SUITE,
    SURVEY_POTENTIAL_SUITE,
    SURVEY_ANSWER_COUNTS_SUITE,
    MUNICIPAL_SAVINGS_SUITE,
    SAVINGS_POTENTIAL_SUITE,
    SAVINGS_POTENTIAL_BY_GROUP_SUITE,
    SAVINGS_BY_MEASURE_SUITE,
    IDEBANK_OVERVIEW_SUITE,
    PROPOSALS_MART_SUITE,
)
