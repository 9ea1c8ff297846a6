"""The daily job and its schedule: every morning, yesterday's export day."""

import dagster as dg

from dagster_project.lib.settings import paths_from_env
from dagster_project.lib.workdir_lock import RUN_QUEUE_TAG

daily_pipeline = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.all(),
    description="extract -> dbt -> GX gate -> publish, for the selected export days",
    # Every run of the job (schedule, backfill, launchpad) carries its work directory: the
    # instance's run queue starts one run per work directory at a time (lib/workdir_lock).
    run_tags={RUN_QUEUE_TAG: str(paths_from_env().workdir)},
)

# The exports of day D arrive in the small hours of D+1; run at 06:00 Asia/Shanghai.
daily_schedule = dg.build_schedule_from_partitioned_job(daily_pipeline, hour_of_day=6)
