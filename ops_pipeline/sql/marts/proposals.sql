-- marts.proposals: one row per distinct proposal, for drill-down from a municipality.
SELECT
    budget_year::INTEGER AS budget_year,
    id::VARCHAR AS id,
    municipality_code::INTEGER AS municipality_code,
    title::VARCHAR AS title,
    measure_type::VARCHAR AS measure_type,
    policy_areas::VARCHAR[] AS policy_areas,
    saving_dkk::DOUBLE AS saving_dkk,
    qualifying::BOOLEAN AS qualifying
FROM staged.proposals
ORDER BY budget_year, municipality_code, id
