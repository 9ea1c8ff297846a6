"""Where the landing tree and the work directory are (from the environment, .env.example)."""

from pathlib import Path

import dagster as dg

from dagster_project.lib.settings import Paths, paths_from_env


class GridauditPaths(dg.ConfigurableResource):
    """Landing directory and work directory (warehouse, published file, reports)."""

    landing_dir: str
    workdir: str

    @property
    def paths(self) -> Paths:
        return Paths(landing=Path(self.landing_dir), workdir=Path(self.workdir))


def paths_resource_from_env() -> GridauditPaths:
    paths = paths_from_env()
    return GridauditPaths(landing_dir=str(paths.landing), workdir=str(paths.workdir))
