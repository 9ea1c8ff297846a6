"""One daily partitioning for every asset: the partition key is the export day D."""

import datetime as dt
import os
import warnings

import dagster as dg

# BackfillPolicy is marked beta; we depend on it knowingly (one run per range of days).
warnings.filterwarnings("ignore", category=dg.BetaWarning)

# First export day the pipeline knows; an earlier landing day cannot be selected.
FIRST_DAY = os.environ.get("GRIDAUDIT_FIRST_DAY", "2026-01-01")

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="Asia/Shanghai")

# A range of days (a backfill) runs as one run, so dbt and the gate run once per range.
single_run = dg.BackfillPolicy.single_run()


def window_days(window: dg.TimeWindow) -> list[dt.date]:
    """The export days of a run's partition time window, oldest first."""
    start, end = window.start.date(), window.end.date()  # end is exclusive
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]
