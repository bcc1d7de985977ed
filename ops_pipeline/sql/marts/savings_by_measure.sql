-- marts.savings_by_measure: qualifying proposals and savings per Tiltagstype, with the share of
-- the year's total qualifying savings (NULL when that total is 0).
WITH measures AS (
    SELECT budget_year, measure_type, count(*) AS proposals,
        sum(saving_dkk ORDER BY id) AS savings_dkk  -- ordered: the same bits on every run
    FROM staged.proposals
    WHERE qualifying
    GROUP BY ALL
),
totals AS (
    SELECT budget_year, sum(savings_dkk ORDER BY measure_type) AS total
    FROM measures
    GROUP BY ALL
)
SELECT
    budget_year::INTEGER AS budget_year,
    measure_type::VARCHAR AS measure_type,
    proposals::INTEGER AS proposals,
    savings_dkk::DOUBLE AS savings_dkk,
    (savings_dkk / NULLIF(total, 0))::DOUBLE AS share_of_savings
FROM measures
JOIN totals USING (budget_year)
ORDER BY budget_year, savings_dkk DESC, measure_type
