-- marts.survey_answer_counts: for every variable of marts.survey_potential, the respondents who
-- responded (staged.survey_respondents) and gave each of the six codes of the scale, zero counts included.
-- What the report's survey charts draw, as counts only (no individual answer is published).
WITH counted AS (
    SELECT a.survey_year, a.variable, a.answer, count(*) AS respondents
    FROM staged.survey_answers AS a
    JOIN staged.survey_respondents AS r USING (survey_year, respondent)
    WHERE r.responded
    GROUP BY ALL
)
SELECT
    p.survey_year::INTEGER AS survey_year,
    p.variable::VARCHAR AS variable,
    s.code::INTEGER AS code,
    l.label::VARCHAR AS label,
    coalesce(c.respondents, 0)::INTEGER AS respondents
FROM marts.survey_potential AS p
CROSS JOIN range(1, 7) AS s(code)
JOIN staged.survey_labels AS l
    ON l.survey_year = p.survey_year AND l.variable = p.variable AND l.code = s.code::VARCHAR
LEFT JOIN counted AS c
    ON c.survey_year = p.survey_year AND c.variable = p.variable AND c.answer = s.code::VARCHAR
ORDER BY survey_year, variable, code
