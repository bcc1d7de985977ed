"""How much each municipality saves through the Idébank, and how it splits into proposals.

The published Idébank figures are met here, by construction: Frederikssund first at "knap 600
kr." per inhabitant, Furesø, Hørsholm and Billund among the top 10, a gap potential of "more
than 2.1 bn kr." and "more than 400" qualifying proposals. Amounts are in tenths of 1.000 kr.
(100 kr.), exact in integers, so that totals add up to the krone.
"""

from __future__ import annotations

import math
import random

from ops_pipeline.sample.apportion import largest_remainder
from ops_pipeline.sample.municipalities import Municipality

TENTHS = 10  # amounts are held in tenths of 1.000 kr. (100 kr.), exact in integers
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
PROPOSAL_SIGMA = 0.9  # log-normal spread of proposal sizes within a municipality
NET_COST_SHARE = 0.06  # proposals that cost more than they save
NET_COST_SIZE = (0.1, 0.6)  # a net cost relative to the municipality's mean saving
HALF_SHIFT_SHARE = 0.25  # municipalities with an effect of x,5 thousand kroner


def savings_targets(rng: random.Random, municipalities: list[Municipality]) -> dict[int, int]:
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


def proposal_counts(rng: random.Random, totals: dict[int, int], scale: int) -> dict[int, int]:
    """Qualifying proposals per municipality: about QUALIFYING_PROPOSALS × scale in all, more
    where the savings are larger, and none smaller than 1.000 kr."""
    codes = [code for code, total in totals.items() if total > 0]
    extra = largest_remainder(
        rng.randint(*QUALIFYING_PROPOSALS) - len(codes), [math.sqrt(totals[c]) for c in codes]
    )
    return {c: min((1 + e) * scale, totals[c] // 1000) for c, e in zip(codes, extra, strict=True)}


def split_savings(rng: random.Random, total: int, n: int) -> list[int]:
    """Savings (tenths of 1.000 kr.) of ``n`` proposals that add up to ``total`` exactly; a few
    are net costs (negative), which the others make up for."""
    units = total // TENTHS  # whole 1.000 kr.
    n_costs = sum(rng.random() < NET_COST_SHARE for _ in range(n - 2))
    n_savings = n - n_costs
    mean = units / n_savings
    costs = [
        budget_figure(max(1, round(mean * rng.uniform(*NET_COST_SIZE)))) for _ in range(n_costs)
    ]
    weights = [rng.lognormvariate(0, PROPOSAL_SIGMA) for _ in range(n_savings)]
    savings = [1 + s for s in largest_remainder(units + sum(costs) - n_savings, weights)]
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


def budget_figure(units: int) -> int:
    """A budget figure as people write it: to 25 or 5 thousand kroner when large enough."""
    step = 25 if units >= 200 else 5 if units >= 20 else 1
    return max(step, round(units / step) * step)


def _round_all_but_largest(units: list[int]) -> None:
    """Round the amounts in place; the largest absorbs the difference so the sum is unchanged."""
    largest = max(range(len(units)), key=units.__getitem__)
    rounded = [u if i == largest else budget_figure(u) for i, u in enumerate(units)]
    rounded[largest] += sum(units) - sum(rounded)
    if rounded[largest] >= 1:
        units[:] = rounded
