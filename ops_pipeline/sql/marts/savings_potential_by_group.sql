-- marts.savings_potential_by_group: the potential of savings_potential with the benchmark taken
-- within comparable groups of municipalities, so that each is compared with its peers:
--   grouping 'region':    the five regions
--   grouping 'size_band': population on 1 January of the budget year under 20.000,
--                         20.000–49.999, 50.000–99.999, 100.000 og derover
-- The benchmark is the unweighted mean savings per inhabitant of the group's first top_n members
-- ordered by savings per inhabitant desc, code asc (all members when the group is smaller);
--   gap:   Σ over the group of max(0, benchmark − own) × population
--   level: benchmark × the group's population
-- members is the number of municipalities in the group; group_order sorts the groups of a
-- grouping for reading (regions by name, size bands from small to large).
WITH sizes AS (
    SELECT unnest([3, 5]) AS top_n
),
bands AS (
    SELECT * FROM (VALUES
        (0, 'under 20.000'),
        (20000, '20.000–49.999'),
        (50000, '50.000–99.999'),
        (100000, '100.000 og derover')
    ) AS t(band_floor, band)
),
grouped AS (
    SELECT
        budget_year, municipality_code, population, savings_per_inhabitant,
        'region' AS grouping, region AS peer_group, NULL::INTEGER AS band_floor
    FROM marts.municipal_savings
    UNION ALL
    -- A municipality's band: the one with the largest floor not above its population.
    SELECT
        m.budget_year, m.municipality_code, m.population, m.savings_per_inhabitant,
        'size_band' AS grouping, b.band AS peer_group, b.band_floor
    FROM marts.municipal_savings AS m
    ASOF JOIN bands AS b ON m.population >= b.band_floor
),
ordered AS (
    SELECT
        *,
        row_number() OVER peers AS position,
        count(*) OVER (PARTITION BY budget_year, grouping, peer_group) AS members,
        dense_rank() OVER (
            PARTITION BY budget_year, grouping ORDER BY band_floor NULLS FIRST, peer_group
        ) AS group_order
    FROM grouped
    WINDOW peers AS (
        PARTITION BY budget_year, grouping, peer_group
        ORDER BY savings_per_inhabitant DESC, municipality_code ASC
    )
),
benchmarks AS (
    SELECT
        o.budget_year, o.grouping, o.peer_group, s.top_n,
        any_value(o.members) AS members,
        any_value(o.group_order) AS group_order,
        -- Ordered means and sums: the same bits on every run (unordered, parallel ones may differ).
        avg(o.savings_per_inhabitant ORDER BY o.municipality_code) AS benchmark_per_inhabitant
    FROM ordered AS o
    JOIN sizes AS s ON o.position <= s.top_n
    GROUP BY o.budget_year, o.grouping, o.peer_group, s.top_n
),
potentials AS (
    SELECT
        b.budget_year, b.grouping, b.peer_group, b.top_n, b.members, b.group_order,
        b.benchmark_per_inhabitant,
        sum(
            greatest(0, b.benchmark_per_inhabitant - o.savings_per_inhabitant) * o.population
            ORDER BY o.municipality_code
        ) AS gap,
        b.benchmark_per_inhabitant * sum(o.population) AS level
    FROM benchmarks AS b
    JOIN ordered AS o USING (budget_year, grouping, peer_group)
    GROUP BY
        b.budget_year, b.grouping, b.peer_group, b.top_n, b.members, b.group_order,
        b.benchmark_per_inhabitant
)
SELECT
    budget_year::INTEGER AS budget_year,
    grouping::VARCHAR AS grouping,
    peer_group::VARCHAR AS peer_group,
    method::VARCHAR AS method,
    top_n::INTEGER AS top_n,
    members::INTEGER AS members,
    benchmark_per_inhabitant::DOUBLE AS benchmark_per_inhabitant,
    potential_dkk::DOUBLE AS potential_dkk,
    group_order::INTEGER AS group_order
FROM potentials
UNPIVOT (potential_dkk FOR method IN (gap, level))
ORDER BY budget_year, grouping, group_order, method, top_n
