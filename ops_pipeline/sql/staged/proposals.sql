-- staged.proposals: one row per distinct proposal of a budget year. The rows of one ID agree in
-- every column but Fagområde (checked before this runs), so any row's values stand for all.
SELECT
    budget_year::INTEGER AS budget_year,
    id,
    first(municipality_code ORDER BY source_file, source_row) AS municipality_code,
    first(municipality_name ORDER BY source_file, source_row) AS municipality_name,
    first(stated_budget_year ORDER BY source_file, source_row) AS stated_budget_year,
    first(title ORDER BY source_file, source_row) AS title,
    first(description ORDER BY source_file, source_row) AS description,
    first(measure_type ORDER BY source_file, source_row) AS measure_type,
    list_sort(list_distinct(list(policy_area))) AS policy_areas,
    first(effect_year_4 ORDER BY source_file, source_row) AS effect_full_phase_in,
    -- Yearly saving at full phase-in: minus the last year's effect (1.000 kr.), in kroner.
    -1000 * first(effect_year_4 ORDER BY source_file, source_row) AS saving_dkk,
    first(relevant ORDER BY source_file, source_row) AS relevant,
    first(service_reduction ORDER BY source_file, source_row) AS service_reduction,
    first(relevant AND NOT service_reduction ORDER BY source_file, source_row) AS qualifying,
    first(source_file ORDER BY source_file, source_row) AS source_file,
    first(source_row ORDER BY source_file, source_row) AS source_row,
    count(*)::INTEGER AS source_rows
FROM staged.idebank_rows
GROUP BY budget_year, id
