"""Small lakes written by hand for the tests: SurveyXact exports in every form, Idébank
extracts, FOLK1A tables. Plain functions that write files; the expected marts are in the tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import openpyxl

REFERENCE = Path(__file__).parents[1] / "ops_pipeline" / "reference"
FIXTURE = Path(__file__).parent / "fixtures" / "surveyxact_example"
STRUCTURE_HEADER = [
    "questionName",
    "variableName",
    "questionType",
    "subType",
    "questionText",
    "choiceValue",
    "choiceText",
]
SIX_POINT = [
    ("1", "I meget høj grad"),
    ("2", "I høj grad"),
    ("3", "I nogen grad"),
    ("4", "I mindre grad"),
    ("5", "Slet ikke"),
    ("6", "Ved ikke"),
]
STATUS_TEXTS = ["Ny", "Distribueret", "Nogen svar", "Gennemført", "Frafaldet"]
IDEBANK_HEADER = [
    "ID",
    "Kommunenr",
    "Kommune",
    "Budgetår",
    "Titel",
    "Beskrivelse",
    "Fagområde",
    "Tiltagstype",
    "Effekt {0}",
    "Effekt {1}",
    "Effekt {2}",
    "Effekt {3}",
    "Relevant for andre kommuner",
    "Serviceforringelse",
]
FLAVOURS = ("semicolon-ansi", "comma-ansi", "tab-utf16", "xlsx")


def municipalities() -> list[tuple[int, str, str]]:
    with (REFERENCE / "municipalities.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=";"))[1:]
    return [(int(code), name, region) for code, name, region, _ in rows]


def write_folk1a(
    path: Path,
    quarters: dict[str, dict[int, int]],
    *,
    christiansoe: int = 90,
    drop: Sequence[str] = (),
) -> Path:
    """A FOLK1A export: per quarter a population per municipality code (others: 10,000).

    Regions and "Hele landet" are the sums, as Statistics Denmark publishes them.
    """
    lines = ["OMRÅDE;TID;INDHOLD"]
    for quarter, overrides in quarters.items():
        people = {code: overrides.get(code, 10_000) for code, _, _ in municipalities()}
        regions: dict[str, int] = {}
        for code, _, region in municipalities():
            regions[region] = regions.get(region, 0) + people[code]
        lines.append(f"Hele landet;{quarter};{sum(people.values()) + christiansoe}")
        lines += [f"{region};{quarter};{n}" for region, n in regions.items()]
        lines += [
            f"{name};{quarter};{people[code]}"
            for code, name, _ in municipalities()
            if name not in drop
        ]
        lines.append(f"Christiansø;{quarter};{christiansoe}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def write_table(path: Path, rows: Sequence[Sequence], flavour: str) -> Path:
    """One SurveyXact CSV table in a flavour: 'semicolon-ansi', 'comma-ansi', 'tab-utf16'."""
    delimiter = {"semicolon-ansi": ";", "comma-ansi": ",", "tab-utf16": "\t"}[flavour]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(
        [["" if v is None else str(v) for v in row] for row in rows]
    )
    text = buffer.getvalue()
    data = (
        ("\ufeff" + text).encode("utf-16-le") if flavour == "tab-utf16" else text.encode("cp1252")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_surveyxact(
    folder: Path,
    structure: list[list],
    labels: list[list],
    dataset: list[list],
    flavour: str,
    *,
    split_rows: int | None = None,
) -> Path:
    """A SurveyXact export: ``structure`` and ``dataset`` include their header rows; ``labels``
    has none. ``split_rows`` splits the xlsx dataset into ``Dataset(n)`` sheets of that size."""
    folder.mkdir(parents=True, exist_ok=True)
    if flavour != "xlsx":
        write_table(folder / "structure.csv", structure, flavour)
        write_table(folder / "labels.csv", labels, flavour)
        write_table(folder / "dataset.csv", dataset, flavour)
        return folder
    workbook = openpyxl.Workbook(write_only=True)
    header, body = dataset[0], dataset[1:]
    if split_rows:
        chunks = [body[i : i + split_rows] for i in range(0, len(body), split_rows)]
        sheets = [(f"Dataset({n + 1})", chunk) for n, chunk in enumerate(chunks)]
    else:
        sheets = [("Dataset", body)]
    for name, chunk in sheets:
        sheet = workbook.create_sheet(name)
        sheet.append(header)
        for row in chunk:
            sheet.append([_cell(v) for v in row])
    for name, rows in (("Labels", labels), ("Structure", structure)):
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append([_cell(v) for v in row])
    path = folder / "export.xlsx"
    workbook.save(path)
    return path


def _cell(value):
    """Numbers as numbers, as SurveyXact writes them into xlsx."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None if value == "" else value


