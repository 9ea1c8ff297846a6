"""The GX gate as blocking Dagster asset checks, in two gates.

* `gx_raw_gate__<schema>__<TABLE>`: one blocking check per raw table of the landing
  contract, on that raw table's own asset, right after its extract. A failed raw
  expectation (a truncated export, a systemic share of quarantined rows, a broken
  reference) shows on the raw table's page and stops what is built from it (the
  extracts that reference it, dbt), so nothing downstream is built or published from it.
* `gx_quality_gate`: one blocking check per mart, after dbt; a mart's check fails only
  for its own expectations. It gates the publish asset.

Each runs its suites of expectations/ on the run's days only (lib/gate.py): a raw table's
rows of the window's export days, a mart's rows of the days this run's dbt build
recomputed (the window, or earlier when late data reached back: dbt records the first
recomputed days in intermediate.int_kpi_window, which the marts gate reads), plus the
few earlier days a comparison needs (the previous day's count, the archive as of the
day). A failed `error` expectation stops everything downstream, so yesterday's published
file stays in place; `warn` failures are reported on the check and in the run's log.
"""

import dagster as dg

from dagster_project.defs.dbt.assets import gridaudit_dbt_models
from dagster_project.defs.partitions import window_days
from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib import gate
from dagster_project.lib.settings import report_link
from expectations import MART_TABLES, RAW_TABLES


def _asset_key(table: str) -> dg.AssetKey:
    schema, name = table.split(".", 1)
    return dg.AssetKey([schema, name])


def _gate_spec(table: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "gx_gate",
        asset=_asset_key(table),
        blocking=True,
        description=f"Great Expectations suite of {table} on the run "
        "window (error severity blocks)",
    )


MART_GATE_SPECS = [_gate_spec(table) for table in MART_TABLES]


def _run(
    context: dg.AssetCheckExecutionContext, paths, gate_name: str, specs: list[dg.AssetCheckSpec]
):
    days = window_days(context.op_execution_context.partition_time_window)
    tables = [".".join(spec.asset_key.path) for spec in specs]
    result = gate.run_gate(
        paths.warehouse, days[0], days[-1], paths.reports_dir, gate=gate_name, tables=tables
    )
    (context.log.info if result.passed else context.log.error)(result.summary())
    report_url = report_link(paths.reports_dir, result.report_path)
    for spec, table in zip(specs, tables, strict=True):
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
                # first on the check's page: the verdict and the failures, by table
                "summary": dg.MetadataValue.md(gate.markdown_summary(outcomes, report_url)),
                "gate": gate_name,
                "checked_from": str(result.checked_from or days[0]),
                "expectations": len(outcomes),
                "failed_errors": len(errors),
                "failed_warnings": len(warnings),
                "report": dg.MetadataValue.path(str(result.report_path)),
                "report_url": dg.MetadataValue.url(report_url),
            },
        )


def build_raw_gate(table: str) -> dg.AssetChecksDefinition:
    """The blocking check of one raw table. One check per table, not one over all of them:
    a raw table's extract reads the archives it references (C_MP after C_CONS), so a check
    over several raw tables that blocks would sit both before and after some of them."""
    spec = _gate_spec(table)

    @dg.multi_asset_check(
        specs=[spec],
        name=f"gx_raw_gate__{table.replace('.', '__')}",
        description=f"GX suite and metric checks of {table} over the run "
        "window, after its extract; error severity stops what is "
        "built from it (dbt, the publish)",
    )
    def _raw_gate(context: dg.AssetCheckExecutionContext, gridaudit_paths: GridauditPaths):
        yield from _run(context, gridaudit_paths.paths, "raw", [spec])

    return _raw_gate


raw_gates = [build_raw_gate(table) for table in RAW_TABLES]


@dg.multi_asset_check(
    specs=MART_GATE_SPECS,
    name="gx_quality_gate",
    description="GX suites of the marts over the run window; error severity blocks publishing",
)
def gx_quality_gate(context: dg.AssetCheckExecutionContext, gridaudit_paths: GridauditPaths):
    yield from _run(context, gridaudit_paths.paths, "marts", MART_GATE_SPECS)


def mart_keys() -> list[dg.AssetKey]:
    return sorted(
        (k for k in gridaudit_dbt_models.keys if k.path[0] == "marts"),
        key=lambda k: k.to_user_string(),
    )
