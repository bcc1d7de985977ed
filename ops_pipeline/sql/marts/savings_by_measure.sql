-- marts.savings_by_measure: qualifying proposals and savings per Tiltagstype, with the share of
-- the year's total qualifying savings (NULL when that total is 0).
WITH measures AS (
    SELECT budget_year, measure_type, count(*) AS proposals, sum(saving_dkk) AS savings_dkk
    FROM staged.proposals
    WHERE qualifying
    GROUP BY ALL
)
SELECT
    budget_year::INTEGER AS budget_year,
    measure_type::VARCHAR AS measure_type,
    proposals::INTEGER AS proposals,
    savings_dkk::DOUBLE AS savings_dkk,
    (savings_dkk / NULLIF(sum(savings_dkk) OVER (PARTITION BY budget_year), 0))::DOUBLE
        AS share_of_savings
FROM measures
ORDER BY budget_year, savings_dkk DESC, measure_type
