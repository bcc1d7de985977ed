"""Write a realistic, deterministic sample landing zone.

The analysis the pipeline reproduces (DI, November 2022) rests on data that is not public: a
survey of all municipal CEOs (March 2022) and KL's Idébank for budget 2021. This module writes
synthetic exports of both, in the formats of the landing-zone contract, next to the real FOLK1A
population, so that the marts reproduce the published figures (``published-figures.md``).

Answers and proposals are seeded random, but every published figure is met by construction:
exact answer counts and savings totals are fixed first, then spread out and shuffled, so the
figures hold for every seed. ``scale`` multiplies the volume for benchmarks.

For benchmarks at the size of real workplace surveys, it can write instead an employee survey
of any number of respondents and six-point variables (drawn with numpy, whose pinned version
keeps the bytes stable) and an Idébank extract of about a given number of rows.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import math
import random
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.xml.constants import ARC_CORE
from openpyxl.xml.functions import tostring

from ops_pipeline.readers.surveyxact import STRUCTURE_COLUMNS
from ops_pipeline.reference import FOLK1A_FILE, municipalities

SURVEY_YEAR = 2022
BUDGET_YEAR = 2021
POPULATION_QUARTER = f"{BUDGET_YEAR}K1"

# ---------------------------------------------------------------------------------------------
# Survey: the municipal-CEO survey of March 2022 as a SurveyXact export
# ---------------------------------------------------------------------------------------------

COMPLETED = 66  # status 4: answered all of the questionnaire
RESPONDED = 81  # status 3 or 4: answered part of it
PARTIAL = RESPONDED - COMPLETED
DROPPED_OUT = (2, 4)  # status 5, a seeded count in this range; the rest is status 1 or 2
NOT_DISTRIBUTED = (0, 1)  # status 1
FIRST_RESPONDENT_ID = (4_000_000, 6_000_000)
RESPONDENT_ID_STEP = 40  # SurveyXact's respondent ids increase with gaps

# The structure table's header as SurveyXact writes it (and the reader expects it).
STRUCTURE_HEADER = tuple(STRUCTURE_COLUMNS)
STATUS_CHOICES = (
    (1, "Ny"),
    (2, "Distribueret"),
    (3, "Nogen svar"),
    (4, "Gennemført"),
    (5, "Frafaldet"),
)
FLAG_LABELS = ((0, "Ikke valgt"), (1, "Valgt"))
SCALE_LABELS = (
    (1, "I meget høj grad"),
    (2, "I høj grad"),
    (3, "I nogen grad"),
    (4, "I mindre grad"),
    (5, "Slet ikke"),
    (6, "Ved ikke"),
)
S1_QUESTION = (
    "I hvilken grad vurderer du, at der fortsat er mulighed for at optimere driften i din kommune?"
)
S2_QUESTION = (
    "I hvilken grad vurderer du, at der er mulighed for optimering eller kvalitetsudvikling "
    "via følgende?"
)
BACKGROUND_TEXTS = {"respondentid": "Respondent-id", "kommunekode": "Kommunekode"}
YEARS_VARIABLE = "b_1"
YEARS_TEXT = "Antal år som kommunaldirektør"
YEARS_PARTIAL_ANSWERED = 6  # the background question is last: few partial respondents reach it
YEARS_MEAN = 6.0
YEARS_MAX = 35


@dataclass(frozen=True)
class ScaleQuestion:
    """A question on the six-point scale and how its answers are drawn.

    ``share_positive`` is a half-open interval [lo, hi): the number of positive answers (codes
    1-3) is drawn among the integers it allows, so the published share holds by construction.
    Positive answers are spread over codes 1-3 and the others over codes 4-6 by the weights,
    jittered per seed. ``partial_answered`` is how many of the partial respondents (status 3)
    answered it; it must not increase along the questionnaire (they stop part-way).
    """

    variable: str
    text: str
    share_positive: tuple[Fraction, Fraction]
    positive_weights: tuple[float, float, float]
    other_weights: tuple[float, float, float]
    partial_answered: int


def _share(lo: str, hi: str) -> tuple[Fraction, Fraction]:
    return Fraction(lo), Fraction(hi)


# Published: s_1 "nine of ten" in [0.88, 0.92]; s_2_1 rounds to 0.97 and ranks first (every other
# interval ends below 0.965); in s_2_2 to s_2_4 "I nogen grad" is the most chosen answer and the
# share is > 0.5: code 3 weighs >= 0.65 of the positives and the positive share is >= 0.65, which
# keeps code 3 ahead of every other code under any jitter.
SCALE_QUESTIONS = (
    ScaleQuestion(
        "s_1", S1_QUESTION, _share("0.885", "0.915"), (0.25, 0.40, 0.35), (0.6, 0.1, 0.3), 15
    ),
    ScaleQuestion(
        "s_2_1",
        f"{S2_QUESTION} - Øget brug af digitalisering og ny teknologi",
        _share("0.965", "0.975"),
        (0.45, 0.40, 0.15),
        (0.5, 0.2, 0.3),
        11,
    ),
    ScaleQuestion(
        "s_2_2",
        f"{S2_QUESTION} - Afbureaukratisering",
        _share("0.70", "0.82"),
        (0.10, 0.25, 0.65),
        (0.7, 0.1, 0.2),
        10,
    ),
    ScaleQuestion(
        "s_2_3",
        f"{S2_QUESTION} - Smartere indkøb",
        _share("0.72", "0.85"),
        (0.08, 0.27, 0.65),
        (0.6, 0.1, 0.3),
        10,
    ),
    ScaleQuestion(
        "s_2_4",
        f"{S2_QUESTION} - Nedbringelse af sygefravær",
        _share("0.65", "0.80"),
        (0.10, 0.20, 0.70),
        (0.7, 0.1, 0.2),
        9,
    ),
    ScaleQuestion(
        "s_2_5",
        f"{S2_QUESTION} - Øget samarbejde med private virksomheder",
        _share("0.55", "0.72"),
        (0.08, 0.30, 0.62),
        (0.6, 0.15, 0.25),
        9,
    ),
    ScaleQuestion(
        "s_2_6",
        f"{S2_QUESTION} - Øget samarbejde med andre kommuner",
        _share("0.78", "0.90"),
        (0.20, 0.40, 0.40),
        (0.6, 0.1, 0.3),
        8,
    ),
)

# ---------------------------------------------------------------------------------------------
# Employee survey: a workplace survey of all municipal employees, for benchmarks
# ---------------------------------------------------------------------------------------------

EMPLOYEE_VARIABLES = 100  # six-point variables when only the number of respondents is given
# Share of each status 1-5: about 78 pct. respond (3 or 4), as in large workplace surveys.
EMPLOYEE_STATUS_SHARES = (0.01, 0.19, 0.08, 0.70, 0.02)
EMPLOYEE_ITEM_BLANK = 0.03  # a respondent leaves an item blank now and then (no forced answers)
# Answer shares of codes 1-6 before a per-variable jitter: most see "høj" or "nogen grad".
EMPLOYEE_CODE_WEIGHTS = (0.20, 0.33, 0.24, 0.12, 0.06, 0.05)
EMPLOYEE_CODE_JITTER = (0.5, 1.5)
# Rows drawn and written at a time: bounds memory, and fixes the draws so that the file does not
# depend on anything but (seed, respondents, variables).
EMPLOYEE_CHUNK_ROWS = 20_000
# Matrix questions of EMPLOYEE_ITEMS items each, exported one variable per item as SurveyXact
# does. The en dash is one of the bytes (0x80-0x9F) where Windows-1252 and Latin-1 differ.
EMPLOYEE_QUESTION = "Trivsel og arbejdsmiljø – i hvilken grad er du enig i følgende om {}?"
EMPLOYEE_SUBJECTS = (
    "din nærmeste leder",
    "dit team",
    "dine arbejdsopgaver",
    "din arbejdsplads",
    "samarbejdet på tværs",
    "kommunen som arbejdsplads",
    "udvikling og læring",
    "balancen mellem arbejde og fritid",
)
EMPLOYEE_ITEMS = (
    "Jeg får den støtte, jeg har brug for",
    "Der er gensidig tillid",
    "Jeg bliver anerkendt for mit arbejde",
    "Jeg får tilstrækkelig information",
    "Der er plads til forskellighed",
    "Jeg kan se meningen med mit arbejde",
    "Arbejdsmængden er passende",
    "Konflikter bliver håndteret på en god måde",
    "Jeg føler mig tryg ved at sige fra",
    "Jeg vil anbefale det til andre",
)

# ---------------------------------------------------------------------------------------------
# Idébank: KL's budget proposals of budget year 2021
# ---------------------------------------------------------------------------------------------

TOP_MUNICIPALITY = "Frederikssund"
TOP_PER_INHABITANT = (582.0, 596.0)  # kr. per inhabitant: "knap 600 kr." (rank 1)
NAMED_TOP10 = ("Furesø", "Hørsholm", "Billund")  # "among the largest": ranks 2-10
# kr. per inhabitant of ranks 2-10, one value drawn from each band: keeps the benchmark (mean of
# the top 10) near 455 kr., high enough for the target potential whatever the draw.
TOP10_BANDS = (
    (550, 575),
    (520, 550),
    (490, 520),
    (455, 490),
    (420, 455),
    (390, 420),
    (360, 390),
    (335, 360),
    (310, 335),
)
TOP10_POPULATION = (15_000, 80_000)  # size of the six other top-10 municipalities
# Published: "more than 2.1 bn kr." a year; the mart must be in (2.1e9, 2.2e9).
TARGET_GAP_POTENTIAL = 2.15e9
REST_CAP_SHARE = 0.9  # the other 88 stay below 90 pct. of the 10th, so the top 10 is fixed
REST_SIGMA = 0.8  # log-normal spread of the others' savings per inhabitant
ZERO_MUNICIPALITIES = (3, 6)  # municipalities without a qualifying proposal
QUALIFYING_PROPOSALS = (470, 530)  # distinct qualifying proposals at scale 1 (published: > 400)
NON_QUALIFYING_SHARE = (0.35, 0.5)  # non-qualifying proposals per qualifying one
PROPOSAL_SIGMA = 0.9  # log-normal spread of proposal sizes within a municipality
NET_COST_SHARE = 0.06  # qualifying proposals that cost more than they save
NET_COST_SIZE = (0.1, 0.6)  # a net cost relative to the municipality's mean saving
NON_QUALIFYING_MEDIAN = 600  # 1.000 kr.
SERVICE_REDUCTION_SHARE = 0.45  # non-qualifying proposals that reduce service; the rest are local
LOCAL_SHARE = 0.5  # non-relevant proposals with a local title (the rest look like any other)
HALF_SHIFT_SHARE = 0.25  # municipalities with an effect of x,5 thousand kroner
INVESTMENT_SHARE = 0.5  # prevention proposals that cost in the first year
MULTI_AREA_SHARE = 0.15  # proposals listed under 2-3 fagområder
NAME_VARIANT_SHARE = 0.06  # rows with a municipality name that differs from the reference
YES_NO_VARIANT_SHARE = 0.05  # Ja/Nej written in another case or with white space
TITLE_SUFFIX_SHARE = 0.2
XLSX_REGION = "Region Nordjylland"  # its proposals arrive as a second extract, in xlsx
IDEBANK_SHEET = "Idébank"
TENTHS = 10  # amounts are held in tenths of 1.000 kr. (100 kr.), exact in integers
XLSX_TIMESTAMP = datetime(2021, 3, 1, 8, 0, 0)  # fixed, so that the xlsx bytes are stable
YES, NO = "Ja", "Nej"
YES_VARIANTS = ("ja", "JA", " Ja", "Ja ", " ja")
NO_VARIANTS = ("nej", "NEJ", " Nej", "Nej ", "nej ")
IDEBANK_SCALE_STEPS = 4  # corrections of the scale that writes about ``idebank_rows`` rows

IDEBANK_HEADER = (
    "ID",
    "Kommunenr",
    "Kommune",
    "Budgetår",
    "Titel",
    "Beskrivelse",
    "Fagområde",
    "Tiltagstype",
    *(f"Effekt {BUDGET_YEAR + k}" for k in range(4)),
    "Relevant for andre kommuner",
    "Serviceforringelse",
)
AREAS = (
    "Administration",
    "Ældre",
    "Børn og unge",
    "Skole",
    "Social",
    "Beskæftigelse",
    "Sundhed",
    "Teknik og miljø",
    "Kultur og fritid",
    "Tværgående",
)
INVESTMENT = "Forebyggelse og investering"


@dataclass(frozen=True)
class Measure:
    """A Tiltagstype with the fagområder, titles and description sentences typical of it."""

    name: str
    weight: int
    areas: tuple[str, ...]
    titles: tuple[str, ...]
    sentences: tuple[str, ...]


MEASURES = (
    Measure(
        "Digitalisering og teknologi",
        24,
        ("Administration", "Ældre", "Tværgående", "Beskæftigelse", "Social"),
        (
            "Robotisering af fakturahåndtering",
            "Softwarerobotter i ydelsesadministrationen",
            "Digital selvbetjening i Borgerservice",
            "Skærmbesøg i hjemmeplejen",
            "Velfærdsteknologi på plejecentre",
            "Digital vagtplanlægning",
            "Automatisk journalisering",
            "Chatbot til borgerhenvendelser",
            "Digital postgang og scanning",
            "Elektroniske låse i hjemmeplejen",
        ),
        (
            "Manuelle arbejdsgange automatiseres med softwarerobotter.",
            "Gevinsten hentes som færre timer til sagsbehandling.",
            "Løsningen er afprøvet i en pilotfase med gode resultater.",
            "Tiltaget frigør tid til de borgernære opgaver.",
        ),
    ),
    Measure(
        "Indkøb og udbud",
        18,
        ("Administration", "Teknik og miljø", "Tværgående", "Ældre"),
        (
            "Genudbud af rengøring",
            "Fælleskommunalt udbud af kørsel",
            "Bedre aftaleoverholdelse ved indkøb",
            "Udbud af hjælpemidler",
            "Genforhandling af leasingaftaler",
            "Centralt indkøb af kontorartikler",
            "Udbud af vintertjeneste",
            "Fælles indkøb af IT-udstyr",
            "Udbud af forsikringer",
        ),
        (
            "Besparelsen er beregnet ud fra prisniveauet i den nye kontrakt.",
            "Indkøbet samles på færre leverandører.",
            "Der følges op på aftaleoverholdelsen hvert kvartal.",
        ),
    ),
    Measure(
        "Sygefravær",
        8,
        ("Ældre", "Børn og unge", "Skole", "Tværgående"),
        (
            "Nedbringelse af sygefravær på ældreområdet",
            "Tidlig dialog ved sygefravær",
            "Sygefraværsindsats i dagtilbud",
            "Styrket arbejdsmiljø og fastholdelse",
            "Fælles fraværspolitik",
        ),
        (
            "Målet er at nedbringe sygefraværet med et procentpoint.",
            "Gevinsten hentes som færre udgifter til vikarer.",
            "Lederne får månedlige data om fravær i egen enhed.",
        ),
    ),
    Measure(
        "Organisering",
        16,
        ("Administration", "Børn og unge", "Skole", "Kultur og fritid", "Tværgående"),
        (
            "Sammenlægning af administrative enheder",
            "Fælles ledelse af dagtilbud",
            "Færre ledelseslag",
            "Samling af sekretariatsfunktioner",
            "Tværkommunalt samarbejde om IT-drift",
            "Fælles myndighedsenhed for børn og voksne",
            "Samling af økonomifunktionen",
        ),
        (
            "Opgaverne samles i én enhed med fælles ledelse.",
            "Besparelsen opnås ved naturlig afgang.",
            "Organiseringen evalueres efter et år.",
        ),
    ),
    Measure(
        "Ændret opgaveløsning",
        16,
        ("Ældre", "Social", "Beskæftigelse", "Sundhed", "Børn og unge"),
        (
            "Afbureaukratisering af dokumentationskrav",
            "Hverdagsrehabilitering",
            "Ny model for kørsel til dagcentre",
            "Optimeret ruteplanlægning i hjemmeplejen",
            "Færre mødefora og kortere møder",
            "Samtaler i grupper i jobcentret",
            "Tværfaglige teams i socialforvaltningen",
        ),
        (
            "Dokumentationskravene reduceres til det lovpligtige.",
            "Borgerne får samme service med en mere effektiv tilrettelæggelse.",
            "Arbejdsgangene er gennemgået sammen med medarbejderne.",
        ),
    ),
    Measure(
        INVESTMENT,
        8,
        ("Sundhed", "Social", "Beskæftigelse", "Børn og unge", "Ældre"),
        (
            "Investering i tidlig indsats for udsatte børn",
            "Forebyggende hjemmebesøg",
            "Investering i jobrettet indsats",
            "Træning frem for hjælp",
            "Faldforebyggelse hos ældre",
        ),
        (
            "Der investeres i det første år, og gevinsten kommer gradvist.",
            "Investeringen forventes tjent hjem inden for tre år.",
            "Effekten følges tæt i kommunens investeringsmodel.",
        ),
    ),
    Measure(
        "Energi og bygninger",
        10,
        ("Teknik og miljø", "Skole", "Kultur og fritid", "Tværgående"),
        (
            "Energirenovering af skoler",
            "LED-belysning i kommunale bygninger",
            "Bedre udnyttelse af kvadratmeter",
            "Solceller på kommunale tage",
            "Fælles facility management",
            "Energistyring i svømmehaller",
        ),
        (
            "Energiforbruget reduceres med ca. 20 procent.",
            "Lokalerne deles på tværs af institutionerne.",
            "Investeringen finansieres af anlægsbudgettet.",
        ),
    ),
)
MEASURE_CUM_WEIGHTS = tuple(sum(m.weight for m in MEASURES[: i + 1]) for i in range(len(MEASURES)))
# Non-qualifying kinds: a service reduction, or a measure of local interest only.
SERVICE_REDUCTION = Measure(
    "Ændret opgaveløsning",
    0,
    ("Ældre", "Kultur og fritid", "Skole", "Børn og unge", "Teknik og miljø"),
    (
        "Reduceret åbningstid på bibliotekerne",
        "Lukning af dagcenter",
        "Færre timer i SFO",
        "Rengøring hver tredje uge i hjemmeplejen",
        "Nedlæggelse af ungdomsklub",
        "Lavere serviceniveau i vintertjenesten",
        "Reduktion af tilskud til foreninger",
    ),
    (
        "Serviceniveauet sænkes i forhold til i dag.",
        "Tiltaget vil kunne mærkes af borgerne.",
    ),
)
LOCAL_MEASURE = Measure(
    "Energi og bygninger",
    0,
    ("Teknik og miljø", "Kultur og fritid", "Administration"),
    (
        "Salg af ejendommen Nørregade 12",
        "Ophør af lejemål på Stationsvej 4",
        "Lokal omlægning af buslinje 7",
        "Nedrivning af pavillon ved Skolevej",
        "Samling af materielgårdene i Vest",
    ),
    (
        "Tiltaget vedrører kommunens egne lokale forhold.",
        "Provenuet er indregnet i budgettet.",
    ),
)
TITLE_SUFFIXES = (" - fase 2", " (helårsvirkning)", " på tværs af forvaltninger", " 2021-2024")
PROJECT_NAMES = ("Mere tid til kerneopgaven", "Effektiv drift 2025", "Sammen om velfærden")
TRANSLITERATION = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
OLD_SPELLINGS = {"København": "Københavns Kommune", "Aarhus": "Århus"}


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


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
    municipalities = _municipalities()
    written: list[Path] = []

    def write(relative: str, data: bytes) -> None:
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)

    population = landing / "population" / FOLK1A_FILE.name
    population.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FOLK1A_FILE, population)
    written.append(population)

    if survey_respondents is None:
        survey_rng = random.Random(f"{seed}:survey")  # str seeds hash with SHA-512: stable
        for name, rows in _survey_tables(survey_rng, municipalities, scale).items():
            write(f"survey/{SURVEY_YEAR}/{name}", _ansi_csv(rows))
    else:
        variables = survey_variables or EMPLOYEE_VARIABLES
        folder = landing / "survey" / str(SURVEY_YEAR)
        folder.mkdir(parents=True, exist_ok=True)
        _write_employee_dataset(folder / "dataset.csv", seed, survey_respondents, variables)
        written.append(folder / "dataset.csv")
        write(f"survey/{SURVEY_YEAR}/labels.csv", _ansi_csv(_employee_labels(variables)))
        write(f"survey/{SURVEY_YEAR}/structure.csv", _ansi_csv(_employee_structure(variables)))

    if idebank_rows is not None:
        scale = _idebank_scale(seed, municipalities, idebank_rows)
    proposals = _proposals(random.Random(f"{seed}:idebank"), municipalities, scale)
    in_xlsx = {m.code for m in municipalities if m.region == XLSX_REGION}
    csv_rows, xlsx_rows = _extract_rows(proposals, in_xlsx)
    write(
        f"idebank/{BUDGET_YEAR}/idebank_{BUDGET_YEAR}.csv", _utf8_csv([IDEBANK_HEADER, *csv_rows])
    )
    region = XLSX_REGION.removeprefix("Region ").lower()
    write(f"idebank/{BUDGET_YEAR}/idebank_{BUDGET_YEAR}_{region}.xlsx", _xlsx_bytes(xlsx_rows))
    return written


# ---------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Municipality:
    code: int
    name: str
    region: str
    population: int  # FOLK1A on 1 January of the budget year


def _municipalities() -> list[Municipality]:
    """The 98 municipalities in code order, with their population of the budget year."""
    with FOLK1A_FILE.open(encoding="utf-8-sig", newline="") as f:
        population = {
            r["OMRÅDE"]: int(r["INDHOLD"])
            for r in csv.DictReader(f, delimiter=";")
            if r["TID"] == POPULATION_QUARTER
        }
    return [Municipality(m.code, m.name, m.region, population[m.name]) for m in municipalities()]


# ---------------------------------------------------------------------------------------------
# Survey
# ---------------------------------------------------------------------------------------------


def _survey_tables(
    rng: random.Random, municipalities: list[Municipality], scale: int
) -> dict[str, list[list]]:
    """Rows of dataset.csv, labels.csv and structure.csv."""
    with_code = scale == 1
    return {
        "dataset.csv": _survey_dataset(rng, municipalities, scale, with_code),
        "labels.csv": _survey_labels(),
        "structure.csv": _survey_structure(with_code),
    }


def _survey_labels() -> list[list]:
    """labels.csv (no header): the six-point scale, and 0/1 for each status flag."""
    rows = [[q.variable, code, label] for q in SCALE_QUESTIONS for code, label in SCALE_LABELS]
    rows += [
        [f"stato_{value}", flag, label]
        for value, _ in STATUS_CHOICES
        for flag, label in FLAG_LABELS
    ]
    return rows


def _survey_structure(with_code: bool) -> list[list]:
    """structure.csv: background variables, the scale questions, the free number, the status."""
    background = ["respondentid", *(["kommunekode"] if with_code else [])]
    rows = [list(STRUCTURE_HEADER)]
    rows += [[v, v, "Background", "Number", BACKGROUND_TEXTS[v], "", ""] for v in background]
    rows += [[q.variable, q.variable, "Closed", "Single", q.text, "", ""] for q in SCALE_QUESTIONS]
    rows.append([YEARS_VARIABLE, YEARS_VARIABLE, "Open", "Number", YEARS_TEXT, "", ""])
    rows += [
        ["statoverall", f"stato_{value}", "Closed", "Multiple", "Samlet status", value, text]
        for value, text in STATUS_CHOICES
    ]
    return rows


def _survey_dataset(
    rng: random.Random, municipalities: list[Municipality], scale: int, with_code: bool
) -> list[list]:
    """The dataset: ``scale`` blocks of one respondent per municipality, each block with the same
    status and answer counts (so every share is that of scale 1), shuffled independently."""
    invited = len(municipalities)
    statuses = [4] * COMPLETED + [3] * PARTIAL + [5] * rng.randint(*DROPPED_OUT)
    statuses += [1] * rng.randint(*NOT_DISTRIBUTED)
    statuses += [2] * (invited - len(statuses))
    counts = [_answer_counts(rng, q, COMPLETED + q.partial_answered) for q in SCALE_QUESTIONS]
    # A partial respondent answers the questionnaire up to a stop; the stops are such that
    # question k is answered by exactly partial_answered[k] of them.
    partial_answered = [q.partial_answered for q in SCALE_QUESTIONS] + [YEARS_PARTIAL_ANSWERED]
    stops = [sum(a > j for a in partial_answered) for j in range(PARTIAL)]

    header = ["respondentid", *(["kommunekode"] if with_code else [])]
    header += [q.variable for q in SCALE_QUESTIONS] + [YEARS_VARIABLE]
    header += [f"stato_{value}" for value, _ in STATUS_CHOICES]
    rows: list[list] = [header]
    respondent_id = rng.randint(*FIRST_RESPONDENT_ID)
    for _ in range(scale):
        block = statuses[:]
        rng.shuffle(block)
        block_stops = iter(rng.sample(stops, len(stops)))
        reached = [
            len(partial_answered) if s == 4 else next(block_stops) if s == 3 else 0 for s in block
        ]
        answers: list[list] = [[""] * len(partial_answered) for _ in block]
        for k, code_counts in enumerate(counts):
            codes = [code for code, n in enumerate(code_counts, 1) for _ in range(n)]
            rng.shuffle(codes)
            answerers = [i for i, r in enumerate(reached) if r > k]
            for i, code in zip(answerers, codes, strict=True):
                answers[i][k] = code
        years = len(SCALE_QUESTIONS)
        for i, r in enumerate(reached):
            if r > years:
                answers[i][years] = min(YEARS_MAX, 1 + int(rng.expovariate(1 / YEARS_MEAN)))
        for i, status in enumerate(block):
            respondent_id += rng.randint(1, RESPONDENT_ID_STEP)
            key = [respondent_id, *([municipalities[i].code] if with_code else [])]
            rows.append(key + answers[i] + [int(status == value) for value, _ in STATUS_CHOICES])
    return rows


def _answer_counts(rng: random.Random, question: ScaleQuestion, answered: int) -> list[int]:
    """How many of ``answered`` respondents chose each code 1-6."""
    lo, hi = question.share_positive
    allowed = range(math.ceil(lo * answered), math.ceil(hi * answered))  # lo <= p/n < hi
    if not allowed:
        raise ValueError(f"{question.variable}: no count of {answered} has a share in [{lo}, {hi})")
    positive = rng.choice(allowed)
    positive_counts = _largest_remainder(positive, _jitter(rng, question.positive_weights))
    other_counts = _largest_remainder(answered - positive, _jitter(rng, question.other_weights))
    return positive_counts + other_counts


def _jitter(rng: random.Random, weights: tuple[float, ...]) -> list[float]:
    return [w * rng.uniform(0.8, 1.25) for w in weights]


def _ansi_csv(rows: list[list]) -> bytes:
    """SurveyXact's "EU" CSV: ``;``-separated, Windows-1252, CRLF."""
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=";", lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode("cp1252")


