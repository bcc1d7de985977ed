-- marts.municipal_savings: every one of the 98 municipalities in every budget year, with its
-- distinct qualifying proposals, their yearly savings at full phase-in and savings per inhabitant
-- (population on 1 January of the budget year).
WITH years AS (
    SELECT DISTINCT budget_year FROM staged.proposals
),
population AS (
    SELECT year AS budget_year, municipality_code, population
    FROM staged.population
    WHERE area_kind = 'municipality' AND quarter = year::VARCHAR || 'K1'
),
qualifying AS (
    SELECT budget_year, municipality_code, count(*) AS proposals,
        sum(saving_dkk ORDER BY id) AS savings_dkk  -- ordered: the same bits on every run
    FROM staged.proposals
    WHERE qualifying
    GROUP BY ALL
),
joined AS (
    SELECT
        y.budget_year,
        m.municipality_code,
        m.municipality,
        m.region,
        p.population,
        coalesce(q.proposals, 0) AS proposals,
        coalesce(q.savings_dkk, 0) AS savings_dkk
    FROM years AS y
    CROSS JOIN reference.municipalities AS m
    LEFT JOIN population AS p USING (budget_year, municipality_code)
    LEFT JOIN qualifying AS q USING (budget_year, municipality_code)
)
SELECT
    budget_year::INTEGER AS budget_year,
    municipality_code::INTEGER AS municipality_code,
    municipality::VARCHAR AS municipality,
    region::VARCHAR AS region,
    population::INTEGER AS population,
    proposals::INTEGER AS proposals,
    savings_dkk::DOUBLE AS savings_dkk,
    (savings_dkk / population)::DOUBLE AS savings_per_inhabitant,
    rank() OVER (
        PARTITION BY budget_year ORDER BY savings_dkk / population DESC
    )::INTEGER AS rank
FROM joined
ORDER BY budget_year, rank, municipality_code
