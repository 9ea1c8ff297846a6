"""The dbt project as Dagster assets: staging -> intermediate -> audit -> marts.

The manifest is prepared by the build (`gridaudit prepare` / `dagster dev` runs
`dbt parse`), never at import time of a deployed code location. Asset keys are
[schema, model] so the graph, the dbt folders and the DuckDB schemas tell one story.
"""

import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project.defs.partitions import daily_partitions, single_run, window_days
from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


class GridauditDbtTranslator(DagsterDbtTranslator):
    """[schema, name] keys and folder groups, by rule, never by model name."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key
        schema = dbt_resource_props["config"].get("schema") or dbt_resource_props["schema"]
        name = dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return dg.AssetKey([schema, name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=GridauditDbtTranslator(),
    partitions_def=daily_partitions,
    backfill_policy=single_run,
)
def gridaudit_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, gridaudit_paths: GridauditPaths
):
    days = window_days(context.partition_time_window)
    dbt_vars = {"start_date": days[0].isoformat(), "end_date": days[-1].isoformat()}
    # profiles.yml reads the warehouse path from the environment: one file for all.
    os.environ["GRIDAUDIT_WAREHOUSE"] = str(gridaudit_paths.paths.warehouse)
    # dbt unit tests run in the test suite (pytest), not in every daily run.
    args = ["build", "--exclude", "test_type:unit", "--vars", json.dumps(dbt_vars)]
    yield from dbt.cli(args, context=context).stream()
