"""The GX gate as blocking Dagster asset checks.

One multi-asset check runs the suites of expectations/ on the run window's batches
(lib/gate.py) and reports one result per checked table. The checks are blocking: a
failed `error` expectation stops the publish asset downstream, so yesterday's published
file stays in place.
"""


import dagster as dg

from dagster_project.defs.dbt.assets import gridaudit_dbt_models
from dagster_project.defs.partitions import window_days
from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib import gate
from expectations import CHECKED_TABLES


def _asset_key(table: str) -> dg.AssetKey:
    schema, name = table.split(".", 1)
    return dg.AssetKey([schema, name])


GATE_SPECS = [
    dg.AssetCheckSpec("gx_gate", asset=_asset_key(table), blocking=True,
                      description=f"Great Expectations suite of {table} on the run window")
    for table in CHECKED_TABLES
]


@dg.multi_asset_check(specs=GATE_SPECS, name="gx_quality_gate",
                      description="GX suites over the run window; error severity blocks publishing")
def gx_quality_gate(context: dg.AssetCheckExecutionContext, gridaudit_paths: GridauditPaths):
    paths = gridaudit_paths.paths
    days = window_days(context.op_execution_context.partition_time_window)
    result = gate.run_gate(paths.warehouse, days[0], days[-1], paths.reports_dir)
    context.log.info(result.summary())
    for spec in GATE_SPECS:
        table = ".".join(spec.asset_key.path)
        outcomes = result.results_for(table)
        errors = [r for r in outcomes if r.blocking]
        warnings = [r for r in outcomes if not r.success and not r.blocking]
        yield dg.AssetCheckResult(
            check_name=spec.name,
            asset_key=spec.asset_key,
            passed=not errors,
            severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
            description="; ".join(r.message for r in errors + warnings) or "all expectations met",
            metadata={
                "expectations": len(outcomes),
                "failed_errors": len(errors),
                "failed_warnings": len(warnings),
                "report": dg.MetadataValue.path(str(result.report_path)),
                "report_url": dg.MetadataValue.url(result.report_path.as_uri()),
                "failures": dg.MetadataValue.md("\n".join(
                    f"* **{r.severity}** {r.message}" for r in errors + warnings) or "none"),
            },
        )


def mart_keys() -> list[dg.AssetKey]:
    return sorted((k for k in gridaudit_dbt_models.keys if k.path[0] == "marts"),
                  key=lambda k: k.to_user_string())
