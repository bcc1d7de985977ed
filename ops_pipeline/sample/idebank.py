"""KL's Idébank for budget year 2021: the proposals, as the extract lists them.

``savings`` fixes how much each municipality saves (the published figures); this module turns
the amounts into proposals that look real, with the quirks a reader must handle: fagområder
listed on one row each, Ja/Nej in other cases, other spellings of a municipality's name, free
text with ``;``, quotes, line breaks or a leading ``=``, and net costs among the savings.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime

from ops_pipeline.readers.idebank import SHEET, extract_header
from ops_pipeline.sample.csv_writer import semicolon_csv
from ops_pipeline.sample.municipalities import Municipality
from ops_pipeline.sample.savings import (
    NET_COST_SHARE,
    PROPOSAL_SIGMA,
    TENTHS,
    budget_figure,
    proposal_counts,
    savings_targets,
    split_savings,
)
from ops_pipeline.sample.vocabulary import (
    AREAS,
    LOCAL_MEASURE,
    MEASURES,
    OLD_SPELLINGS,
    PROJECT_NAMES,
    SERVICE_REDUCTION,
    TITLE_SUFFIXES,
    Measure,
)
from ops_pipeline.sample.xlsx_writer import stable_xlsx

BUDGET_YEAR = 2021

# The extract as KL's Idébank exports it: one row per fagområde of a proposal.
IDEBANK_HEADER = extract_header(BUDGET_YEAR)
XLSX_REGION = "Region Nordjylland"  # its proposals arrive as a second extract, in xlsx
XLSX_TIMESTAMP = datetime(2021, 3, 1, 8, 0, 0)  # the xlsx extract's save time: fixed bytes
YES, NO = "Ja", "Nej"

# How the proposals are drawn around the amounts of ``savings``.
NON_QUALIFYING_SHARE = (0.35, 0.5)  # non-qualifying proposals per qualifying one
NON_QUALIFYING_MEDIAN = 600  # 1.000 kr.
SERVICE_REDUCTION_SHARE = 0.45  # non-qualifying proposals that reduce service; the rest are local
LOCAL_SHARE = 0.5  # non-relevant proposals with a local title (the rest look like any other)
INVESTMENT_SHARE = 0.5  # prevention proposals that cost in the first year
MULTI_AREA_SHARE = 0.15  # proposals listed under 2-3 fagområder
NAME_VARIANT_SHARE = 0.06  # rows with a municipality name that differs from the reference
YES_NO_VARIANT_SHARE = 0.05  # Ja/Nej written in another case or with white space
TITLE_SUFFIX_SHARE = 0.2
YES_VARIANTS = ("ja", "JA", " Ja", "Ja ", " ja")
NO_VARIANTS = ("nej", "NEJ", " Nej", "Nej ", "nej ")
TRANSLITERATION = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
IDEBANK_SCALE_STEPS = 4  # corrections of the scale that writes about ``rows`` rows
MEASURE_CUM_WEIGHTS = tuple(sum(m.weight for m in MEASURES[: i + 1]) for i in range(len(MEASURES)))


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


def extract_files(
    proposals: list[Proposal], municipalities: list[Municipality]
) -> dict[str, bytes]:
    """The extract by file name: a Danish CSV, and an xlsx of XLSX_REGION's proposals."""
    in_xlsx = {m.code for m in municipalities if m.region == XLSX_REGION}
    csv_rows, xlsx_rows = _extract_rows(proposals, in_xlsx)
    region = XLSX_REGION.removeprefix("Region ").lower()
    return {
        f"idebank_{BUDGET_YEAR}.csv": semicolon_csv([IDEBANK_HEADER, *csv_rows], "utf-8-sig"),
        f"idebank_{BUDGET_YEAR}_{region}.xlsx": stable_xlsx(
            SHEET, IDEBANK_HEADER, xlsx_rows, XLSX_TIMESTAMP
        ),
    }


def draw_proposals(seed: int, municipalities: list[Municipality], scale: int) -> list[Proposal]:
    """All proposals of the budget year, in municipality order; ``scale`` K makes K times as
    many qualifying proposals of the same totals (so the published figures still hold)."""
    rng = random.Random(f"{seed}:idebank")  # str seeds hash with SHA-512: stable
    totals = savings_targets(rng, municipalities)
    counts = proposal_counts(rng, totals, scale)
    by_code: dict[int, list[Proposal]] = {m.code: [] for m in municipalities}
    for m in municipalities:
        if counts.get(m.code):
            for saving in split_savings(rng, totals[m.code] // 1000 * TENTHS, counts[m.code]):
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


def scale_for_rows(seed: int, municipalities: list[Municipality], rows: int) -> int:
    """The scale whose extract has about ``rows`` rows (at least scale 1).

    Rows grow about linearly with the scale but vary by a few per cent with the draws of each
    scale: a few proportional corrections, keeping the scale that came closest.
    """

    def rows_at(scale: int) -> int:
        return sum(len(p.areas) for p in draw_proposals(seed, municipalities, scale))

    tried = {1: rows_at(1)}
    scale = max(1, round(rows / tried[1]))
    for _ in range(IDEBANK_SCALE_STEPS):
        if scale in tried:
            break
        tried[scale] = rows_at(scale)
        scale = max(1, round(scale * rows / tried[scale]))
    return min(tried, key=lambda k: abs(tried[k] - rows))


def _non_qualifying(rng: random.Random, m: Municipality) -> Proposal:
    """A proposal outside the published count: a service reduction or of local interest only."""
    size = rng.lognormvariate(math.log(NON_QUALIFYING_MEDIAN), PROPOSAL_SIGMA)
    saving = budget_figure(max(1, round(size)))
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
    investment = measure.invests and rng.random() < INVESTMENT_SHARE
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
