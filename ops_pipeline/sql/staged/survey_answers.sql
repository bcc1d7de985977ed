-- staged.survey_answers: one row per respondent and answered variable (a blank cell is no
-- answer and has no row). sx_answers is the export's answer columns unpivoted (defs/survey.py).
-- Individual answers stay in the working database: never published.
SELECT $year::INTEGER AS survey_year, respondent, variable, answer
FROM sx_answers
