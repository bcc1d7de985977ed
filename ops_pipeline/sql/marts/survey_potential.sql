-- marts.survey_potential: for each closed single-choice variable on the six-point scale, how many
-- respondents who responded (staged.survey_respondents) answered it, and the shares seeing potential.
WITH scale AS (
    SELECT * FROM (VALUES
        (1, 'I meget høj grad', true, true),
        (2, 'I høj grad', true, true),
        (3, 'I nogen grad', true, false),
        (4, 'I mindre grad', false, false),
        (5, 'Slet ikke', false, false),
        (6, 'Ved ikke', false, false)
    ) AS t(code, label, positive, high)
),
-- A variable is on the scale when its labels are exactly the six codes and labels.
scale_variables AS (
    SELECT l.survey_year, l.variable
    FROM staged.survey_labels AS l
    LEFT JOIN scale AS s ON s.label = l.label AND s.code::VARCHAR = l.code
    GROUP BY l.survey_year, l.variable
    HAVING count(*) = 6 AND count(s.code) = 6 AND count(DISTINCT s.code) = 6
),
variables AS (
    SELECT v.survey_year, v.variable, v.question, v.item
    FROM staged.survey_variables AS v
    JOIN scale_variables USING (survey_year, variable)
    WHERE v.question_type = 'Closed' AND v.sub_type = 'Single'
),
answers AS (
    SELECT a.survey_year, a.variable, s.positive, s.high
    FROM staged.survey_answers AS a
    JOIN staged.survey_respondents AS r USING (survey_year, respondent)
    LEFT JOIN scale AS s ON s.code::VARCHAR = a.answer
    WHERE r.responded
),
counts AS (
    SELECT
        v.survey_year, v.variable, v.question, v.item,
        count(a.variable) AS answered,
        count(*) FILTER (WHERE a.positive) AS positive,
        count(*) FILTER (WHERE a.high) AS high
    FROM variables AS v
    LEFT JOIN answers AS a USING (survey_year, variable)
    GROUP BY ALL
)
SELECT
    survey_year::INTEGER AS survey_year,
    variable::VARCHAR AS variable,
    question::VARCHAR AS question,
    item::VARCHAR AS item,
    answered::INTEGER AS answered,
    positive::INTEGER AS positive,
    (positive / NULLIF(answered, 0))::DOUBLE AS share_positive,
    high::INTEGER AS high,
    (high / NULLIF(answered, 0))::DOUBLE AS share_high,
    rank() OVER (
        PARTITION BY survey_year ORDER BY positive / NULLIF(answered, 0) DESC NULLS LAST
    )::INTEGER AS rank
FROM counts
ORDER BY survey_year, rank, variable
