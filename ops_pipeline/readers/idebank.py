"""KL's Idébank extracts: ``.xlsx`` (sheet ``Idébank``) or ``;``-separated ``.csv``.

Loads every extract of one budget-year folder into the TEMP table ``ib_rows``: one row per
proposal and fagområde, with typed columns and the file and row each came from. Cells that cannot
be read as their contract says (a number, Ja/Nej, a blank last-year effect) are an error naming
file, row and column. Rules across rows (duplicated IDs, codes, the folder's year) belong to the
staging step.
"""

from __future__ import annotations

from pathlib import Path

from ops_pipeline.readers.corrections import CorrectionSet
from ops_pipeline.readers.csv_load import load_csv
from ops_pipeline.readers.errors import LandingError, reading
from ops_pipeline.readers.text import fail_on_first, for_duckdb, sql_identifier, sql_string
from ops_pipeline.readers.xlsx import open_workbook

SHEET = "Idébank"
EXTENSIONS = (".csv", ".xlsx")
TEXT_COLUMNS = {
    "ID": "id",
    "Kommunenr": "municipality_code",
    "Kommune": "municipality_name",
    "Budgetår": "budget_year",
    "Titel": "title",
    "Beskrivelse": "description",
    "Fagområde": "policy_area",
    "Tiltagstype": "measure_type",
    "Relevant for andre kommuner": "relevant",
    "Serviceforringelse": "service_reduction",
}
INTEGER_COLUMNS = ("Kommunenr", "Budgetår")
YES_NO_COLUMNS = ("Relevant for andre kommuner", "Serviceforringelse")
# Danish: "-1.250,5" (thousands '.', decimal ','). xlsx cells come as plain "-1250.5".
DANISH_NUMBER = r"^[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"
PLAIN_NUMBER = r"^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$"


def effect_columns(budget_year: int) -> list[str]:
    """``Effekt Y`` … ``Effekt Y+3``: budget effect in 1.000 kr. in each of four years from Y."""
    return [f"Effekt {budget_year + k}" for k in range(4)]


def extract_header(budget_year: int) -> tuple[str, ...]:
    """The columns of an extract in the order KL's Idébank exports them (the reader finds its
    columns by name, in any order)."""
    text = list(TEXT_COLUMNS)
    return (*text[:8], *effect_columns(budget_year), *text[8:])


def read_idebank(
    con,
    files: list[Path],
    budget_year: int,
    scratch: Path,
    corrections: CorrectionSet | None = None,
) -> list[Path]:
    """Load the extracts ``files`` of one budget year (what the landing gate let through for its
    folder) into TEMP table ``ib_rows``; return the files read.

    ``corrections`` are applied to each file's raw cells before they are checked and typed.
    """
    if not files:
        raise ValueError("no Idébank extract to read")
    con.execute("DROP TABLE IF EXISTS ib_rows")
    for i, path in enumerate(files):
        with reading(path):  # a library error escaping names the file
            if path.suffix.lower() == ".csv":
                text = for_duckdb(path, scratch, allowed=("utf-8", "cp1252"))
                columns = load_csv(con, text, path, table="ib_raw", delim=";", header=True)
                danish = True
            else:
                columns = _load_xlsx(con, path)
                danish = False
            if corrections:
                corrections.apply(con, "ib_raw", path, columns)
            select = _typed_select(con, path, columns, budget_year, danish)
            con.execute(
                f"CREATE TEMP TABLE ib_rows AS {select}"
                if i == 0
                else f"INSERT INTO ib_rows {select}"
            )
            con.execute("DROP TABLE ib_raw")
    return files


def _load_xlsx(con, path: Path) -> list[str]:
    # Inspected before fastexcel reads it: a workbook that cannot be read safely or right is
    # refused by name (ops_pipeline.readers.xlsx).
    reader = open_workbook(path)
    if SHEET not in reader.sheet_names:
        raise LandingError(
            path, f"has no sheet {SHEET!r} (sheets: {', '.join(reader.sheet_names)})"
        )
    # Every cell as text, so the checks below see exactly what was typed.
    table = reader.read_sheet(SHEET, header=True)
    con.register("ib_arrow", table)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ib_raw AS "
        "SELECT *, (row_number() OVER () + 1)::BIGINT AS _row FROM ib_arrow"
    )
    con.unregister("ib_arrow")
    return table.column_names


