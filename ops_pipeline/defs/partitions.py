"""Yearly partitions: one dynamic partition per year folder of the landing zone.

Dagster has no yearly partitions helper. A time window with a yearly cron would invent years the
landing zone does not have (and hide next year's budget until 1 January); dynamic partitions are
exactly the year folders found: the key is the survey year for survey assets and the budget year
for Idébank and savings assets. One definition for both keeps a refresh of every year one run
(a partition range), so a backfill never becomes several runs fighting over one DuckDB file; a
year with only a survey (or only an Idébank extract) stages nothing for the other source.
Keys are kept sorted, so any range of them is a span of years.
"""

import dagster as dg

from ops_pipeline.landing import Inventory, landing_years

YEARS = dg.DynamicPartitionsDefinition(name="years")

# A backfill of many years runs as one run over the range: one writer, one publish at the end.
SINGLE_RUN = dg.BackfillPolicy.single_run()


def sync_years(instance: dg.DagsterInstance, inventory: Inventory) -> list[str]:
    """Register the years the landing gate found as partitions, kept sorted; return them."""
    wanted = landing_years(inventory)
    existing = instance.get_dynamic_partitions(YEARS.name)
    missing = [year for year in wanted if year not in existing]
    if missing and existing and min(missing) < max(existing):
        # An older year arrived late: re-register every key in order, so ranges stay spans.
        for key in existing:
            instance.delete_dynamic_partition(YEARS.name, key)
        instance.add_dynamic_partitions(YEARS.name, sorted(set(existing) | set(wanted)))
    elif missing:
        instance.add_dynamic_partitions(YEARS.name, missing)
    return wanted


def partition_years(context, inventory: Inventory | None = None) -> list[int] | None:
    """The years a step works on: its partition keys; unpartitioned, every year of the
    ``inventory`` (None without one: all years)."""
    if context.has_partition_key or context.has_partition_key_range:
        return sorted(int(key) for key in context.partition_keys)
    return None if inventory is None else [int(y) for y in landing_years(inventory)]
