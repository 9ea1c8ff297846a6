"""Where the landing tree and the work directory are.

Unset fields are read from the environment (.env.example) when a run starts, so the
CLI, the tests and `dagster dev` point one loaded Definitions at any directories.

Every asset and check of the graph requires this resource, so it is also where a Dagster
run takes the work directory's lock (lib/workdir_lock.py) for as long as it runs: a run
launched from the UI, a schedule or a sensor waits for a `gridaudit run` (or another
run) on the same work directory instead of colliding with it. With the project's
in-process executor the resource is set up once per run, before its first step.
"""

import contextlib
from pathlib import Path

import dagster as dg

from dagster_project.lib import workdir_lock
from dagster_project.lib.settings import Paths, paths_from_env


class GridauditPaths(dg.ConfigurableResource):
    """Landing directory and work directory (warehouse, published file, reports)."""

    landing_dir: str | None = None
    workdir: str | None = None

    @property
    def paths(self) -> Paths:
        env = paths_from_env()
        return Paths(
            landing=Path(self.landing_dir) if self.landing_dir else env.landing,
            workdir=Path(self.workdir) if self.workdir else env.workdir,
        )

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        workdir = self.paths.workdir
        run = context.dagster_run
        tags = run.tags if run else {}
        days = workdir_lock.days_text(
            tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition"),
            tags.get("dagster/asset_partition_range_end"),
        )
        log = context.log

        waited = []

        def waiting(holder):
            waited.append(holder)
            if log is not None:
                who = holder.describe() if holder else "another process"
                log.warning(
                    f"the work directory {workdir} is busy ({who}): this run waits "
                    "until it is free (one run at a time per work directory)"
                )

        with workdir_lock.hold(
            workdir,
            f"Dagster run of {run.job_name}" if run else "Dagster",
            days=days,
            run_id=run.run_id if run else None,
            wait=True,
            on_wait=waiting,
        ):
            if waited and log is not None:
                log.info(f"the work directory {workdir} is free: this run goes on")
            yield self.create_resource(context)
