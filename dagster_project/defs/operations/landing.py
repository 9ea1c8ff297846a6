"""The landing sensor and the freshness of each source system.

Landing sensor `landing_sensor`: starts the `daily_pipeline` run of export day D when D's
landing files are complete, i.e. every table delivered every day
(GRIDAUDIT_LANDING_EVERY_DAY_TABLES: A_RCVBL_FLOW, A_PAY_FLOW, E_MP_DAY_READ) has its file
of D. Snapshot tables and the sparse deltas are not waited for, since no day says whether
it is a snapshot day: a snapshot of D that lands after D's run changes D's fingerprint and
D runs again (the pipeline recomputes what late data touches). A day still incomplete at
GRIDAUDIT_LANDING_DEADLINE_HOUR on D+1 (Asia/Shanghai) runs anyway, tagged with the missing
tables. The run_key is day + fingerprint (path, size, mtime of every file of D), so a day
runs once per set of files and a late or replaced file re-runs its day. The cursor keeps
the fingerprint last requested per watched day, so a tick yields nothing when nothing
changed, and the frontier of each system for the freshness observations.

Freshness: one external asset `landing/<system>` per source system, observed by the
landing sensor. Partition P of it is observed once the system's files have reached P (a
file of day P or later landed): so the marketing system's weekly snapshot days leave no
holes. Its partitions end GRIDAUDIT_FRESHNESS_DAYS_<SYSTEM> - 1 days before the pipeline's,
so `build_time_partition_freshness_checks` (deadline GRIDAUDIT_LANDING_DEADLINE_HOUR,
Asia/Shanghai) fails exactly when the system has delivered no new export day for that
many days.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
import zoneinfo

import dagster as dg

from dagster_project.defs.partitions import FIRST_DAY
from dagster_project.defs.schedules import daily_pipeline
from dagster_project.lib import landing_watch
from dagster_project.lib.landing_contract import SYSTEMS, TABLES
from dagster_project.lib.settings import (
    freshness_days,
    landing_deadline_hour,
    landing_every_day_tables,
    landing_lookback_days,
    landing_settle_seconds,
    paths_from_env,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SOURCE_SYSTEMS = tuple(dict.fromkeys(t.system for t in TABLES))  # the four, not feedback

# Run tags: shown on the run's page and filterable in the UI's run list.
TAG_FINGERPRINT = "gridaudit/landing_fingerprint"
TAG_LANDING = "gridaudit/landing"  # complete | incomplete
TAG_MISSING = "gridaudit/missing_tables"
TAG_RERUN = "gridaudit/landing_rerun"


def now_in_shanghai() -> dt.datetime:
    """The sensor's clock (a function, so a test can set the time)."""
    return dt.datetime.now(SHANGHAI)


def landing_asset_key(system: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", system])


def landing_partitions(system: str) -> dg.DailyPartitionsDefinition:
    # The last partition is freshness_days - 1 days before yesterday: the freshness check
    # expects that one to be reached by the system's files.
    return dg.DailyPartitionsDefinition(
        start_date=FIRST_DAY, timezone="Asia/Shanghai", end_offset=1 - freshness_days(system)
    )


# Dagster 1.13 marks the freshness-check factories superseded by FreshnessPolicy, which
# judges an asset's own materializations; what fails here is files that stopped arriving
# (observations of the landing tree), which the factories express and a policy does not.
warnings.filterwarnings("ignore", category=dg.SupersessionWarning)

landing_assets = [
    dg.AssetSpec(
        key=landing_asset_key(system),
        group_name=system,
        partitions_def=landing_partitions(system),
        kinds={"csv"},
        description=f"{SYSTEMS[system]} 落地文件 (landing files of {system}): observed by "
        "landing_sensor; partition P is observed once a file of day P or later has landed. "
        f"Freshness fails after {freshness_days(system)} days without a new export day "
        f"(GRIDAUDIT_FRESHNESS_DAYS_{system.upper()}).",
    )
    for system in SOURCE_SYSTEMS
]

freshness_checks = dg.build_time_partition_freshness_checks(
    assets=[spec.key for spec in landing_assets],
    deadline_cron=f"0 {landing_deadline_hour()} * * *",
    timezone="Asia/Shanghai",
)

freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks,
    name="landing_freshness_sensor",
    minimum_interval_seconds=300,
)


def _deadline(day: dt.date) -> dt.datetime:
    next_day = day + dt.timedelta(days=1)
    return dt.datetime.combine(next_day, dt.time(landing_deadline_hour()), tzinfo=SHANGHAI)


