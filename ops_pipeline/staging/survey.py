"""Staging the municipal-CEO survey: the SurveyXact exports of each year →
staged.survey_respondents, staged.survey_answers, staged.survey_variables and
staged.survey_labels."""

from pathlib import Path

import duckdb

from ops_pipeline import sql
from ops_pipeline.lake import SURVEY, Lake
from ops_pipeline.landing import Inventory
from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.surveyxact import SurveyExport, read_surveyxact
from ops_pipeline.readers.text import fail_on_first, sql_identifier, sql_string
from ops_pipeline.schemas import STATUS_CODES, STATUS_QUESTION
from ops_pipeline.staging import clear_years

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
        clear_years(con, f"staged.{table}", "survey_year", years, landing_years)
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
    flag = {code: f"coalesce(trim({sql_identifier(var)}), '0')" for code, var in flags.items()}
    flag_set = {code: f"{value} = '1'" for code, value in flag.items()}
    status_column = f"{STATUS_QUESTION} ({', '.join(flags.values())})"
    fail_on_first(
        con,
        "sx_dataset",
        None,
        status_column,
        " OR ".join(f"{value} NOT IN ('0', '1')" for value in flag.values()),
        "is not a status flag (0 or 1)",
        files=file_expr,
        value="coalesce("
        + ", ".join(f"CASE WHEN {v} NOT IN ('0', '1') THEN {v} END" for v in flag.values())
        + ")",
    )
    fail_on_first(
        con,
        "sx_dataset",
        None,
        status_column,
        " + ".join(f"({cond})::INTEGER" for cond in flag_set.values()) + " <> 1",
        "must set exactly one status flag (one status per respondent)",
        files=file_expr,
        value=f"concat_ws(' ', {', '.join(flag.values())})",
    )

    key = next((k for k in KEY_COLUMNS if k in export.dataset_columns), None)
    if key:
        key_expr = f"NULLIF(trim({sql_identifier(key)}), '')"
        fail_on_first(
            con,
            "sx_dataset",
            None,
            key,
            f"{key_expr} IS NULL",
            "is blank: each respondent needs its key",
            files=file_expr,
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
        fail_on_first(
            con,
            "sx_dataset",
            None,
            MUNICIPALITY_COLUMN,
            # A whole number only: TRY_CAST rounds '101.5' to 102 and reads '1e2' as 100.
            f"{code} IS NOT NULL AND (NOT regexp_full_match({code}, '\\d+(\\.0+)?') "
            f"OR TRY_CAST({code} AS INTEGER) IS NULL)",
            "is not a municipality code",
            files=file_expr,
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
