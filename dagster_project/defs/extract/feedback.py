"""The fifth source system, `feedback`: the field's answers to the work orders, one asset
per form (docs/work-orders.md section 6; lib/feedback.py).

* raw_feedback/WORKBOOK_FEEDBACK: the returned workbooks of `<landing>/feedback/<day>/`;
* raw_feedback/R_AUDIT_FEEDBACK: the platform's export, through the landing loader like
  every source table (its encoding, UTF-8 or GBK, told apart per file).

Both tables exist after the step even on days without feedback (dbt reads them). A
workbook that cannot be read fails this step naming the file, after every other workbook
of the window is loaded.
"""

from dagster_project.defs.extract.assets import DayLoad, build_extract_asset
from dagster_project.lib import feedback
from dagster_project.lib.landing_contract import R_AUDIT_FEEDBACK, WORKBOOK_FEEDBACK


def _load_platform_day(con, landing, day) -> DayLoad | None:
    result = feedback.load_platform_file(con, landing, day)
    return None if result is None else DayLoad([result])


def _load_workbook_day(con, landing, day) -> DayLoad | None:
    """Every workbook of the day; one that cannot be read is a failure of the day, after
    the others are loaded."""
    try:
        result = feedback.load_workbooks(con, landing, day)
    except feedback.WorkbookDayError as exc:
        return DayLoad(exc.result.files, {"unanswered_lines": exc.result.unanswered}, [str(exc)])
    if result is None:
        return None
    return DayLoad(result.files, {"unanswered_lines": result.unanswered})


platform_feedback = build_extract_asset(R_AUDIT_FEEDBACK, load=_load_platform_day)
workbook_feedback = build_extract_asset(
    WORKBOOK_FEEDBACK,
    load=_load_workbook_day,
    kinds=frozenset({"duckdb", "excel"}),
    landing_files="every *.xlsx of landing/feedback/<day>/, one row per answered line of "
    "sheet 稽查工单",
)

feedback_assets = [workbook_feedback, platform_feedback]
