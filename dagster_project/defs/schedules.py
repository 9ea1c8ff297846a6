"""The daily job and its schedule: every morning, yesterday's export day."""

import dagster as dg

daily_pipeline = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.all(),
    description="extract -> dbt -> GX gate -> publish, for the selected export days",
)

# The exports of day D arrive in the small hours of D+1; run at 06:00 Asia/Shanghai.
daily_schedule = dg.build_schedule_from_partitioned_job(daily_pipeline, hour_of_day=6)
