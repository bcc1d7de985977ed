-- marts.savings_potential: what would be freed each year if every municipality matched the
-- benchmark of the top_n municipalities (ordered by savings per inhabitant desc, code asc).
-- The benchmark is their unweighted mean savings per inhabitant, or for the *_weighted methods
-- their population-weighted mean Σ(savings_per_inhabitant × population) / Σ population.
--   gap,   gap_weighted:   Σ max(0, benchmark − own) × population   (gap, top 10: the headline)
--   level, level_weighted: benchmark × the population of the 98 municipalities
WITH sizes AS (
    SELECT unnest([5, 10, 15, 20]) AS top_n
),
ordered AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY budget_year
            ORDER BY savings_per_inhabitant DESC, municipality_code ASC
        ) AS position
    FROM marts.municipal_savings
),
benchmarks AS (
    SELECT
        o.budget_year,
        s.top_n,
        -- Ordered sums and means: the same bits on every run (unordered, parallel ones may differ).
        avg(o.savings_per_inhabitant ORDER BY o.municipality_code) AS unweighted,
        -- savings_dkk is savings_per_inhabitant × population without the rounding of the ratio.
        sum(o.savings_dkk ORDER BY o.municipality_code) / sum(o.population) AS weighted
    FROM ordered AS o
    JOIN sizes AS s ON o.position <= s.top_n
    GROUP BY ALL
),
weightings AS (
    SELECT budget_year, top_n, '' AS suffix, unweighted AS benchmark_per_inhabitant
    FROM benchmarks
    UNION ALL
    SELECT budget_year, top_n, '_weighted' AS suffix, weighted FROM benchmarks
),
potentials AS (
    SELECT
        w.budget_year,
        w.top_n,
        w.suffix,
        w.benchmark_per_inhabitant,
        sum(
            greatest(0, w.benchmark_per_inhabitant - m.savings_per_inhabitant) * m.population
            ORDER BY m.municipality_code
        ) AS gap,
        w.benchmark_per_inhabitant * sum(m.population) AS level
    FROM weightings AS w
    JOIN marts.municipal_savings AS m USING (budget_year)
    GROUP BY w.budget_year, w.top_n, w.suffix, w.benchmark_per_inhabitant
)
SELECT
    budget_year::INTEGER AS budget_year,
    (base || suffix)::VARCHAR AS method,
    top_n::INTEGER AS top_n,
    benchmark_per_inhabitant::DOUBLE AS benchmark_per_inhabitant,
    potential_dkk::DOUBLE AS potential_dkk
FROM potentials
UNPIVOT (potential_dkk FOR base IN (gap, level))
ORDER BY budget_year, method, top_n