def read_fixture() -> tuple[list[list], list[list], list[list]]:
    """The real SurveyXact export (structure, labels, dataset), decoded."""

    def rows(name: str) -> list[list]:
        with (FIXTURE / name).open(encoding="cp1252", newline="") as fh:
            return list(csv.reader(fh, delimiter=";"))

    return rows("structure.csv"), rows("labels.csv"), rows("dataset.csv")


def write_idebank_csv(
    path: Path, budget_year: int, rows: list[list], *, encoding: str = "utf-8-sig"
) -> Path:
    """An Idébank CSV extract (``;``, Danish numbers as given in ``rows``)."""
    header = [h.format(*(budget_year + k for k in range(4))) for h in IDEBANK_HEADER]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_idebank_xlsx(
    path: Path, budget_year: int, rows: list[list], *, sheet: str = "Idébank"
) -> Path:
    header = [h.format(*(budget_year + k for k in range(4))) for h in IDEBANK_HEADER]
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(header)
    for row in rows:
        worksheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


# The small lake of test_marts: every expected mart row is computed by hand in that test.
CEO_QUESTION = (
    "I hvilken grad vurderer du, at der fortsat er mulighed for at optimere driften i din kommune?"
)
MATRIX_QUESTION = (
    "I hvilken grad vurderer du, at der er mulighed for optimering eller kvalitetsudvikling via "
    "følgende?"
)


def small_survey(folder: Path, flavour: str = "semicolon-ansi") -> Path:
    structure = [
        STRUCTURE_HEADER,
        ["respondentid", "respondentid", "Background", "Key", "Respondent", "", ""],
        ["kommunekode", "kommunekode", "Background", "Number", "Kommunekode", "", ""],
        ["s_1", "s_1", "Closed", "Single", CEO_QUESTION, "", ""],
        [
            "s_2_1",
            "s_2_1",
            "Closed",
            "Single",
            f"{MATRIX_QUESTION} - Øget brug af digitalisering og ny teknologi",
            "",
            "",
        ],
        [
            "s_2_2",
            "s_2_2",
            "Closed",
            "Single",
            f"{MATRIX_QUESTION}  - Afbureaukratisering ",
            "",
            "",
        ],
        ["s_9", "s_9", "Closed", "Single", "Har kommunen en digitaliseringsstrategi?", "", ""],
        ["b_1", "b_1", "Open", "Number", "Antal år som kommunaldirektør", "", ""],
        *[
            ["statoverall", f"stato_{k}", "Closed", "Multiple", "Samlet status", str(k), text]
            for k, text in enumerate(STATUS_TEXTS, start=1)
        ],
    ]
    labels = [
        *[[v, code, label] for v in ("s_1", "s_2_1", "s_2_2") for code, label in SIX_POINT],
        ["s_9", "1", "Ja"],
        ["s_9", "2", "Nej"],
        *[
            [f"stato_{k}", v, t]
            for k in range(1, 6)
            for v, t in (("0", "Ikke valgt"), ("1", "Valgt"))
        ],
    ]
    header = [
        "respondentid",
        "kommunekode",
        "s_1",
        "s_2_1",
        "s_2_2",
        "s_9",
        "b_1",
        *(f"stato_{k}" for k in range(1, 6)),
    ]

    def status(k: int) -> list[str]:
        return ["1" if j == k else "0" for j in range(1, 6)]

    dataset = [
        header,
        ["R1", "101", "1", "2", "6", "1", "12", *status(4)],  # completed
        ["R2", "147", "3", "1", "4", "2", "", *status(4)],  # completed
        ["R3", "250", "5", "", "3", "", "", *status(3)],  # partial: s_2_1 blank
        ["R4", "751", "1", "1", "", "1", "3", *status(5)],  # dropped out: answers don't count
        ["R5", "461", "", "", "", "", "", *status(2)],  # distributed, no answer
        ["R6", "851", "", "", "", "", "", *status(1)],  # new
    ]
    return write_surveyxact(folder, structure, labels, dataset, flavour)


