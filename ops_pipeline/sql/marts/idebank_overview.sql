-- marts.idebank_overview: one row per budget year of the Idébank.
-- Sums of DOUBLE are ordered: in parallel, an unordered sum may differ in its last bits from
-- run to run, and the same landing zone must publish the same figures.
SELECT
    budget_year::INTEGER AS budget_year,
    count(*)::INTEGER AS proposals,
    count(*) FILTER (WHERE qualifying)::INTEGER AS qualifying_proposals,
    count(DISTINCT municipality_code) FILTER (WHERE qualifying)::INTEGER
        AS municipalities_with_proposals,
    coalesce(sum(saving_dkk ORDER BY id) FILTER (WHERE qualifying), 0)::DOUBLE AS savings_dkk
FROM staged.proposals
GROUP BY budget_year
ORDER BY budget_year
