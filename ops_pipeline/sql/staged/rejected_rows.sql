-- staged.rejected_rows: the rows a staging step's readers could not parse (reader_rejects),
-- filed under the step's asset ($asset), with each file as people see it and its year
-- partition (reject_files: ops_pipeline.lake's rule, applied once per file).
SELECT
    $asset AS asset,
    f.partition,
    f.shown AS file,
    r.line,
    r.column_name,
    r.reason,
    r.raw
FROM reader_rejects AS r
JOIN reject_files AS f USING (file)
ORDER BY f.shown, r.line
