"""Write-audit-publish: the marts, once the gate has passed, become the published file.

A new DuckDB file is written next to <workdir>/published/gridaudit.duckdb and renamed over
it in one step (lib/publish.py); BI tools open only that file, read-only.

The publish is incremental: the day-keyed marts' days from the first day the run
recomputed on are re-copied from the warehouse into a copy of the published file, earlier
days are kept; tables without a day column (current-state marts, unit_kpis, code tables)
are copied whole. A run recomputes days before its own window (late back-filled readings,
late payments charged to earlier days): dbt derives that first day once for the run in
intermediate.int_kpi_window (day_facts_from_date = the audit window's first day,
event_facts_from_date = the earliest late payment / completion), which publish reads, minus
GRIDAUDIT_PUBLISH_LOOKBACK_DAYS (default 0). publish's safety net (row counts per earlier
day) and any doubt fall back to a full copy, reported as `mode` / `fallback_reason`.
"""

import datetime as dt

import dagster as dg
import duckdb

from dagster_project.defs.partitions import daily_partitions, single_run, window_days
from dagster_project.defs.quality.checks import mart_keys
from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib import publish as publisher
from dagster_project.lib import report as run_report
from dagster_project.lib.settings import (
    mask_personal_data,
    publish_lookback_days,
    published_versions_kept,
    report_link,
)


@dg.asset(
    key=["published", "gridaudit_duckdb"],
    group_name="publish",
    deps=mart_keys(),
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    kinds={"duckdb"},
    description="The published DuckDB file BI tools read: every marts.* table and the "
    "bi.* views over them (Chinese names and comments), replaced atomically after the "
    "blocking GX gate passed.",
)
def published_marts(context: dg.AssetExecutionContext, gridaudit_paths: GridauditPaths):
    paths = gridaudit_paths.paths
    from_date = _from_date(context, paths.warehouse)
    result = publisher.publish(
        paths.warehouse,
        paths.published,
        keep=published_versions_kept(),
        mask_personal_data=mask_personal_data(),
        from_date=from_date,
    )
    info = result.metadata()
    context.log.info(
        f"published {paths.published} ({result.mode}"
        + (f" from {from_date}" if result.mode == "incremental" else "")
        + f"): {info['rows']:,} rows in {len(info['tables'])} tables"
    )
    for warning in result.warnings:
        context.log.warning(warning)
    if result.fallback_reason:
        context.log.warning(
            f"incremental publish from {from_date} fell back to a full "
            f"copy: {result.fallback_reason}"
        )
    report_metadata = _write_report(context, paths)
    return dg.MaterializeResult(
        metadata={
            **report_metadata,
            **{
                k: v
                for k, v in info.items()
                if v is not None and k not in ("published_path", "fallback_reason", "warnings")
            },
            "fallback_reason": info["fallback_reason"] or "",
            "warnings": "; ".join(info["warnings"]),
            "from_date": str(from_date) if from_date else "",
            "path": dg.MetadataValue.path(str(paths.published)),
            "size": f"{info['size_bytes'] / 1e6:,.1f} MB",
            "tables_rows": dg.MetadataValue.md(
                "| 表 table | 行 rows |\n|---|---:|\n"
                + "\n".join(f"| marts.{t} | {n:,} |" for t, n in sorted(info["tables"].items()))
            ),
            "gate": dg.MetadataValue.md(_gate_summary(context)),
        }
    )


def _gate_summary(context: dg.AssetExecutionContext) -> str:
    """The verdicts of this run's GX checks (raw and marts gates) that let this publish
    happen, with the tables that had warnings: what "published" rested on."""
    records = context.instance.get_records_for_run(
        run_id=context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000
    ).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    gx = [e for e in evaluations if e.check_name == "gx_gate"]
    if not gx:
        return "no GX check ran in this run"
    warned = [
        e for e in gx if e.metadata.get("failed_warnings") and e.metadata["failed_warnings"].value
    ]
    lines = [
        f"{sum(e.passed for e in gx)} of {len(gx)} tables passed the GX gate; "
        f"{len(warned)} with warnings"
    ]
    if warned:
        lines += ["", "| 表 table | 警告 warnings | 检查数 expectations |", "|---|---:|---:|"]
        lines += [
            f"| {e.asset_key.to_user_string()} | {e.metadata['failed_warnings'].value} | "
            f"{e.metadata['expectations'].value} |"
            for e in sorted(warned, key=lambda e: e.asset_key.to_user_string())
        ]
    return "\n".join(lines)


def _write_report(context: dg.AssetExecutionContext, paths) -> dict:
    """The run's HTML report from the file just published (lib/report.py). A failure is
    logged and shown in the metadata, not raised: the new file is already in place, and
    failing the asset would tell the CLI and the UI that the publish did not happen."""
    first = last = None
    if context.has_partition_key or context.has_partition_key_range:
        days = window_days(context.partition_time_window)
        first, last = days[0], days[-1]
    try:
        report = run_report.build_report(paths.published, paths.reports_dir, first, last)
    except Exception as error:  # reported, the publish itself succeeded
        context.log.error(f"the HTML report was not written: {type(error).__name__}: {error}")
        # latest.html must not show an older run as this one's (the CLI prints it)
        (paths.reports_dir / "latest.html").unlink(missing_ok=True)
        return {"report_error": f"{type(error).__name__}: {error}"}
    context.log.info(f"report {report.path} ({report.seconds:.2f} s)")
    return {
        "report": dg.MetadataValue.path(str(report.path)),
        "report_url": dg.MetadataValue.url(report_link(paths.reports_dir, report.path)),
        "report_latest": dg.MetadataValue.path(str(report.latest_path)),
        "report_summary": dg.MetadataValue.md(report.markdown()),
        "report_seconds": round(report.seconds, 3),
    }


def _from_date(context: dg.AssetExecutionContext, warehouse) -> dt.date | None:
    """First day re-copied: the first day the run recomputed (int_kpi_window, see the
    module docstring), at the latest the window's first day, minus the lookback margin.
    None (a full copy) when incremental publishing is off or the window table is missing."""
    lookback = publish_lookback_days()
    # a run of one day or of a range of days (single-run backfill) has a time window
    if lookback is None or not (context.has_partition_key or context.has_partition_key_range):
        return None
    first = window_days(context.partition_time_window)[0]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not con.execute(
            "select count(*) from duckdb_tables() where schema_name = "
            "'intermediate' and table_name = 'int_kpi_window'"
        ).fetchone()[0]:
            return None
        found = con.execute(
            "select least(day_facts_from_date, event_facts_from_date) "
            "from intermediate.int_kpi_window"
        ).fetchone()
    if not found or found[0] is None:
        return None
    return min(first, found[0]) - dt.timedelta(days=lookback)
