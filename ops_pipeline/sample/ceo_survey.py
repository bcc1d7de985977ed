"""The municipal-CEO survey of March 2022 as a SurveyXact export.

Answers are seeded random, but the published shares are met by construction: the exact number
of answers per code is fixed first (within the interval each published figure allows), then
spread over the respondents and shuffled, so the figures hold for every seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from ops_pipeline.sample.apportion import largest_remainder
from ops_pipeline.sample.municipalities import Municipality
from ops_pipeline.sample.surveyxact_export import (
    FIRST_RESPONDENT_ID,
    RESPONDENT_ID_STEP,
    STATUS_CHOICES,
    export_csv,
    labels_table,
    status_columns,
    structure_table,
)

COMPLETED = 66  # status 4: answered all of the questionnaire
RESPONDED = 81  # status 3 or 4: answered part of it
PARTIAL = RESPONDED - COMPLETED
DROPPED_OUT = (2, 4)  # status 5, a seeded count in this range; the rest is status 1 or 2
NOT_DISTRIBUTED = (0, 1)  # status 1

S1_QUESTION = (
    "I hvilken grad vurderer du, at der fortsat er mulighed for at optimere driften i din kommune?"
)
S2_QUESTION = (
    "I hvilken grad vurderer du, at der er mulighed for optimering eller kvalitetsudvikling "
    "via følgende?"
)
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


# The questions and their wording stay here, with the numbers they are calibrated by.
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


def ceo_survey_files(seed: int, municipalities: list[Municipality], scale: int) -> dict[str, bytes]:
    """dataset.csv, labels.csv and structure.csv, by name.

    ``scale`` K writes K respondents per municipality; beyond 1 the dataset has no
    ``kommunekode``, as one CEO per municipality no longer fits.
    """
    rng = random.Random(f"{seed}:survey")  # str seeds hash with SHA-512: stable
    with_code = scale == 1
    tables = {
        "dataset.csv": _dataset(rng, municipalities, scale, with_code),
        "labels.csv": labels_table([q.variable for q in SCALE_QUESTIONS]),
        "structure.csv": _structure(with_code),
    }
    return {name: export_csv(rows) for name, rows in tables.items()}


def _structure(with_code: bool) -> list[list]:
    """structure.csv: the municipality, the scale questions and the free number."""
    rows = []
    if with_code:
        rows.append(["kommunekode", "kommunekode", "Background", "Number", "Kommunekode", "", ""])
    rows += [[q.variable, q.variable, "Closed", "Single", q.text, "", ""] for q in SCALE_QUESTIONS]
    rows.append([YEARS_VARIABLE, YEARS_VARIABLE, "Open", "Number", YEARS_TEXT, "", ""])
    return structure_table(rows)


def _dataset(
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
    header += status_columns()
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
    positive_counts = largest_remainder(positive, _jitter(rng, question.positive_weights))
    other_counts = largest_remainder(answered - positive, _jitter(rng, question.other_weights))
    return positive_counts + other_counts


def _jitter(rng: random.Random, weights: tuple[float, ...]) -> list[float]:
    """The weights, each moved by up to a quarter per seed (so seeds differ beyond the order)."""
    return [w * rng.uniform(0.8, 1.25) for w in weights]
