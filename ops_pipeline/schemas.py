"""Column schemas of the working database's tables: one place for the UI (asset metadata) and
the quality gates (schema expectations). The marts follow the package's copy of the marts
contract (:mod:`ops_pipeline.contracts`), which also gives their columns' descriptions."""

from __future__ import annotations

from ops_pipeline.contracts import mart_contracts

# SurveyXact's respondent status (landing contract), one flag per code in the export: 1 new,
# 2 distributed, 3 some answers, 4 completed, 5 dropped out. What counts as responded and
# completed is defined once, in sql/staged/survey_respondents.sql.
STATUS_QUESTION = "statoverall"
STATUS_CODES = (1, 2, 3, 4, 5)
# The methods of marts.savings_potential (marts contract), and the headline figure among them:
# the gap to the mean of the top 10 (published-figures.md).
METHODS = ("gap", "level", "gap_weighted", "level_weighted")
HEADLINE_METHOD = "gap"
HEADLINE_TOP_N = 10

SCHEMAS: dict[str, list[tuple[str, str]]] = {
    "reference.municipalities": [
        ("municipality_code", "INTEGER"),
        ("municipality", "VARCHAR"),
        ("region", "VARCHAR"),
        ("landsdel", "VARCHAR"),
    ],
    "staged.landing_files": [
        ("file", "VARCHAR"),
        ("source", "VARCHAR"),
        ("year", "INTEGER"),
        ("size_bytes", "BIGINT"),
        ("sha256", "VARCHAR"),
    ],
    "staged.rejected_rows": [
        ("asset", "VARCHAR"),
        ("partition", "VARCHAR"),
        ("file", "VARCHAR"),
        ("line", "BIGINT"),
        ("column_name", "VARCHAR"),
        ("reason", "VARCHAR"),
        ("raw", "VARCHAR"),
    ],
    "staged.population": [
        ("quarter", "VARCHAR"),
        ("year", "INTEGER"),
        ("area", "VARCHAR"),
        ("area_kind", "VARCHAR"),
        ("municipality_code", "INTEGER"),
        ("population", "BIGINT"),
        ("source_file", "VARCHAR"),
        ("source_row", "BIGINT"),
    ],
    "staged.survey_respondents": [
        ("survey_year", "INTEGER"),
        ("respondent", "VARCHAR"),
        ("municipality_code", "INTEGER"),
        ("status", "INTEGER"),
        ("responded", "BOOLEAN"),
        ("completed", "BOOLEAN"),
        ("source_file", "VARCHAR"),
        ("source_row", "BIGINT"),
    ],
    "staged.survey_answers": [
        ("survey_year", "INTEGER"),
        ("respondent", "VARCHAR"),
        ("variable", "VARCHAR"),
        ("answer", "VARCHAR"),
    ],
    "staged.survey_variables": [
        ("survey_year", "INTEGER"),
        ("variable", "VARCHAR"),
        ("question_name", "VARCHAR"),
        ("question_type", "VARCHAR"),
        ("sub_type", "VARCHAR"),
        ("question", "VARCHAR"),
        ("item", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("source_row", "BIGINT"),
    ],
    "staged.survey_labels": [
        ("survey_year", "INTEGER"),
        ("variable", "VARCHAR"),
        ("code", "VARCHAR"),
        ("label", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("source_row", "BIGINT"),
    ],
    "staged.idebank_rows": [
        ("budget_year", "INTEGER"),
        ("source_file", "VARCHAR"),
        ("source_row", "BIGINT"),
        ("id", "VARCHAR"),
        ("municipality_code", "INTEGER"),
        ("municipality_name", "VARCHAR"),
        ("stated_budget_year", "INTEGER"),
        ("title", "VARCHAR"),
        ("description", "VARCHAR"),
        ("policy_area", "VARCHAR"),
        ("measure_type", "VARCHAR"),
        ("effect_year_1", "DOUBLE"),
        ("effect_year_2", "DOUBLE"),
        ("effect_year_3", "DOUBLE"),
        ("effect_year_4", "DOUBLE"),
        ("relevant", "BOOLEAN"),
        ("service_reduction", "BOOLEAN"),
    ],
    "staged.proposals": [
        ("budget_year", "INTEGER"),
        ("id", "VARCHAR"),
        ("municipality_code", "INTEGER"),
        ("municipality_name", "VARCHAR"),
        ("stated_budget_year", "INTEGER"),
        ("title", "VARCHAR"),
        ("description", "VARCHAR"),
        ("measure_type", "VARCHAR"),
        ("policy_areas", "VARCHAR[]"),
        ("effect_full_phase_in", "DOUBLE"),
        ("saving_dkk", "DOUBLE"),
        ("relevant", "BOOLEAN"),
        ("service_reduction", "BOOLEAN"),
        ("qualifying", "BOOLEAN"),
        ("source_file", "VARCHAR"),
        ("source_row", "BIGINT"),
        ("source_rows", "INTEGER"),
    ],
    "marts.survey_response": [
        ("survey_year", "INTEGER"),
        ("invited", "INTEGER"),
        ("responded", "INTEGER"),
        ("completed", "INTEGER"),
        ("response_rate", "DOUBLE"),
        ("completion_rate", "DOUBLE"),
    ],
    "marts.survey_potential": [
        ("survey_year", "INTEGER"),
        ("variable", "VARCHAR"),
        ("question", "VARCHAR"),
        ("item", "VARCHAR"),
        ("answered", "INTEGER"),
        ("positive", "INTEGER"),
        ("share_positive", "DOUBLE"),
        ("high", "INTEGER"),
        ("share_high", "DOUBLE"),
        ("rank", "INTEGER"),
    ],
    "marts.survey_answer_counts": [
        ("survey_year", "INTEGER"),
        ("variable", "VARCHAR"),
        ("code", "INTEGER"),
        ("label", "VARCHAR"),
        ("respondents", "INTEGER"),
    ],
    "marts.municipal_savings": [
        ("budget_year", "INTEGER"),
        ("municipality_code", "INTEGER"),
        ("municipality", "VARCHAR"),
        ("region", "VARCHAR"),
        ("population", "INTEGER"),
        ("proposals", "INTEGER"),
        ("savings_dkk", "DOUBLE"),
        ("savings_per_inhabitant", "DOUBLE"),
        ("rank", "INTEGER"),
    ],
    "marts.savings_potential": [
        ("budget_year", "INTEGER"),
        ("method", "VARCHAR"),
        ("top_n", "INTEGER"),
        ("benchmark_per_inhabitant", "DOUBLE"),
        ("potential_dkk", "DOUBLE"),
    ],
    "marts.savings_potential_by_group": [
        ("budget_year", "INTEGER"),
        ("grouping", "VARCHAR"),
        ("peer_group", "VARCHAR"),
        ("method", "VARCHAR"),
        ("top_n", "INTEGER"),
        ("members", "INTEGER"),
        ("benchmark_per_inhabitant", "DOUBLE"),
        ("potential_dkk", "DOUBLE"),
        ("group_order", "INTEGER"),
    ],
    "marts.savings_by_measure": [
        ("budget_year", "INTEGER"),
        ("measure_type", "VARCHAR"),
        ("proposals", "INTEGER"),
        ("savings_dkk", "DOUBLE"),
        ("share_of_savings", "DOUBLE"),
    ],
    "marts.idebank_overview": [
        ("budget_year", "INTEGER"),
        ("proposals", "INTEGER"),
        ("qualifying_proposals", "INTEGER"),
        ("municipalities_with_proposals", "INTEGER"),
        ("savings_dkk", "DOUBLE"),
    ],
    "marts.proposals": [
        ("budget_year", "INTEGER"),
        ("id", "VARCHAR"),
        ("municipality_code", "INTEGER"),
        ("title", "VARCHAR"),
        ("measure_type", "VARCHAR"),
        ("policy_areas", "VARCHAR[]"),
        ("saving_dkk", "DOUBLE"),
        ("qualifying", "BOOLEAN"),
    ],
}

# The landing files' columns (landing-zone contract), for the external landing assets.
LANDING_SCHEMAS: dict[str, list[tuple[str, str]]] = {
    "population": [("OMRÅDE", "text"), ("TID", "quarter, e.g. 2021K1"), ("INDHOLD", "persons")],
    "survey": [
        ("respondentid / respnokk", "optional respondent key"),
        ("kommunekode", "optional 3-digit municipality code"),
        ("<variable>", "numeric answer code per variable (blank: no answer)"),
        ("stato_1 … stato_5", "0/1 status flags of question statoverall"),
    ],
    "idebank": [
        ("ID", "text"),
        ("Kommunenr", "integer"),
        ("Kommune", "text"),
        ("Budgetår", "integer"),
        ("Titel", "text"),
        ("Beskrivelse", "text"),
        ("Fagområde", "text"),
        ("Tiltagstype", "text"),
        ("Effekt Y … Effekt Y+3", "number, 1.000 kr.; negative is a saving"),
        ("Relevant for andre kommuner", "Ja/Nej"),
        ("Serviceforringelse", "Ja/Nej"),
    ],
}


def descriptions(table: str) -> dict[str, str]:
    """The contract's meaning of each column of a mart (``marts.<name>``); {} for other tables."""
    schema, _, name = table.partition(".")
    contract = mart_contracts().get(name) if schema == "marts" else None
    return {c.name: c.meaning for c in contract.columns} if contract else {}


def ddl(table: str) -> str:
    """The column list of ``CREATE TABLE`` for a table of SCHEMAS."""
    return "(" + ", ".join(f"{name} {kind}" for name, kind in SCHEMAS[table]) + ")"