def _observations(
    days: dict[dt.date, landing_watch.LandingDay], frontiers: dict[str, str], now: dt.datetime
) -> list[dg.AssetObservation]:
    """Observations of landing/<system> for the partitions its files newly reached;
    `frontiers` (the cursor's) is updated to the last observed partition per system."""
    events = []
    for system in SOURCE_SYSTEMS:
        delivered = [d for d, landed in days.items() if system in landed.systems]
        if not delivered:
            continue
        newest = max(delivered)
        # the last partition of landing_partitions(system) at `now`: yesterday - (days - 1)
        last = min(newest, now.date() - dt.timedelta(days=freshness_days(system)))
        if system in frontiers:
            start = dt.date.fromisoformat(frontiers[system]) + dt.timedelta(days=1)
        else:  # a first look observes as many partitions as days are watched, not history
            start = last - dt.timedelta(days=landing_lookback_days())
        start = max(start, dt.date.fromisoformat(FIRST_DAY))
        updated = days[newest].newest_mtime
        day = start
        while day <= last:
            events.append(
                dg.AssetObservation(
                    asset_key=landing_asset_key(system),
                    partition=day.isoformat(),
                    metadata={
                        "newest_export_day": newest.isoformat(),
                        "dagster/last_updated_timestamp": dg.MetadataValue.timestamp(updated),
                        "tables_of_newest_day": ", ".join(
                            sorted(f.table for f in days[newest].files if f.system == system)
                        ),
                    },
                )
            )
            frontiers[system] = day.isoformat()
            day += dt.timedelta(days=1)
    return events


@dg.sensor(
    name="landing_sensor",
    job=daily_pipeline,
    minimum_interval_seconds=30,
    # Stopped until an operator starts it: it replaces daily_pipeline_schedule (run one of
    # the two), and a new install must not start runs on whatever landing tree it points at.
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="导出日落地文件齐全后启动当日运行 (starts the daily_pipeline run of an "
    "export day once its files are complete, or at the deadline hour with what arrived; a "
    "late or replaced file re-runs its day). Observes landing/<system> for freshness.",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    now = now_in_shanghai()
    cursor = json.loads(context.cursor) if context.cursor else {}
    requested: dict[str, str] = cursor.get("requested", {})
    frontiers: dict[str, str] = cursor.get("frontiers", {})
    every_day = landing_every_day_tables()
    yesterday = now.date() - dt.timedelta(days=1)  # day D's partition exists from D+1 on
    first = max(
        now.date() - dt.timedelta(days=landing_lookback_days()), dt.date.fromisoformat(FIRST_DAY)
    )
    # The landing directory of the runs it starts (GRIDAUDIT_LANDING). Not the
    # GridauditPaths resource: opening that takes the work directory's lock, which a
    # sensor must not wait for while a run holds it.
    # The freshness observations need each system's newest day over its freshness days
    # (8 for the weekly snapshots), which can reach further back than the watched days.
    seen_from = min(
        first, now.date() - dt.timedelta(days=max(freshness_days(s) for s in SOURCE_SYSTEMS))
    )
    seen = landing_watch.scan(paths_from_env().landing, seen_from, yesterday)
    days = {day: landed for day, landed in seen.items() if day >= first}

    run_requests, waiting = [], []
    for day, landed in days.items():
        key = day.isoformat()
        fingerprint = landed.fingerprint
        if requested.get(key) == fingerprint:
            continue  # requested with exactly these files
        settling = now.timestamp() - landed.newest_mtime < landing_settle_seconds()
        if settling:
            waiting.append(f"{key}: a file changed less than {landing_settle_seconds()} s ago")
            continue
        missing = landed.missing(every_day)
        if missing and now < _deadline(day):
            waiting.append(
                f"{key}: waiting for {', '.join(missing)} until "
                f"{_deadline(day):%Y-%m-%d %H:%M} Asia/Shanghai"
            )
            continue
        tags = {
            TAG_FINGERPRINT: fingerprint,
            TAG_LANDING: "incomplete" if missing else "complete",
            TAG_MISSING: ",".join(missing) or "none",
        }
        if key in requested:
            tags[TAG_RERUN] = f"files changed since the run of fingerprint {requested[key]}"
        if missing:
            context.log.warning(
                f"export day {key} is incomplete at the deadline "
                f"({landing_deadline_hour():02d}:00 Asia/Shanghai on the next day): running "
                f"with what arrived; missing tables: {', '.join(missing)}"
            )
        else:
            context.log.info(f"export day {key} is complete ({len(landed.files)} files)")
        if key in requested:
            context.log.info(f"export day {key}: files changed since its last run, re-running")
        run_requests.append(
            dg.RunRequest(run_key=f"{key}:{fingerprint}", partition_key=key, tags=tags)
        )
        requested[key] = fingerprint

    for line in waiting:
        context.log.info(line)
    asset_events = _observations(seen, frontiers, now)
    # keep the cursor to the watched window
    requested = {k: v for k, v in requested.items() if k >= first.isoformat()}
    return dg.SensorResult(
        run_requests=run_requests,
        asset_events=asset_events,
        cursor=json.dumps({"requested": requested, "frontiers": frontiers}, sort_keys=True),
        skip_reason=None
        if run_requests
        else ("; ".join(waiting) or "no new or changed export day in the landing tree"),
    )
