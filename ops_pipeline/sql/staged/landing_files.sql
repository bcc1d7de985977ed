-- staged.landing_files: every landing and corrections file the gate let through this run
-- (gate_files: walked, sized and hashed once by the gate), all the staging steps read.
SELECT file, source, year::INTEGER AS year, size_bytes, sha256
FROM gate_files
ORDER BY file