# ---------------------------------------------------------------------------------------------
# Employee survey
# ---------------------------------------------------------------------------------------------


def _employee_variable(k: int) -> tuple[str, str]:
    """Name and structure text of six-point variable ``k`` (1-based): item of a matrix question."""
    subject = EMPLOYEE_SUBJECTS[(k - 1) // len(EMPLOYEE_ITEMS) % len(EMPLOYEE_SUBJECTS)]
    item = EMPLOYEE_ITEMS[(k - 1) % len(EMPLOYEE_ITEMS)]
    return f"q_{k}", f"{EMPLOYEE_QUESTION.format(subject)} - {item}"


def _employee_structure(variables: int) -> list[list]:
    """structure.csv of the employee survey: the key, the six-point items, the status."""
    rows = [list(STRUCTURE_HEADER)]
    rows.append(["respondentid", "respondentid", "Background", "Number", "Respondent-id", "", ""])
    for k in range(1, variables + 1):
        name, text = _employee_variable(k)
        rows.append([name, name, "Closed", "Single", text, "", ""])
    rows += [
        ["statoverall", f"stato_{value}", "Closed", "Multiple", "Samlet status", value, text]
        for value, text in STATUS_CHOICES
    ]
    return rows


def _employee_labels(variables: int) -> list[list]:
    """labels.csv of the employee survey: the six-point scale per item, 0/1 per status flag."""
    rows = [
        [f"q_{k}", code, label] for k in range(1, variables + 1) for code, label in SCALE_LABELS
    ]
    rows += [
        [f"stato_{value}", flag, label]
        for value, _ in STATUS_CHOICES
        for flag, label in FLAG_LABELS
    ]
    return rows


def _write_employee_dataset(path: Path, seed: int, respondents: int, variables: int) -> None:
    """dataset.csv of the employee survey, written in chunks of EMPLOYEE_CHUNK_ROWS rows.

    Status 1, 2 and 5 leave every item blank, status 3 answers the items up to a random stop,
    status 4 all of them; both skip an item now and then. Each item has its own jittered answer
    distribution. The text is built with numpy as one byte matrix per chunk (a Python loop per
    cell would take minutes at 500,000 × 100): every field has a fixed slot, and slots of blank
    cells and of leading zeros of the key are masked out.
    """
    digest = hashlib.sha256(f"{seed}:employee survey".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:16], "big"))
    weights = np.array(EMPLOYEE_CODE_WEIGHTS) * rng.uniform(
        *EMPLOYEE_CODE_JITTER, size=(variables, len(EMPLOYEE_CODE_WEIGHTS))
    )
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    statuses = len(STATUS_CHOICES)
    fields = variables + statuses  # after the key, each field is ";" and at most one character
    next_id = int(rng.integers(*FIRST_RESPONDENT_ID))
    header = ";".join(
        ["respondentid", *(f"q_{k}" for k in range(1, variables + 1))]
        + [f"stato_{value}" for value, _ in STATUS_CHOICES]
    )
    with path.open("wb") as out:
        out.write(f"{header}\r\n".encode("cp1252"))
        for start in range(0, respondents, EMPLOYEE_CHUNK_ROWS):
            n = min(EMPLOYEE_CHUNK_ROWS, respondents - start)
            ids = next_id + np.cumsum(rng.integers(1, RESPONDENT_ID_STEP + 1, size=n))
            next_id = int(ids[-1])
            status = 1 + rng.choice(statuses, size=n, p=EMPLOYEE_STATUS_SHARES)
            stop = np.where(status == 4, variables, 0)
            partial = status == 3
            stop[partial] = rng.integers(1, max(2, variables), size=int(partial.sum()))
            draws = rng.random((n, variables))
            codes = np.empty((n, variables), dtype=np.uint8)
            for k in range(variables):
                codes[:, k] = 1 + np.searchsorted(cumulative[k, :-1], draws[:, k], side="right")
            answered = (np.arange(variables) < stop[:, None]) & (
                rng.random((n, variables)) >= EMPLOYEE_ITEM_BLANK
            )
            flags = status[:, None] == np.arange(1, statuses + 1)

            width = len(str(next_id))
            matrix = np.empty((n, width + 2 * fields + 2), dtype=np.uint8)
            keep = np.ones(matrix.shape, dtype=bool)
            for d in range(width):
                place = 10 ** (width - 1 - d)
                matrix[:, d] = ord("0") + ids // place % 10
                keep[:, d] = (ids >= place) | (d == width - 1)
            cells = matrix[:, width : width + 2 * fields]
            cells[:, 0::2] = ord(";")
            cells[:, 1::2][:, :variables] = ord("0") + codes
            cells[:, 1::2][:, variables:] = ord("0") + flags
            keep[:, width + 1 : width + 2 * variables : 2] = answered
            matrix[:, -2:] = (ord("\r"), ord("\n"))
            out.write(matrix[keep].tobytes())


