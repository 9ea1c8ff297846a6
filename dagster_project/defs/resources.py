"""Where the landing tree and the work directory are.

Unset fields are read from the environment (.env.example) when a run starts, so the
CLI, the tests and `dagster dev` point one loaded Definitions at any directories.
"""

from pathlib import Path

import dagster as dg

from dagster_project.lib.settings import Paths, paths_from_env


class GridauditPaths(dg.ConfigurableResource):
    """Landing directory and work directory (warehouse, published file, reports)."""

    landing_dir: str | None = None
    workdir: str | None = None

    @property
    def paths(self) -> Paths:
        env = paths_from_env()
        return Paths(landing=Path(self.landing_dir) if self.landing_dir else env.landing,
                     workdir=Path(self.workdir) if self.workdir else env.workdir)
