-- staged.idebank_rows: every row of a budget year's Idébank extracts, typed by the reader
-- (ib_rows: Danish numbers parsed, Ja/Nej as booleans, blank early effects as 0), with the
-- budget year of its folder ($year) and its file as people see it ($folder || file name).
SELECT
    $year::INTEGER AS budget_year,
    $folder || source_file AS source_file,
    source_row,
    id,
    municipality_code,
    municipality_name,
    budget_year AS stated_budget_year,
    title,
    description,
    policy_area,
    measure_type,
    effect_year_1,
    effect_year_2,
    effect_year_3,
    effect_year_4,
    relevant,
    service_reduction
FROM ib_rows