# Rows of the 2021 Idébank of the small lake: (ID, code, name, title, description, fagområde,
# tiltagstype, effects Y..Y+3 as typed, relevant, service reduction).
SMALL_IDEBANK = [
    # P1: two fagområder (one proposal), blanks in the early years: saving 200,000.
    [
        "P1",
        "250",
        "Frederikssund Kommune",
        "2021",
        "Digital post",
        'Tekst med ; og "citat"\nog en ny linje',
        "Administration",
        "Digitalisering og teknologi",
        "",
        "",
        "-100",
        "-200",
        "Ja",
        "Nej",
    ],
    [
        "P1",
        "250",
        "Frederikssund Kommune",
        "2021",
        "Digital post",
        'Tekst med ; og "citat"\nog en ny linje',
        "Ældre",
        "Digitalisering og teknologi",
        "",
        "",
        "-100",
        "-200",
        " ja",
        "NEJ",
    ],
    # P2: saving 100,000 (Frederikssund: 300,000 / 20,000 = 15.0 per inhabitant).
    [
        "P2",
        "250",
        "Frederikssund",
        "2021",
        "Sygefravær ned",
        "Mindre fravær",
        "Social",
        "Sygefravær",
        "-50",
        "-100",
        "-150",
        "-100",
        "Ja",
        "Nej",
    ],
    # P3 and P4: København 1,550,000 − 50,000 = 1,500,000 / 100,000 = 15.0: tied with 250.
    [
        "P3",
        "101",
        "Københavns Kommune",
        "2021",
        "Fælles indkøb",
        "=SUM(A1)",
        "Teknik og miljø",
        "Indkøb og udbud",
        "0",
        "0",
        "0",
        "-1.550",
        "Ja",
        "Nej",
    ],
    [
        "P4",
        "101",
        "København",
        "2021",
        "Varmepumper",
        "+ en investering",
        "Teknik og miljø",
        "Energi og bygninger",
        "0",
        "0",
        "100",
        "50",
        "Ja",
        "Nej",
    ],  # net cost: saving −50,000
    # P5, P6: Frederiksberg, not qualifying (service reduction; not relevant).
    [
        "P5",
        "147",
        "Frederiksberg",
        "2021",
        "Lukning af bibliotek",
        "",
        "Kultur og fritid",
        "Ændret opgaveløsning",
        "0",
        "-200",
        "-400",
        "-500",
        "Ja",
        "Ja",
    ],
    [
        "P6",
        "147",
        "Frederiksberg",
        "2021",
        "Lokal aftale",
        "@note",
        "Administration",
        "Organisering",
        "0",
        "0",
        "0",
        "-100",
        "Nej",
        "Nej",
    ],
    # P7: Frederiksberg 250,500 / 50,000 = 5.01 per inhabitant.
    [
        "P7",
        "147",
        "Frederiksberg",
        "2021",
        "Ny organisering",
        "",
        "Administration",
        "Organisering",
        "0",
        "-100",
        "-200",
        "-250,5",
        "Ja",
        "Nej",
    ],
]
# In a second extract (xlsx): P8 (Aarhus 10,000 / 10,000 = 1.0) and P2 again, identical.
SMALL_IDEBANK_XLSX = [
    [
        "P8",
        751,
        "Aarhus",
        2021,
        "Robotter",
        "",
        "Ældre",
        "Digitalisering og teknologi",
        0,
        0,
        -5,
        -10,
        "Ja",
        "Nej",
    ],
    [
        "P2",
        250,
        "Frederikssund",
        2021,
        "Sygefravær ned",
        "Mindre fravær",
        "Social",
        "Sygefravær",
        -50,
        -100,
        -150,
        -100,
        "Ja",
        "Nej",
    ],
]
SMALL_POPULATION = {"2021K1": {101: 100_000, 147: 50_000, 250: 20_000}}


def small_lake(root: Path) -> Path:
    """The hand-computed lake: FOLK1A 2021K1, survey 2022, Idébank 2021 (CSV + xlsx)."""
    landing = root / "landing"
    write_folk1a(landing / "population" / "folk1a.csv", SMALL_POPULATION)
    small_survey(landing / "survey" / "2022")
    write_idebank_csv(landing / "idebank" / "2021" / "extract.csv", 2021, SMALL_IDEBANK)
    write_idebank_xlsx(landing / "idebank" / "2021" / "supplement.xlsx", 2021, SMALL_IDEBANK_XLSX)
    return root
