-- staged.survey_variables: one row per variable of the export's structure file. The question is
-- the text before the last " - ", the item the text after it. $structure_file: as people see it.
SELECT
    $year::INTEGER AS survey_year,
    variable,
    first(question_name ORDER BY _row) AS question_name,
    first(question_type ORDER BY _row) AS question_type,
    first(sub_type ORDER BY _row) AS sub_type,
    trim(CASE WHEN contains(t, ' - ') THEN regexp_extract(t, '(?s)^(.*) - ', 1) ELSE t END)
        AS question,
    CASE WHEN contains(t, ' - ')
         THEN NULLIF(trim(regexp_extract(t, '(?s)^.* - (.*)$', 1)), '') END AS item,
    $structure_file AS source_file,
    min(_row) AS source_row
FROM (SELECT *, question_text AS t FROM sx_structure WHERE variable IS NOT NULL)
GROUP BY variable, t
