"""Automation: the annual schedule and the landing-zone sensor. Both are off by default (turn
them on in the UI under Automation, or with ``dagster schedule start`` / ``dagster sensor
start``), so ``dagster dev`` never refreshes a lake by surprise.

- ``annual_refresh_schedule``: early December (1 December, 06:00 Copenhagen time), after KL
  publishes the Idébank of the coming budget year: refreshes every year of the landing zone.
- ``landing_zone_sensor``: notices new, changed or removed landing files by checksum (the cursor
  keeps each file's size, modification time and SHA-256, so unchanged files are not re-read) and
  requests a run of just the affected years: the survey year of a survey file, the budget year of
  an Idébank file, and for a population file the budget years whose 1 January population changed.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb

from ops_pipeline.defs.partitions import YEARS, sync_years
from ops_pipeline.defs.resources import LakeResource
from ops_pipeline.fingerprint import unchanged_since
from ops_pipeline.lake import IDEBANK, POPULATION, SURVEY
from ops_pipeline.landing import Inventory, landing_years, scan
from ops_pipeline.readers.errors import LandingError
from ops_pipeline.readers.folk1a import read_folk1a
from ops_pipeline.readers.text import file_digest

ANNUAL_CRON = "0 6 1 12 *"
TIME_ZONE = "Europe/Copenhagen"
SENSOR_INTERVAL_SECONDS = 60
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def landing_state(inventory: Inventory, previous: dict, scratch: Path) -> dict:
    """Size, mtime and SHA-256 of each landing file the gate lets through (reused from
    ``previous`` when size and mtime are unchanged); population files also get a digest per
    quarter."""
    current = {}
    for entry in inventory.files:
        path, key = entry.path, entry.relative
        stat = path.stat()
        before = previous.get(key, {})
        if before.get("size") == stat.st_size and before.get("mtime_ns") == stat.st_mtime_ns:
            current[key] = before
            continue
        digests = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": file_digest(path)}
        if entry.source == POPULATION:
            digests["quarters"] = _quarter_digests(path, scratch)
        current[key] = digests
    return current


def _quarter_digests(path: Path, scratch: Path) -> dict[str, str]:
    """A digest of each quarter's rows of a FOLK1A file, as the pipeline's own reader reads it;
    a file the reader refuses gets one marker for all quarters (every budget year reruns, and
    the run names the problem)."""
    with duckdb.connect() as con:
        try:
            read_folk1a(con, [path], scratch)
        except LandingError:
            return {"*": file_digest(path)}
        return dict(
            con.execute(
                "SELECT quarter, sha256(string_agg(area || '=' || population, chr(10) "
                "ORDER BY area, population)) FROM folk1a_rows GROUP BY quarter"
            ).fetchall()
        )


def affected_years(inventory: Inventory, previous: dict, current: dict) -> list[str]:
    """The year partitions a change between two landing states touches, sorted."""
    years: set[str] = set()
    budget_years = {str(y) for y in inventory.years(IDEBANK)}
    for key in set(previous) | set(current):
        before, after = previous.get(key), current.get(key)
        if before is not None and after is not None and before["sha256"] == after["sha256"]:
            continue
        parts = Path(key).parts  # landing/<source>/<year>/<file> or landing/population/<file>
        if len(parts) >= 4 and parts[1] in (SURVEY, IDEBANK) and parts[2].isdigit():
            years.add(parts[2])
        elif len(parts) >= 3 and parts[1] == POPULATION:
            old = (before or {}).get("quarters", {})
            new = (after or {}).get("quarters", {})
            changed = {q for q in set(old) | set(new) if old.get(q) != new.get(q)}
            if "*" in changed:
                years |= budget_years
            years |= {q[:4] for q in changed if q.endswith("K1")} & budget_years
    return sorted(years)


def build_automation(job):
    """The schedule and the sensor for the refresh job."""

    @dg.schedule(
        name="annual_refresh_schedule",
        cron_schedule=ANNUAL_CRON,
        execution_timezone=TIME_ZONE,
        job=job,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Early December, after KL publishes the Idébank: refresh every year.",
    )
    def annual_refresh_schedule(context: dg.ScheduleEvaluationContext, lake: LakeResource):
        resource, lake = lake, lake.lake  # the paths of the resource's lake
        inventory = scan(lake)
        years = sync_years(context.instance, inventory)
        if not years:
            return dg.SkipReason(f"no survey or Idébank year folder in {lake.landing}")
        if not inventory.refused:  # a refused lake runs, and its run names the problem
            unchanged = unchanged_since(lake, inventory, resource.max_rejected_rows)
            if unchanged is not None:
                return dg.SkipReason(
                    f"nothing changed since publication {unchanged.id} (same landing and "
                    "corrections files, code and settings)"
                )
        return dg.RunRequest(tags={RANGE_START: years[0], RANGE_END: years[-1]})

    @dg.sensor(
        name="landing_zone_sensor",
        job=job,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="New or changed landing files: refresh just the years they belong to.",
    )
    def landing_zone_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
        lake = lake.lake  # the paths of the resource's lake
        inventory = scan(lake)
        if inventory.refused:
            # Nothing is run and the cursor stays: the change is seen again once it is fixed.
            return dg.SkipReason(
                "the landing gate refuses:\n" + "\n".join(map(str, inventory.refused))
            )
        previous = json.loads(context.cursor) if context.cursor else {}
        current = landing_state(inventory, previous, lake.scratch)
        years = affected_years(inventory, previous, current)
        registered = set(context.instance.get_dynamic_partitions(YEARS.name))
        new_keys = [y for y in landing_years(inventory) if y not in registered]
        # The run key names the year and the landing state, so one state is refreshed once.
        state = file_digest_of(current)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(partition_key=year, run_key=f"{year}:{state}")
                for year in years
                if year in registered or year in new_keys
            ],
            dynamic_partitions_requests=[YEARS.build_add_request(new_keys)] if new_keys else [],
            cursor=json.dumps(current, sort_keys=True),
        )

    return annual_refresh_schedule, landing_zone_sensor


def file_digest_of(states: dict) -> str:
    text = json.dumps({k: v["sha256"] for k, v in states.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
