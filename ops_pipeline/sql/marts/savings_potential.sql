-- marts.savings_potential: what would be freed each year if every municipality matched the
-- benchmark: the unweighted mean savings per inhabitant of the top_n municipalities.
--   gap:   Σ max(0, benchmark − own) × population   (the headline figure)
--   level: benchmark × the population of the 98 municipalities
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
    SELECT o.budget_year, s.top_n, avg(o.savings_per_inhabitant) AS benchmark_per_inhabitant
    FROM ordered AS o
    JOIN sizes AS s ON o.position <= s.top_n
    GROUP BY ALL
),
potentials AS (
    SELECT
        b.budget_year,
        b.top_n,
        b.benchmark_per_inhabitant,
        sum(greatest(0, b.benchmark_per_inhabitant - m.savings_per_inhabitant) * m.population)
            AS gap_dkk,
        b.benchmark_per_inhabitant * sum(m.population) AS level_dkk
    FROM benchmarks AS b
    JOIN marts.municipal_savings AS m USING (budget_year)
    GROUP BY b.budget_year, b.top_n, b.benchmark_per_inhabitant
)
SELECT
    budget_year::INTEGER AS budget_year,
    method::VARCHAR AS method,
    top_n::INTEGER AS top_n,
    benchmark_per_inhabitant::DOUBLE AS benchmark_per_inhabitant,
    potential_dkk::DOUBLE AS potential_dkk
FROM potentials
UNPIVOT (potential_dkk FOR method IN (gap_dkk AS 'gap', level_dkk AS 'level'))
ORDER BY budget_year, method, top_n
