"""The words of the synthetic exports, read once from ``vocabulary.toml`` next to this module.

The file is data so that the wording can be read and edited apart from the code that draws
from it; the checks here catch an edit that the draws would trip over later (a measure under a
fagområde that is not listed, a non-qualifying kind filed under an unknown Tiltagstype).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

VOCABULARY_FILE = Path(__file__).resolve().parent / "vocabulary.toml"


@dataclass(frozen=True)
class Measure:
    """A Tiltagstype with the fagområder, titles and description sentences typical of it.

    ``weight`` is its relative frequency among qualifying proposals (0 for the non-qualifying
    kinds, which are not drawn by weight); ``invests`` marks prevention, which may cost in the
    first year and save from the second.
    """

    name: str
    areas: tuple[str, ...]
    titles: tuple[str, ...]
    sentences: tuple[str, ...]
    weight: int = 0
    invests: bool = False


def _measure(entry: dict, name: str, areas: tuple[str, ...]) -> Measure:
    unknown = [a for a in entry["areas"] if a not in areas]
    if unknown:
        raise ValueError(f"{VOCABULARY_FILE.name}: {name}: fagområder not in areas: {unknown}")
    return Measure(
        name=name,
        areas=tuple(entry["areas"]),
        titles=tuple(entry["titles"]),
        sentences=tuple(entry["sentences"]),
        weight=entry.get("weight", 0),
        invests=entry.get("invests", False),
    )


def _non_qualifying(entry: dict, measures: tuple[Measure, ...], areas: tuple[str, ...]) -> Measure:
    """A non-qualifying kind, filed under the Tiltagstype of one of the measures."""
    name = entry["measure"]
    if name not in {m.name for m in measures}:
        raise ValueError(f"{VOCABULARY_FILE.name}: {name!r} is not one of the measures")
    return _measure(entry, name, areas)


_data = tomllib.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))

AREAS: tuple[str, ...] = tuple(_data["areas"])
MEASURES = tuple(_measure(m, m["name"], AREAS) for m in _data["measures"])
SERVICE_REDUCTION = _non_qualifying(_data["service_reduction"], MEASURES, AREAS)
LOCAL_MEASURE = _non_qualifying(_data["local"], MEASURES, AREAS)
TITLE_SUFFIXES: tuple[str, ...] = tuple(_data["title_suffixes"])
PROJECT_NAMES: tuple[str, ...] = tuple(_data["project_names"])
OLD_SPELLINGS: dict[str, str] = dict(_data["old_spellings"])

EMPLOYEE_QUESTION: str = _data["employee_survey"]["question"]  # "{}" is the subject
EMPLOYEE_SUBJECTS: tuple[str, ...] = tuple(_data["employee_survey"]["subjects"])
EMPLOYEE_ITEMS: tuple[str, ...] = tuple(_data["employee_survey"]["items"])