def _typed_select(con, path: Path, columns: list[str], budget_year: int, danish: bool) -> str:
    effects = effect_columns(budget_year)
    header = {c.strip(): c for c in columns}
    for wanted in [*TEXT_COLUMNS, *effects]:
        if wanted not in header:
            raise LandingError(
                path, f"missing column {wanted!r} in the header", row=1, column=wanted
            )
    if con.execute("SELECT count(*) FROM ib_raw").fetchall()[0][0] == 0:
        raise LandingError(path, "the extract has a header but no proposals")

    def cell(name: str) -> str:
        return f"NULLIF(trim({sql_identifier(header[name])}), '')"

    def number(name: str) -> str:
        value = cell(name)
        if danish:
            value = f"replace(replace({value}, '.', ''), ',', '.')"
        return f"CAST({value} AS DOUBLE)"

    pattern = DANISH_NUMBER if danish else PLAIN_NUMBER
    number_kind = "a Danish number such as -1.250,5" if danish else "a number"
    for name in INTEGER_COLUMNS:
        fail_on_first(
            con,
            "ib_raw",
            path,
            name,
            f"{cell(name)} IS NULL OR NOT regexp_full_match({cell(name)}, '^\\d+(\\.0+)?$')",
            "is not a whole number",
            header=header,
        )
        fail_on_first(
            con,
            "ib_raw",
            path,
            name,
            f"TRY_CAST(TRY_CAST({cell(name)} AS DOUBLE) AS INTEGER) IS NULL",
            "is too large for a whole number (at most 2147483647)",
            header=header,
        )
    for name in YES_NO_COLUMNS:
        fail_on_first(
            con,
            "ib_raw",
            path,
            name,
            f"{cell(name)} IS NULL OR lower({cell(name)}) NOT IN ('ja', 'nej')",
            "must be Ja or Nej",
            header=header,
        )
    for name in effects:
        fail_on_first(
            con,
            "ib_raw",
            path,
            name,
            f"{cell(name)} IS NOT NULL AND NOT regexp_matches({cell(name)}, '{pattern}')",
            f"is not {number_kind}",
            header=header,
        )
        # DuckDB reads a number beyond a DOUBLE's range (1e400, 400 digits) as infinity.
        fail_on_first(
            con,
            "ib_raw",
            path,
            name,
            f"{cell(name)} IS NOT NULL AND NOT isfinite({number(name)})",
            "is too large for a number",
            header=header,
        )
    fail_on_first(
        con,
        "ib_raw",
        path,
        effects[-1],
        f"{cell(effects[-1])} IS NULL",
        "is blank: the effect at full phase-in (the last year) is required",
        header=header,
    )
    fail_on_first(con, "ib_raw", path, "ID", f"{cell('ID')} IS NULL", "is blank", header=header)

    typed = [
        f"{sql_string(path.name)} AS source_file",
        "_row AS source_row",
        f"{cell('ID')} AS id",
        f"CAST(CAST({cell('Kommunenr')} AS DOUBLE) AS INTEGER) AS municipality_code",
        f"{cell('Kommune')} AS municipality_name",
        f"CAST(CAST({cell('Budgetår')} AS DOUBLE) AS INTEGER) AS budget_year",
        f"{cell('Titel')} AS title",
        f"{cell('Beskrivelse')} AS description",
        f"{cell('Fagområde')} AS policy_area",
        f"{cell('Tiltagstype')} AS measure_type",
        # A blank effect in the first three years means 0.
        *(f"coalesce({number(e)}, 0) AS effect_year_{k + 1}" for k, e in enumerate(effects)),
        f"lower({cell('Relevant for andre kommuner')}) = 'ja' AS relevant",
        f"lower({cell('Serviceforringelse')}) = 'ja' AS service_reduction",
    ]
    return f"SELECT {', '.join(typed)} FROM ib_raw"
