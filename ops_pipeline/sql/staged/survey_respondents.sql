-- staged.survey_respondents: one row per respondent of a survey year's export.
-- sx_respondents is the export's dataset in the landing contract's terms: defs/survey.py maps
-- the export's own columns onto it (the one set status flag, the respondent key, kommunekode)
-- after checking them. $folder: the year folder as people see it, e.g. 'landing/survey/2022/'.
SELECT
    $year::INTEGER AS survey_year,
    respondent,
    municipality_code,
    status,
    -- The one definition of the survey's response (landing contract): 3 = some answers,
    -- 4 = completed. The marts count these columns, never the codes.
    status IN (3, 4) AS responded,
    status = 4 AS completed,
    $folder || _file AS source_file,
    _row AS source_row
FROM sx_respondents
