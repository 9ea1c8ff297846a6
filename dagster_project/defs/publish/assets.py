"""Write-audit-publish: the marts, once the gate has passed, become the published file.

A new DuckDB file is written next to <workdir>/published/gridaudit.duckdb and renamed over
it in one step (lib/publish.py); BI tools open only that file, read-only.
"""


import dagster as dg

from dagster_project.defs.partitions import daily_partitions, single_run
from dagster_project.defs.quality.checks import mart_keys
from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib import publish as publisher
from dagster_project.lib.settings import mask_personal_data, published_versions_kept


@dg.asset(
    key=["published", "gridaudit_duckdb"],
    group_name="publish",
    deps=mart_keys(),
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    kinds={"duckdb"},
    description="The published DuckDB file BI tools read: every marts.* table, replaced "
                "atomically after the blocking GX gate passed.",
)
def published_marts(context: dg.AssetExecutionContext, gridaudit_paths: GridauditPaths):
    paths = gridaudit_paths.paths
    result = publisher.publish(paths.warehouse, paths.published,
                               keep=published_versions_kept(),
                               mask_personal_data=mask_personal_data())
    info = result.metadata()
    context.log.info(f"published {paths.published}: {info['rows']:,} rows in "
                     f"{len(info['tables'])} tables")
    return dg.MaterializeResult(metadata={
        **{k: v for k, v in info.items() if v is not None and k != "published_path"},
        "path": dg.MetadataValue.path(str(paths.published)),
    })
