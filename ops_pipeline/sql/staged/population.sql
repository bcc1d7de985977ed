-- staged.population: FOLK1A rows with the area's kind and municipality code. The same area and
-- quarter in several files (with the same number: conflicts are rejected before this runs)
-- counts once.
WITH regions AS (
    SELECT DISTINCT region AS area FROM reference.municipalities
),
kinds AS (
    SELECT
        f.*,
        m.municipality_code,
        CASE
            WHEN f.area = 'Hele landet' THEN 'country'
            WHEN f.area IN (SELECT area FROM regions) THEN 'region'
            WHEN f.area = 'Christiansø' THEN 'christiansoe'
            WHEN m.municipality_code IS NOT NULL THEN 'municipality'
        END AS area_kind
    FROM folk1a_rows AS f
    LEFT JOIN reference.municipalities AS m ON m.municipality = f.area
)
SELECT
    quarter,
    CAST(left(quarter, 4) AS INTEGER) AS year,
    area,
    area_kind,
    municipality_code,
    first(population ORDER BY source_file, source_row) AS population,
    first(source_file ORDER BY source_file, source_row) AS source_file,
    first(source_row ORDER BY source_file, source_row) AS source_row
FROM kinds
GROUP BY ALL