# ---------------------------------------------------------------------------------------------
# Idébank
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """One Idébank proposal as written to the extract (before its ID is assigned)."""

    code: int
    name: str  # the municipality as spelled in the extract
    title: str
    description: str
    areas: tuple[str, ...]
    measure: str
    effects: tuple[int | None, ...]  # tenths of 1.000 kr. in budget years Y..Y+3; None is blank
    relevant: str
    service_reduction: str


def _proposals(
    rng: random.Random, municipalities: list[Municipality], scale: int
) -> list[Proposal]:
    """All proposals of the budget year, in municipality order."""
    totals = _savings_targets(rng, municipalities)
    counts = _proposal_counts(rng, totals, scale)
    by_code: dict[int, list[Proposal]] = {m.code: [] for m in municipalities}
    for m in municipalities:
        if counts.get(m.code):
            for saving in _split_savings(rng, totals[m.code] // 1000 * TENTHS, counts[m.code]):
                measure = rng.choices(MEASURES, cum_weights=MEASURE_CUM_WEIGHTS)[0]
                by_code[m.code].append(_proposal(rng, m, measure, saving, YES, NO))

    share = rng.uniform(*NON_QUALIFYING_SHARE)
    non_qualifying = round(sum(counts.values()) * share)
    weights = [math.sqrt(m.population) for m in municipalities]
    for m in rng.choices(municipalities, weights=weights, k=non_qualifying):
        by_code[m.code].append(_non_qualifying(rng, m))

    ordered = []
    for m in municipalities:
        rng.shuffle(by_code[m.code])
        ordered += by_code[m.code]
    return ordered


def _idebank_scale(seed: int, municipalities: list[Municipality], rows: int) -> int:
    """The scale whose extract has about ``rows`` rows (at least scale 1).

    Rows grow about linearly with the scale but vary by a few per cent with the draws of each
    scale: a few proportional corrections, keeping the scale that came closest.
    """

    def rows_at(scale: int) -> int:
        proposals = _proposals(random.Random(f"{seed}:idebank"), municipalities, scale)
        return sum(len(p.areas) for p in proposals)

    tried = {1: rows_at(1)}
    scale = max(1, round(rows / tried[1]))
    for _ in range(IDEBANK_SCALE_STEPS):
        if scale in tried:
            break
        tried[scale] = rows_at(scale)
        scale = max(1, round(scale * rows / tried[scale]))
    return min(tried, key=lambda k: abs(tried[k] - rows))


def _savings_targets(rng: random.Random, municipalities: list[Municipality]) -> dict[int, int]:
    """Each municipality's total qualifying saving in kroner (whole thousands), by code.

    Frederikssund first, Furesø, Hørsholm, Billund and six others drawn from fixed bands in
    ranks 2-10; the other 88 get log-normal savings per inhabitant (a few zero), scaled so that
    the gap potential of the top 10 is the target.
    """
    by_name = {m.name: m for m in municipalities}
    top = by_name[TOP_MUNICIPALITY]
    named = [by_name[name] for name in NAMED_TOP10]
    low, high = TOP10_POPULATION
    candidates = [
        m for m in municipalities if low <= m.population < high and m is not top and m not in named
    ]
    runners_up = named + rng.sample(candidates, len(TOP10_BANDS) - len(named))
    rng.shuffle(runners_up)
    per_inhabitant = {top.code: rng.uniform(*TOP_PER_INHABITANT)}
    for m, band in zip(runners_up, TOP10_BANDS, strict=True):
        per_inhabitant[m.code] = rng.uniform(*band)

    totals = {m.code: 0 for m in municipalities}
    top10 = [top, *runners_up]
    for m in top10:
        totals[m.code] = round(per_inhabitant[m.code] * m.population / 1000) * 1000
    realized = [totals[m.code] / m.population for m in top10]
    benchmark = sum(realized) / len(realized)
    top10_gap = sum(
        max(0.0, benchmark - v) * m.population for v, m in zip(realized, top10, strict=True)
    )
    cap = REST_CAP_SHARE * min(realized)

    rest = [m for m in municipalities if m not in top10]
    zeros = {m.code for m in rng.sample(rest, rng.randint(*ZERO_MUNICIPALITIES))}
    shape = {m.code: 0.0 if m.code in zeros else rng.lognormvariate(0, REST_SIGMA) for m in rest}

    def potential(alpha: float) -> float:
        return top10_gap + sum(
            (benchmark - min(alpha * shape[m.code], cap)) * m.population for m in rest
        )

    # potential() falls as alpha grows: bisect for the alpha that hits the target.
    lo, hi = 0.0, cap / min(s for s in shape.values() if s > 0)
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if potential(mid) > TARGET_GAP_POTENTIAL else (lo, mid)
    for m in rest:
        if m.code not in zeros:
            saving = min(lo * shape[m.code], cap) * m.population
            totals[m.code] = max(1000, round(saving / 1000) * 1000)
    return totals


def _proposal_counts(rng: random.Random, totals: dict[int, int], scale: int) -> dict[int, int]:
    """Qualifying proposals per municipality: about QUALIFYING_PROPOSALS × scale in all, more
    where the savings are larger, and none smaller than 1.000 kr."""
    codes = [code for code, total in totals.items() if total > 0]
    extra = _largest_remainder(
        rng.randint(*QUALIFYING_PROPOSALS) - len(codes), [math.sqrt(totals[c]) for c in codes]
    )
    return {c: min((1 + e) * scale, totals[c] // 1000) for c, e in zip(codes, extra, strict=True)}


def _split_savings(rng: random.Random, total: int, n: int) -> list[int]:
    """Savings (tenths of 1.000 kr.) of ``n`` proposals that add up to ``total`` exactly; a few
    are net costs (negative), which the others make up for."""
    units = total // TENTHS  # whole 1.000 kr.
    n_costs = sum(rng.random() < NET_COST_SHARE for _ in range(n - 2))
    n_savings = n - n_costs
    mean = units / n_savings
    costs = [_rounded(max(1, round(mean * rng.uniform(*NET_COST_SIZE)))) for _ in range(n_costs)]
    weights = [rng.lognormvariate(0, PROPOSAL_SIGMA) for _ in range(n_savings)]
    savings = [1 + s for s in _largest_remainder(units + sum(costs) - n_savings, weights)]
    _round_all_but_largest(savings)
    amounts = [s * TENTHS for s in savings] + [-c * TENTHS for c in costs]
    if n_savings >= 2 and rng.random() < HALF_SHIFT_SHARE:
        # Some effects carry half a thousand kroner; moving 500 kr. keeps the total.
        i, j = rng.sample(range(n_savings), 2)
        if amounts[j] > TENTHS:
            amounts[i] += TENTHS // 2
            amounts[j] -= TENTHS // 2
    rng.shuffle(amounts)
    return amounts


def _rounded(units: int) -> int:
    """A budget figure as people write it: to 25 or 5 thousand kroner when large enough."""
    step = 25 if units >= 200 else 5 if units >= 20 else 1
    return max(step, round(units / step) * step)


def _round_all_but_largest(units: list[int]) -> None:
    """Round the amounts in place; the largest absorbs the difference so the sum is unchanged."""
    largest = max(range(len(units)), key=units.__getitem__)
    rounded = [u if i == largest else _rounded(u) for i, u in enumerate(units)]
    rounded[largest] += sum(units) - sum(rounded)
    if rounded[largest] >= 1:
        units[:] = rounded


def _non_qualifying(rng: random.Random, m: Municipality) -> Proposal:
    """A proposal outside the published count: a service reduction or of local interest only."""
    size = rng.lognormvariate(math.log(NON_QUALIFYING_MEDIAN), PROPOSAL_SIGMA)
    saving = _rounded(max(1, round(size)))
    if rng.random() < NET_COST_SHARE:
        saving = -saving
    if rng.random() < SERVICE_REDUCTION_SHARE:
        relevant = rng.choice((YES, NO))
        return _proposal(rng, m, SERVICE_REDUCTION, saving * TENTHS, relevant, YES)
    if rng.random() < LOCAL_SHARE:
        measure = LOCAL_MEASURE
    else:
        measure = rng.choices(MEASURES, cum_weights=MEASURE_CUM_WEIGHTS)[0]
    return _proposal(rng, m, measure, saving * TENTHS, NO, NO)


def _proposal(
    rng: random.Random,
    m: Municipality,
    measure: Measure,
    saving: int,
    relevant: str,
    service_reduction: str,
) -> Proposal:
    """A proposal of ``measure`` saving ``saving`` tenths of 1.000 kr. a year at full phase-in."""
    title = rng.choice(measure.titles)
    if rng.random() < TITLE_SUFFIX_SHARE:
        title += rng.choice(TITLE_SUFFIXES)
    areas = [rng.choice(measure.areas)]
    if rng.random() < MULTI_AREA_SHARE:
        areas += rng.sample([a for a in AREAS if a != areas[0]], rng.randint(1, 2))
    investment = measure.name == INVESTMENT and rng.random() < INVESTMENT_SHARE
    return Proposal(
        code=m.code,
        name=_name_variant(rng, m.name) if rng.random() < NAME_VARIANT_SHARE else m.name,
        title=title,
        description=_description(rng, measure),
        areas=tuple(areas),
        measure=measure.name,
        effects=_phase_in(rng, -saving, investment),
        relevant=_yes_no(rng, relevant),
        service_reduction=_yes_no(rng, service_reduction),
    )


def _phase_in(rng: random.Random, full: int, investment: bool) -> tuple[int | None, ...]:
    """Effects in the four budget years of a proposal whose last-year effect is ``full``
    (tenths of 1.000 kr., negative = saving). Only the first three years may be blank."""

    def part(share: float) -> int:
        return round(full * share / TENTHS) * TENTHS

    if full > 0:  # a net cost, from the start or from the second year
        return rng.choice(((full, full, full, full), (None, full, full, full)))
    if investment:  # costs in the first year, saves from the second
        return (part(-rng.uniform(0.3, 1.0)), part(0.5), full, full)
    pattern = rng.random()
    if pattern < 0.3:
        return (full, full, full, full)
    if pattern < 0.6:
        return (part(0.5), full, full, full)
    if pattern < 0.75:
        return (part(1 / 3), part(2 / 3), full, full)
    if pattern < 0.85:
        return (0, part(0.5), full, full)
    if pattern < 0.95:
        return (None, part(0.5), full, full)
    return (None, None, part(0.5), full)


def _description(rng: random.Random, measure: Measure) -> str:
    """Free text as case workers write it: now and then with ``;``, quotes, line breaks, or a
    first character that a spreadsheet would take for a formula."""
    sentences = rng.sample(measure.sentences, rng.randint(1, 2))
    text = " ".join(sentences)
    kind = rng.random()
    if kind < 0.06:
        return f"{text[:-1]}; effekten er indregnet fra {rng.choice((2021, 2022, 2023))}."
    if kind < 0.11:
        return f'Tiltaget bygger på projektet "{rng.choice(PROJECT_NAMES)}". {text}'
    if kind < 0.17:
        return "Tiltaget består af:\n" + "\n".join(f"- {s}" for s in measure.sentences)
    if kind < 0.20:
        return f"- {text}"
    if kind < 0.22:
        return f"+ {text}"
    if kind < 0.235:
        return f"=> {text}"
    if kind < 0.25:
        return f"@Økonomi: {text}"
    return text


def _name_variant(rng: random.Random, name: str) -> str:
    """Another spelling of a municipality's name (the code column is authoritative)."""
    options = [f"{name} Kommune", name.upper()]
    if name in OLD_SPELLINGS:
        options.append(OLD_SPELLINGS[name])
    if "-" in name:
        options.append(name.replace("-", " "))
    if name.translate(TRANSLITERATION) != name:
        options.append(name.translate(TRANSLITERATION))
    return rng.choice(options)


def _yes_no(rng: random.Random, value: str) -> str:
    if rng.random() < YES_NO_VARIANT_SHARE:
        return rng.choice(YES_VARIANTS if value == YES else NO_VARIANTS)
    return value


def _danish_number(tenths: int | None) -> str:
    """``-12505`` tenths of 1.000 kr. as ``-1.250,5``; blank for None."""
    if tenths is None:
        return ""
    whole, tenth = divmod(abs(tenths), TENTHS)
    text = f"{'-' if tenths < 0 else ''}{whole:,}".replace(",", ".")
    return f"{text},{tenth}" if tenth else text


def _xlsx_number(tenths: int | None) -> int | float | None:
    """A number cell: whole thousands as int, ``-1250.5`` as float; None is a blank cell."""
    if tenths is None:
        return None
    return tenths / TENTHS if tenths % TENTHS else tenths // TENTHS


def _extract_rows(proposals: list[Proposal], in_xlsx: set[int]) -> tuple[list[list], list[list]]:
    """Rows of the CSV and the xlsx extract: the proposals are numbered in order, and a
    proposal has one row per fagområde."""
    width = max(5, len(str(len(proposals))))
    csv_rows: list[list] = []
    xlsx_rows: list[list] = []
    for n, p in enumerate(proposals, 1):
        rows, number = (
            (xlsx_rows, _xlsx_number) if p.code in in_xlsx else (csv_rows, _danish_number)
        )
        effects = [number(e) for e in p.effects]
        for area in p.areas:
            rows.append(
                [
                    f"IB-{BUDGET_YEAR}-{n:0{width}d}",
                    p.code,
                    p.name,
                    BUDGET_YEAR,
                    p.title,
                    p.description,
                    area,
                    p.measure,
                    *effects,
                    p.relevant,
                    p.service_reduction,
                ]
            )
    return csv_rows, xlsx_rows


def _utf8_csv(rows: list) -> bytes:
    """An Excel-style Danish CSV: ``;``-separated, UTF-8 with BOM, CRLF, minimal quoting."""
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=";", lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def _xlsx_bytes(rows: list[list]) -> bytes:
    """A one-sheet workbook of the Idébank columns, with stable bytes.

    openpyxl stamps the save time into docProps/core.xml and every zip member: both are
    replaced by XLSX_TIMESTAMP.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(IDEBANK_SHEET)
    sheet.append(IDEBANK_HEADER)
    description = IDEBANK_HEADER.index("Beskrivelse")
    for row in rows:
        if row[description].startswith("="):  # text, not a formula
            cell = WriteOnlyCell(sheet, row[description])
            cell.data_type = "s"
            row = [*row[:description], cell, *row[description + 1 :]]
        sheet.append(row)
    saved = io.BytesIO()
    workbook.save(saved)
    workbook.properties.created = workbook.properties.modified = XLSX_TIMESTAMP
    core = tostring(workbook.properties.to_tree())
    stable = io.BytesIO()
    with (
        zipfile.ZipFile(saved) as source,
        zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=XLSX_TIMESTAMP.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            target.writestr(member, core if info.filename == ARC_CORE else source.read(info))
    return stable.getvalue()


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into non-negative integers proportional to ``weights`` (Hamilton)."""
    scale = sum(weights)
    quotas = [total * w / scale for w in weights]
    parts = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(parts)), key=lambda i: parts[i] - quotas[i])
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts
