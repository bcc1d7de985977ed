"""The municipal-CEO survey (SurveyXact exports): staged respondents, answers, variables and
labels → marts.survey_response, marts.survey_potential and marts.survey_answer_counts."""

from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline import audit, sql
from ops_pipeline.defs.checks import build_check
from ops_pipeline.defs.gate import GATE_KEY, load_gate
from ops_pipeline.defs.marts import sql_mart
from ops_pipeline.defs.metadata import column_schema, ingest_metadata, schema_metadata
from ops_pipeline.defs.partitions import SINGLE_RUN, YEARS, partition_years
from ops_pipeline.defs.resources import OWNER, LakeResource, table_metadata
from ops_pipeline.lake import SURVEY, Lake
from ops_pipeline.landing import Inventory
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
from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.surveyxact import SurveyExport, read_surveyxact
from ops_pipeline.readers.text import sql_identifier, sql_string
from ops_pipeline.schemas import LANDING_SCHEMAS, STATUS_CODES, STATUS_QUESTION, ddl

LANDING_SURVEY = dg.AssetKey(["landing", "survey"])
# The staged asset that reads the exports: rejected rows and audit rows are filed under it.
SURVEY_ASSET = "staged/survey_respondents"
RESPONDENTS = "staged/survey_respondents"
ANSWERS = "staged/survey_answers"
VARIABLES = "staged/survey_variables"
LABELS = "staged/survey_labels"
KEY_COLUMNS = ("respondentid", "respnokk")
MUNICIPALITY_COLUMN = "kommunekode"

# Individual answers (staged.survey_answers) stay in the working database: never published.
STAGED_TABLES = ("survey_respondents", "survey_variables", "survey_labels", "survey_answers")


def stage_survey(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    inventory: Inventory,
    years: list[int],
    corrections: CorrectionSet | None = None,
) -> dict[Path, int]:
    """Replace the staged survey tables' rows of ``years`` from the files the landing gate let
    through; return the files read with their rows.

    Rows of years no longer in the landing zone are dropped too, so the marts have a row for
    each survey year folder and no other.
    """
    landing_years = inventory.years(SURVEY)
    for table in STAGED_TABLES:
        con.execute(f"CREATE TABLE IF NOT EXISTS staged.{table} {ddl('staged.' + table)}")
        con.execute(
            f"DELETE FROM staged.{table} WHERE survey_year IN (SELECT unnest(?)) "
            "OR survey_year NOT IN (SELECT unnest(?))",
            [years, landing_years],
        )
    files: dict[Path, int] = {}
    # A year partition with only an Idébank extract has no survey to stage.
    if corrections:
        corrections.skip_unrefreshed(SURVEY, years)
    for year in sorted(set(years) & set(landing_years)):
        export = read_surveyxact(con, inventory.files_of(SURVEY, year), lake.scratch, corrections)
        counts = [
            con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in ("sx_dataset", "sx_labels", "sx_structure")
        ]
        files.update(
            zip(export.files, counts if export.form != "xlsx" else counts[:1], strict=True)
        )
        _stage_export(con, lake, year, export)
    return files


def _stage_export(con: duckdb.DuckDBPyConnection, lake: Lake, year: int, export: SurveyExport):
    folder = lake.relative(export.folder)
    structure_file = export.files[-1] if export.form != "xlsx" else export.files[0]
    shown_structure = lake.relative(structure_file)
    status = con.execute(
        "SELECT variable, choice_value, _row FROM sx_structure WHERE question_name = ? "
        "ORDER BY _row",
        [STATUS_QUESTION],
    ).fetchall()
    if not status:
        raise LandingError(shown_structure, f"no {STATUS_QUESTION!r} question (respondent status)")
    flags: dict[int, str] = {}
    for variable, choice_value, row in status:
        try:
            code = int(choice_value)
        except (TypeError, ValueError):
            code = None
        if code not in STATUS_CODES or code in flags:
            raise LandingError(
                shown_structure,
                f"status choiceValue {choice_value!r} is not one of 1–5 or repeats",
                row=row,
                column="choiceValue",
            )
        if variable not in export.dataset_columns:
            raise LandingError(
                lake.relative(export.files[0]),
                f"status column {variable!r} is missing",
                row=1,
                column=variable,
            )
        flags[code] = variable

    file_expr = f"{sql_string(folder + '/')} || _file"
    flag_set = {
        code: f"coalesce(trim({sql_identifier(var)}), '0') = '1'" for code, var in flags.items()
    }
    bad_flag = " OR ".join(
        f"coalesce(trim({sql_identifier(var)}), '0') NOT IN ('0', '1')" for var in flags.values()
    )
    _fail_first(
        con,
        file_expr,
        bad_flag,
        "a status flag is neither 0 nor 1",
        column=f"{STATUS_QUESTION} ({', '.join(flags.values())})",
    )
    count_set = " + ".join(f"({cond})::INTEGER" for cond in flag_set.values())
    _fail_first(
        con,
        file_expr,
        f"{count_set} <> 1",
        "exactly one status flag must be set per respondent",
        column=f"{STATUS_QUESTION} ({', '.join(flags.values())})",
        count=count_set,
    )

    key = next((k for k in KEY_COLUMNS if k in export.dataset_columns), None)
    if key:
        key_expr = f"NULLIF(trim({sql_identifier(key)}), '')"
        _fail_first(
            con, file_expr, f"{key_expr} IS NULL", "the respondent key is blank", column=key
        )
        # Find a repeated key first, then list its places: never a list per respondent.
        repeated = con.execute(
            f"""WITH twice AS (SELECT {key_expr} AS value FROM sx_dataset
                               GROUP BY 1 HAVING count(*) > 1 LIMIT 1)
                SELECT value, list({file_expr} || ' row ' || _row ORDER BY _file, _row)
                FROM sx_dataset JOIN twice ON {key_expr} = value GROUP BY value"""
        ).fetchall()
        if repeated:
            value, places = repeated[0]
            raise LandingError(
                places[1].rsplit(" row ", 1)[0],
                f"respondent key {value!r} repeats ({', '.join(places)})",
                row=int(places[1].rsplit(" row ", 1)[1]),
                column=key,
            )
        respondent = key_expr
    else:
        # Without a key a respondent is its row (sheet and row for a split xlsx dataset).
        respondent = "_file || ':' || _row"

    if MUNICIPALITY_COLUMN in export.dataset_columns:
        code = f"NULLIF(trim({sql_identifier(MUNICIPALITY_COLUMN)}), '')"
        _fail_first(
            con,
            file_expr,
            # A whole number only: TRY_CAST rounds '101.5' to 102 and reads '1e2' as 100.
            f"{code} IS NOT NULL AND (NOT regexp_full_match({code}, '\\d+(\\.0+)?') "
            f"OR TRY_CAST({code} AS INTEGER) IS NULL)",
            "is not a municipality code",
            column=MUNICIPALITY_COLUMN,
            value=code,
        )
        municipality = f"CAST({code} AS INTEGER)"
    else:
        municipality = "NULL::INTEGER"
    status_expr = (
        "CASE " + " ".join(f"WHEN {cond} THEN {c}" for c, cond in flag_set.items()) + " END"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW sx_respondents AS
            SELECT {respondent} AS respondent, {municipality} AS municipality_code,
                   {status_expr} AS status, _file, _row
            FROM sx_dataset"""
    )
    sql.insert(con, "staged.survey_respondents", {"year": year, "folder": folder + "/"})
    sql.insert(con, "staged.survey_variables", {"year": year, "structure_file": shown_structure})
    labels_file = export.files[1] if export.form != "xlsx" else export.files[0]
    sql.insert(
        con, "staged.survey_labels", {"year": year, "labels_file": lake.relative(labels_file)}
    )

    skip = set(flags.values()) | {key, MUNICIPALITY_COLUMN}
    structure_variables = {
        v
        for (v,) in con.execute(
            "SELECT DISTINCT variable FROM sx_structure WHERE variable IS NOT NULL"
        ).fetchall()
    }
    answer_columns = [
        c for c in export.dataset_columns if c in structure_variables and c not in skip
    ]
    if answer_columns:
        cleaned = ", ".join(
            f"NULLIF(trim({sql_identifier(c)}), '') AS {sql_identifier(c)}" for c in answer_columns
        )
        # UNPIVOT drops NULLs: a blank cell is "no answer" and gets no row.
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW sx_answers AS
                SELECT respondent, variable, answer FROM (
                    UNPIVOT (SELECT {respondent} AS respondent, {cleaned} FROM sx_dataset)
                    ON {", ".join(sql_identifier(c) for c in answer_columns)}
                    INTO NAME variable VALUE answer
                )"""
        )
        sql.insert(con, "staged.survey_answers", {"year": year})
    con.execute("DROP VIEW IF EXISTS sx_answers")
    con.execute("DROP VIEW sx_respondents")
    con.execute("DROP TABLE sx_dataset")


def _fail_first(
    con,
    file_expr: str,
    condition: str,
    problem: str,
    *,
    column: str,
    count: str | None = None,
    value: str | None = None,
) -> None:
    shown = count or value or "NULL"
    bad = con.execute(
        f"SELECT {file_expr}, _row, {shown} FROM sx_dataset WHERE {condition} "
        "ORDER BY _file, _row LIMIT 1"
    ).fetchall()
    if bad:
        file, row, found = bad[0]
        detail = f" ({found} set)" if count else (f" (value {found!r})" if value else "")
        raise LandingError(file, problem + detail, row=int(row), column=column)


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
