"""The municipal-CEO survey (SurveyXact exports): staged respondents, answers, variables and
labels → marts.survey_response, marts.survey_potential and marts.survey_answer_counts."""

import dagster as dg

from ops_pipeline import audit
from ops_pipeline.defs.checks import build_check
from ops_pipeline.defs.gate import GATE_KEY, load_gate
from ops_pipeline.defs.marts import sql_mart
from ops_pipeline.defs.metadata import column_schema, ingest_metadata, schema_metadata
from ops_pipeline.defs.partitions import SINGLE_RUN, YEARS, partition_years
from ops_pipeline.defs.resources import OWNER, LakeResource, table_metadata
from ops_pipeline.quality.suites.marts import (
    SURVEY_ANSWER_COUNTS_SUITE,
    SURVEY_POTENTIAL_SUITE,
    SURVEY_RESPONSE_SUITE,
)
from ops_pipeline.quality.suites.staged import (
    SURVEY_ANSWERS_SUITE,
    SURVEY_LABELS_SUITE,
    SURVEY_RESPONDENTS_SUITE,
    SURVEY_VARIABLES_SUITE,
)
from ops_pipeline.schemas import LANDING_SCHEMAS
from ops_pipeline.staging.survey import stage_survey

LANDING_SURVEY = dg.AssetKey(["landing", "survey"])
# The staged asset that reads the exports: rejected rows and audit rows are filed under it.
SURVEY_ASSET = "staged/survey_respondents"
RESPONDENTS = "staged/survey_respondents"
ANSWERS = "staged/survey_answers"
VARIABLES = "staged/survey_variables"
LABELS = "staged/survey_labels"
landing_survey = dg.AssetSpec(
    LANDING_SURVEY,
    metadata={"dagster/column_schema": column_schema(LANDING_SCHEMAS["survey"])},
    description="SurveyXact dataset exports of the municipal-CEO survey in "
    "landing/survey/<survey_year>/: dataset, labels and structure as CSV (three flavours) or xlsx.",
    group_name="landing",
    kinds={"csv", "excel"},
    owners=[OWNER],
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["staged", "survey_respondents"],
            deps=[LANDING_SURVEY, GATE_KEY],
            metadata=schema_metadata("staged.survey_respondents"),
            kinds={"duckdb"},
            owners=[OWNER],
            description="One row per invited respondent: survey year, respondent (key or row), "
            "municipality code, status (1 new, 2 distributed, 3 some answers, 4 completed, "
            "5 dropped out) and the file and row it came from.",
        ),
        dg.AssetSpec(
            ["staged", "survey_answers"],
            deps=[LANDING_SURVEY, GATE_KEY],
            metadata=schema_metadata("staged.survey_answers"),
            kinds={"duckdb"},
            owners=[OWNER],
            description="Individual non-blank answers in long form (survey year, respondent, "
            "variable, answer code). Working database only: never published.",
        ),
        dg.AssetSpec(
            ["staged", "survey_variables"],
            deps=[LANDING_SURVEY, GATE_KEY],
            metadata=schema_metadata("staged.survey_variables"),
            kinds={"duckdb"},
            owners=[OWNER],
            description="Variables of the structure table: type, question and matrix item.",
        ),
        dg.AssetSpec(
            ["staged", "survey_labels"],
            deps=[LANDING_SURVEY, GATE_KEY],
            metadata=schema_metadata("staged.survey_labels"),
            kinds={"duckdb"},
            owners=[OWNER],
            description="Answer labels per variable (code → label) from the labels table.",
        ),
    ],
    group_name="staged",
    partitions_def=YEARS,
    backfill_policy=SINGLE_RUN,
)
def staged_survey(context: dg.AssetExecutionContext, lake: LakeResource):
    """Read the SurveyXact export of every survey year into the staged survey tables."""
    with lake.working_db() as con:
        inventory, corrections = load_gate(con, lake.lake)
        years = partition_years(context, inventory)
        files = stage_survey(con, lake.lake, inventory, years, corrections)
        ingest = ingest_metadata(
            audit.record_ingest(
                con, lake.lake, context.run.run_id, SURVEY_ASSET, files, corrections
            )
        )
        for spec in context.selected_asset_keys:
            metadata = table_metadata(con, "staged." + spec.path[-1])
            if spec.path[-1] == "survey_respondents":
                metadata.update(ingest)
            yield dg.MaterializeResult(asset_key=spec, metadata=metadata)


staged_survey_checks = [
    build_check(SURVEY_RESPONDENTS_SUITE),
    build_check(SURVEY_ANSWERS_SUITE),
    build_check(SURVEY_VARIABLES_SUITE),
    build_check(SURVEY_LABELS_SUITE),
]


survey_response = sql_mart(
    "survey_response",
    deps=[["staged", "survey_respondents"]],
    description="Invited, responded (some answers or completed) and completed respondents per "
    "survey year, with response and completion rates.",
    year_column="survey_year",
    column_lineage={
        "survey_year": [(RESPONDENTS, "survey_year")],
        "invited": [(RESPONDENTS, "respondent")],
        "responded": [(RESPONDENTS, "status")],
        "completed": [(RESPONDENTS, "status")],
        "response_rate": [(RESPONDENTS, "status")],
        "completion_rate": [(RESPONDENTS, "status")],
    },
)


survey_response_check = build_check(SURVEY_RESPONSE_SUITE)
survey_potential = sql_mart(
    "survey_potential",
    deps=[
        ["staged", "survey_respondents"],
        ["staged", "survey_answers"],
        ["staged", "survey_variables"],
        ["staged", "survey_labels"],
    ],
    description="Per six-point-scale variable: respondents who answered, the positive (I meget "
    "høj / høj / nogen grad) and high (meget høj / høj) counts and shares, and the rank by "
    "share_positive within the year.",
    year_column="survey_year",
    column_lineage={
        "survey_year": [(ANSWERS, "survey_year")],
        "variable": [(VARIABLES, "variable")],
        "question": [(VARIABLES, "question")],
        "item": [(VARIABLES, "item")],
        **{
            column: [(ANSWERS, "answer"), (RESPONDENTS, "status"), (LABELS, "label")]
            for column in ("answered", "positive", "share_positive", "high", "share_high", "rank")
        },
    },
)


survey_potential_check = build_check(SURVEY_POTENTIAL_SUITE)
survey_answer_counts = sql_mart(
    "survey_answer_counts",
    deps=[
        ["marts", "survey_potential"],
        ["staged", "survey_respondents"],
        ["staged", "survey_answers"],
        ["staged", "survey_labels"],
    ],
    description="Per six-point-scale variable of survey_potential and code 1–6: the respondents "
    "who responded and gave that code (zero counts included): what the report's survey charts "
    "draw, as counts only.",
    year_column="survey_year",
    column_lineage={
        "survey_year": [(ANSWERS, "survey_year")],
        "variable": [("marts/survey_potential", "variable")],
        "code": [(LABELS, "code")],
        "label": [(LABELS, "label")],
        "respondents": [(ANSWERS, "answer"), (RESPONDENTS, "status")],
    },
)


survey_answer_counts_check = build_check(SURVEY_ANSWER_COUNTS_SUITE)


# The quality gate of each asset above, for the Definitions.
CHECKS = [
    *staged_survey_checks,
    survey_response_check,
    survey_potential_check,
    survey_answer_counts_check,
]
