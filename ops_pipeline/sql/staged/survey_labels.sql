-- staged.survey_labels: the value labels of the export (variable, code, label), with the file
-- ($labels_file, as people see it) and row each comes from.
SELECT
    $year::INTEGER AS survey_year,
    variable,
    value AS code,
    label,
    $labels_file AS source_file,
    _row AS source_row
FROM sx_labels
