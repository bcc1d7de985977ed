-- marts.survey_response: invitations, responses and completions per survey year.
-- Every respondent of the export is invited; responded and completed as staged.
SELECT
    survey_year::INTEGER AS survey_year,
    count(*)::INTEGER AS invited,
    count(*) FILTER (WHERE responded)::INTEGER AS responded,
    count(*) FILTER (WHERE completed)::INTEGER AS completed,
    (count(*) FILTER (WHERE responded) / count(*))::DOUBLE AS response_rate,
    (count(*) FILTER (WHERE completed) / count(*))::DOUBLE AS completion_rate
FROM staged.survey_respondents
GROUP BY survey_year
ORDER BY survey_year
