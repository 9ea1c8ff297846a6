"""The dbt project as Dagster assets: staging -> intermediate -> audit -> marts.

The manifest is prepared by the build (`gridaudit prepare` / `dagster dev` runs
`dbt parse`), never at import time of a deployed code location. Asset keys are
[schema, model] so the graph, the dbt folders and the DuckDB schemas tell one story.
"""

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project.defs.dbt import ui_metadata
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
    # profiles.yml reads the warehouse path from the environment: one file for all.
    os.environ["GRIDAUDIT_WAREHOUSE"] = str(gridaudit_paths.paths.warehouse)
    # The run window reaches dbt as environment variables of the dbt process only
    # (macros/run_window: run_window_day), not as --vars: dbt re-parses the whole project
    # whenever --vars change, i.e. on every daily run; the environment is read only when
    # executing. dbt.cli() starts the process with a copy of os.environ, so the variables
    # are set around that call and removed again (a later dbt call in this process, e.g.
    # a hand-run with --vars in a test, must not see them).
    window = {
        "GRIDAUDIT_RUN_START_DATE": days[0].isoformat(),
        "GRIDAUDIT_RUN_END_DATE": days[-1].isoformat(),
    }
    # dbt unit tests run in the test suite (pytest), not in every daily run.
    args = ["build", "--exclude", "test_type:unit"]
    with _environment(window):
        invocation = dbt.cli(args, context=context)
    # The UI's numbers (ui_metadata) are read from the warehouse, which dbt's process holds
    # for writing until it ends: the events are collected until then (as dagster-dbt's own
    # fetch_row_counts does on DuckDB), then yielded with the numbers. A failed build still
    # yields what it materialized, and then fails the step.
    events, failure = [], None
    try:
        events.extend(invocation.stream())
    except Exception as error:  # noqa: BLE001 - re-raised below, after the events
        failure = error
    yield from _with_ui_metadata(
        context, invocation.manifest, events, gridaudit_paths.paths.warehouse, days
    )
    if failure is not None:
        raise failure


def _with_ui_metadata(
    context: dg.AssetExecutionContext,
    manifest: Mapping[str, Any],
    events: list,
    warehouse: Path,
    days: list[dt.date],
) -> Iterator:
    """The events with the row counts of their tables and the marts' summaries attached.

    A failure to read them is a warning, not a failed run: they are for the UI only."""
    started = time.perf_counter()
    relations: dict[dg.AssetKey, str] = {}
    keys = []
    for event in events:
        key = None
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            node = manifest["nodes"].get(event.metadata["unique_id"].value)
            key = (
                event.asset_key
                if isinstance(event, dg.AssetMaterialization)
                else context.asset_key_for_output(event.output_name)
            )
            if node and node["config"].get("materialized") != "view":
                relations[key] = node["relation_name"]
        keys.append(key)
    extra: dict[dg.AssetKey, dict[str, Any]] = {}
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            for key, count in ui_metadata.row_counts(con, relations).items():
                extra[key] = {"dagster/row_count": dg.MetadataValue.int(count)}
            by_day = {
                ui_metadata.AREA_DAILY_LOSS: ui_metadata.area_daily_loss_by_day,
                ui_metadata.AREA_PROBLEM_LIST: ui_metadata.area_problem_list_by_day,
            }
            for key, numbers_of in by_day.items():
                if key in keys:  # merged into the event's materialization of that day
                    for day, metadata in numbers_of(con, days).items():
                        context.add_asset_metadata(
                            metadata, asset_key=key, partition_key=day.isoformat()
                        )
    except duckdb.Error as error:
        context.log.warning(f"UI metadata of the dbt assets not read from {warehouse}: {error}")
    context.log.info(
        f"UI metadata of {len(extra)} dbt assets read in {time.perf_counter() - started:.2f} s"
    )
    for event, key in zip(events, keys, strict=True):
        if key in extra:
            event = event.with_metadata({**event.metadata, **extra[key]})
        yield event


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
