"""Write a realistic, deterministic sample landing zone: the one entry point of the package.

The analysis the pipeline reproduces (DI, November 2022) rests on data that is not public: a
survey of all municipal CEOs (March 2022) and KL's Idébank for budget 2021. This writes
synthetic exports of both, in the formats of the landing-zone contract, next to the real FOLK1A
population, so that the marts reproduce the published figures (``published-figures.md``).

Answers and proposals are seeded random, but every published figure is met by construction:
exact answer counts and savings totals are fixed first, then spread out and shuffled, so the
figures hold for every seed. ``scale`` multiplies the volume for benchmarks.

For benchmarks at the size of real workplace surveys, it can write instead an employee survey
of any number of respondents and six-point variables and an Idébank extract of about a given
number of rows.

The modules, by what they make: ``ceo_survey``, ``employee_survey`` (both through
``surveyxact_export``), ``idebank`` (amounts from ``savings``, xlsx from ``xlsx_writer``), the
words from ``vocabulary.toml`` (``vocabulary``).
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from ops_pipeline.reference import FOLK1A_FILE
from ops_pipeline.sample.ceo_survey import ceo_survey_files
from ops_pipeline.sample.employee_survey import EMPLOYEE_VARIABLES, write_employee_survey
from ops_pipeline.sample.idebank import BUDGET_YEAR, draw_proposals, extract_files, scale_for_rows
from ops_pipeline.sample.municipalities import municipalities_of

SURVEY_YEAR = 2022


def write_sample_lake(
    lake: Path,
    seed: int = 2022,
    scale: int = 1,
    *,
    survey_respondents: int | None = None,
    survey_variables: int | None = None,
    idebank_rows: int | None = None,
) -> list[Path]:
    """Write a realistic, deterministic sample landing zone under lake/'landing'.

    Returns the files written. ``scale`` K >= 1 writes K times as many Idébank proposals (the
    published Idébank figures still hold) and K times as many survey respondents (the answer
    distribution replicated; the survey then has no ``kommunekode``, as one CEO per
    municipality no longer fits). The same arguments give byte-identical files.

    For benchmarks, instead of ``scale``: ``survey_respondents`` replaces the CEO survey by an
    employee survey of that many respondents with ``survey_variables`` six-point variables
    (default EMPLOYEE_VARIABLES), no ``kommunekode``; ``idebank_rows`` writes about that many
    Idébank rows (within a few per cent; at least those of scale 1).

    Raises ``FileExistsError`` when ``lake/landing`` already holds files: landing files are
    immutable.
    """
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    if survey_variables is not None and survey_respondents is None:
        raise ValueError("survey_variables needs survey_respondents")
    for name, value in (
        ("survey_respondents", survey_respondents),
        ("survey_variables", survey_variables),
        ("idebank_rows", idebank_rows),
    ):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, not {value}")
    if scale != 1 and (survey_respondents is not None or idebank_rows is not None):
        raise ValueError("scale and survey_respondents or idebank_rows are alternatives")
    landing = Path(lake) / "landing"
    if landing.is_dir() and any(p.is_file() for p in landing.rglob("*")):
        raise FileExistsError(
            errno.EEXIST,
            "the landing zone already holds files; refusing to overwrite",
            str(landing),
        )
    municipalities = municipalities_of(BUDGET_YEAR)
    written: list[Path] = []

    def write(folder: str, files: dict[str, bytes]) -> None:
        (landing / folder).mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            path = landing / folder / name
            path.write_bytes(data)
            written.append(path)

    population = landing / "population" / FOLK1A_FILE.name
    population.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FOLK1A_FILE, population)
    written.append(population)

    survey = f"survey/{SURVEY_YEAR}"
    if survey_respondents is None:
        write(survey, ceo_survey_files(seed, municipalities, scale))
    else:
        variables = survey_variables or EMPLOYEE_VARIABLES
        written += write_employee_survey(landing / survey, seed, survey_respondents, variables)

    if idebank_rows is not None:
        scale = scale_for_rows(seed, municipalities, idebank_rows)
    proposals = draw_proposals(seed, municipalities, scale)
    write(f"idebank/{BUDGET_YEAR}", extract_files(proposals, municipalities))
    return written
