-- marts.survey_response: invitations, responses and completions per survey year.
-- status (landing contract): 3 = some answers, 4 = completed; every respondent is invited.
SELECT
    survey_year::INTEGER AS survey_year,
    count(*)::INTEGER AS invited,
    count(*) FILTER (WHERE status IN (3, 4))::INTEGER AS responded,
    count(*) FILTER (WHERE status = 4)::INTEGER AS completed,
    (count(*) FILTER (WHERE status IN (3, 4)) / count(*))::DOUBLE AS response_rate,
    (count(*) FILTER (WHERE status = 4) / count(*))::DOUBLE AS completion_rate
FROM staged.survey_respondents
GROUP BY survey_year
ORDER BY survey_year
