"""The report's figures: small aggregates queried from the working database's marts.

Every function takes a DuckDB connection to the working database; the heavy lifting is in the
marts, these queries only pick and shape their rows for one budget year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from ops_pipeline.schemas import HEADLINE_TOP_N

# Codes of the six-point scale in the order of the landing-zone contract.
SCALE = (
    "I meget høj grad",
    "I høj grad",
    "I nogen grad",
    "I mindre grad",
    "Slet ikke",
    "Ved ikke",
)


@dataclass(frozen=True)
class Overview:
    proposals: int
    qualifying_proposals: int
    municipalities_with_proposals: int
    savings_dkk: float


@dataclass(frozen=True)
class Response:
    survey_year: int
    invited: int
    responded: int
    completed: int
    response_rate: float
    completion_rate: float


@dataclass(frozen=True)
class ScaleAnswers:
    """One six-point-scale variable: its answer counts in the order of ``SCALE``."""

    variable: str
    question: str
    item: str | None
    answered: int
    share_positive: float
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Municipality:
    code: int
    name: str
    region: str
    population: int
    proposals: int
    savings_dkk: float
    per_inhabitant: float
    rank: int
    in_benchmark: bool  # among the first HEADLINE_TOP_N in the contract's order
    rank_change: int | None  # previous rank − rank: positive = moved up; None without a year


@dataclass(frozen=True)
class Potential:
    method: str
    top_n: int
    benchmark_per_inhabitant: float
    potential_dkk: float


@dataclass(frozen=True)
class Measure:
    measure_type: str
    proposals: int
    savings_dkk: float
    share_of_savings: float | None


@dataclass(frozen=True)
class PeerGroup:
    grouping: str
    peer_group: str
    method: str
    top_n: int
    members: int
    benchmark_per_inhabitant: float
    potential_dkk: float


@dataclass(frozen=True)
class Failure:
    asset: str
    partition: str | None
    expectation: str
    unexpected_count: int | None
    element_count: int | None


@dataclass(frozen=True)
class QualityStatus:
    """The results of the latest run that wrote audit.validation_results."""

    run_id: str
    checked_at: datetime
    passed: int
    failed: int
    failures: tuple[Failure, ...]


def budget_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [
        y
        for (y,) in con.execute(
            "SELECT DISTINCT budget_year FROM marts.municipal_savings ORDER BY budget_year"
        ).fetchall()
    ]


def survey_year_for(con: duckdb.DuckDBPyConnection, budget_year: int) -> int | None:
    """The survey that goes with a budget year: the latest up to the spring after it (the CEO
    survey of spring 2022 goes with the Idébank of budget 2021)."""
    (year,) = con.execute(
        "SELECT max(survey_year) FROM marts.survey_response WHERE survey_year <= ?",
        [budget_year + 1],
    ).fetchone()
    return year


def overview(con: duckdb.DuckDBPyConnection, budget_year: int) -> Overview:
    row = con.execute(
        "SELECT proposals, qualifying_proposals, municipalities_with_proposals, savings_dkk "
        "FROM marts.idebank_overview WHERE budget_year = ?",
        [budget_year],
    ).fetchone()
    return Overview(*row) if row else Overview(0, 0, 0, 0.0)


def response(con: duckdb.DuckDBPyConnection, survey_year: int) -> Response:
    row = con.execute(
        "SELECT survey_year, invited, responded, completed, response_rate, completion_rate "
        "FROM marts.survey_response WHERE survey_year = ?",
        [survey_year],
    ).fetchone()
    return Response(*row)


def scale_answers(con: duckdb.DuckDBPyConnection, survey_year: int) -> list[ScaleAnswers]:
    """The answers to each six-point-scale variable of marts.survey_potential, counted per code
    over the respondents who responded (marts.survey_answer_counts); ordered by variable."""
    rows = con.execute(
        """SELECT p.variable, p.question, p.item, p.answered, p.share_positive,
                  list(c.respondents ORDER BY c.code) AS counts
           FROM marts.survey_potential AS p
           JOIN marts.survey_answer_counts AS c USING (survey_year, variable)
           WHERE p.survey_year = ?
           GROUP BY ALL
           ORDER BY p.variable""",
        [survey_year],
    ).fetchall()
    return [ScaleAnswers(*row[:5], counts=tuple(row[5])) for row in rows]


def has_budget_year(con: duckdb.DuckDBPyConnection, budget_year: int) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM marts.municipal_savings WHERE budget_year = ?", [budget_year]
        ).fetchone()[0]
    )


def ranking(con: duckdb.DuckDBPyConnection, budget_year: int) -> list[Municipality]:
    """The 98 municipalities in the contract's order (savings per inhabitant desc, code asc),
    with the change in rank since the previous budget year when it has a row there."""
    rows = con.execute(
        """SELECT m.municipality_code, m.municipality, m.region, m.population, m.proposals,
                  m.savings_dkk, m.savings_per_inhabitant, m.rank,
                  row_number() OVER (ORDER BY m.savings_per_inhabitant DESC,
                                              m.municipality_code ASC) <= $top_n,
                  p.rank - m.rank
           FROM marts.municipal_savings AS m
           LEFT JOIN marts.municipal_savings AS p
             ON p.budget_year = m.budget_year - 1 AND p.municipality_code = m.municipality_code
           WHERE m.budget_year = $year
           ORDER BY m.savings_per_inhabitant DESC, m.municipality_code ASC""",
        {"year": budget_year, "top_n": HEADLINE_TOP_N},
    ).fetchall()
    return [Municipality(*row) for row in rows]


def potentials(con: duckdb.DuckDBPyConnection, budget_year: int) -> list[Potential]:
    rows = con.execute(
        "SELECT method, top_n, benchmark_per_inhabitant, potential_dkk "
        "FROM marts.savings_potential WHERE budget_year = ? ORDER BY method, top_n",
        [budget_year],
    ).fetchall()
    return [Potential(*row) for row in rows]


def measures(con: duckdb.DuckDBPyConnection, budget_year: int) -> list[Measure]:
    rows = con.execute(
        "SELECT measure_type, proposals, savings_dkk, share_of_savings "
        "FROM marts.savings_by_measure WHERE budget_year = ? "
        "ORDER BY savings_dkk DESC, measure_type",
        [budget_year],
    ).fetchall()
    return [Measure(*row) for row in rows]


def peer_groups(con: duckdb.DuckDBPyConnection, budget_year: int) -> list[PeerGroup]:
    """marts.savings_potential_by_group of a year in reading order: regions by name, size bands
    from small to large."""
    rows = con.execute(
        "SELECT grouping, peer_group, method, top_n, members, benchmark_per_inhabitant, "
        "potential_dkk FROM marts.savings_potential_by_group WHERE budget_year = ? "
        "ORDER BY grouping, group_order, method, top_n",
        [budget_year],
    ).fetchall()
    return [PeerGroup(*row) for row in rows]


def quality_status(con: duckdb.DuckDBPyConnection) -> QualityStatus | None:
    """Passed and failed checks of the latest run in audit.validation_results; None when the
    table does not exist or is empty. ``audit`` is a schema of the working database or an
    attached audit database."""
    (exists,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'validation_results' "
        "AND (schema_name = 'audit' OR (database_name = 'audit' AND schema_name = 'main'))"
    ).fetchone()
    if not exists:
        return None
    rows = con.execute(
        """WITH latest AS (
               SELECT run_id FROM audit.validation_results
               ORDER BY checked_at DESC NULLS LAST LIMIT 1
           )
           SELECT run_id, checked_at, success, asset, partition, expectation,
                  unexpected_count, element_count
           FROM audit.validation_results
           WHERE run_id = (SELECT run_id FROM latest)
           ORDER BY asset, partition NULLS FIRST, expectation"""
    ).fetchall()
    if not rows:
        return None
    failures = tuple(
        Failure(asset, partition, expectation, unexpected, elements)
        for _, _, success, asset, partition, expectation, unexpected, elements in rows
        if not success
    )
    return QualityStatus(
        run_id=rows[0][0],
        checked_at=max(row[1] for row in rows),
        passed=len(rows) - len(failures),
        failed=len(failures),
        failures=failures,
    )
