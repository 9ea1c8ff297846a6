"""The fifth source system, `feedback`: the field's answers to the work orders, one asset
per form (docs/work-orders.md section 6; lib/feedback.py).

* raw_feedback/WORKBOOK_FEEDBACK: the returned workbooks of `<landing>/feedback/<day>/`;
* raw_feedback/R_AUDIT_FEEDBACK: the platform's export, through the landing loader like
  every source table (its encoding, UTF-8 or GBK, told apart per file).

Both tables exist after the step even on days without feedback (dbt reads them). A
workbook that cannot be read fails this step naming the file, after every other workbook
of the window is loaded.
"""

import dagster as dg
import duckdb

from dagster_project.defs.extract.assets import _column_schema, _files_table, build_extract_asset
from dagster_project.defs.partitions import daily_partitions, single_run, window_days
from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib import feedback
from dagster_project.lib.extract import LandingFileError
from dagster_project.lib.landing_contract import R_AUDIT_FEEDBACK, SYSTEMS, WORKBOOK_FEEDBACK
from dagster_project.lib.settings import apply_duckdb_settings

platform_feedback = build_extract_asset(R_AUDIT_FEEDBACK, load=feedback.load_platform_file)


@dg.asset(
    key=[WORKBOOK_FEEDBACK.schema, WORKBOOK_FEEDBACK.name],
    group_name=WORKBOOK_FEEDBACK.system,
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    kinds={"duckdb", "excel"},
    description=f"{WORKBOOK_FEEDBACK.comment} ({SYSTEMS['feedback']}): every *.xlsx of "
    "landing/feedback/<day>/, one row per answered line of sheet 稽查工单",
    metadata={
        "dagster/column_schema": _column_schema(WORKBOOK_FEEDBACK),
        "table_kind": WORKBOOK_FEEDBACK.kind,
    },
)
def workbook_feedback(context: dg.AssetExecutionContext, gridaudit_paths: GridauditPaths):
    paths = gridaudit_paths.paths
    loaded, failures, quiet_days = [], [], []
    unanswered = 0
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.warehouse)) as con:
        apply_duckdb_settings(con)
        for day in window_days(context.partition_time_window):
            try:
                result = feedback.load_workbooks(con, paths.landing, day)
            except feedback.WorkbookDayError as exc:
                context.log.error(str(exc))
                failures.append(str(exc))
                result = exc.result  # the day's other workbooks are loaded
            except LandingFileError as exc:
                context.log.error(str(exc))
                failures.append(str(exc))
                continue
            if result is None:
                quiet_days.append(day.isoformat())
                continue
            loaded += result.files
            unanswered += result.unanswered
            for file in result.files:
                if file.rows_rejected:
                    context.log.warning(
                        f"{file.source_file}: {file.rows_rejected} of {file.rows_read} "
                        f"lines quarantined ({file.rejected_reasons})"
                    )
    if failures:
        raise dg.Failure(
            description="; ".join(failures), metadata={"failed_files": "\n".join(failures)}
        )
    rows_read = sum(r.rows_read for r in loaded)
    rows_rejected = sum(r.rows_rejected for r in loaded)
    context.log.info(
        f"{WORKBOOK_FEEDBACK.schema}.{WORKBOOK_FEEDBACK.name}: {len(loaded)} workbook(s), "
        f"{rows_read:,} lines read, {rows_rejected:,} quarantined, {unanswered:,} unanswered"
    )
    return dg.MaterializeResult(
        metadata={
            "files": dg.MetadataValue.md(_files_table(loaded)),
            "file_count": len(loaded),
            "days_without_feedback": ", ".join(quiet_days) or "none",
            "rows_read": rows_read,
            "dagster/row_count": sum(r.rows_loaded for r in loaded),
            "rows_quarantined": rows_rejected,
            "unanswered_lines": unanswered,
            "checksums": {r.source_file: r.sha256 for r in loaded},
        }
    )


feedback_assets = [workbook_feedback, platform_feedback]
