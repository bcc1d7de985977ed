"""The 98 municipalities with their real population, which the synthetic exports are built on."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from ops_pipeline.reference import FOLK1A_FILE, municipalities


@dataclass(frozen=True)
class Municipality:
    code: int
    name: str
    region: str
    population: int  # FOLK1A on 1 January of the budget year


def municipalities_of(budget_year: int) -> list[Municipality]:
    """The 98 municipalities in code order, with their population of the budget year (its
    first quarter: the population the Idébank figures are per inhabitant of)."""
    quarter = f"{budget_year}K1"
    with FOLK1A_FILE.open(encoding="utf-8-sig", newline="") as f:
        population = {
            r["OMRÅDE"]: int(r["INDHOLD"])
            for r in csv.DictReader(f, delimiter=";")
            if r["TID"] == quarter
        }
    return [Municipality(m.code, m.name, m.region, population[m.name]) for m in municipalities()]
