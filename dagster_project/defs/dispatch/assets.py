"""Dispatch (工作任务派发): the window's work-order lists for the field, once the marts
gate has passed (docs/work-orders.md section 5; lib/dispatch_lists.py).

Like the publish it depends on every mart, so the blocking GX gate on the marts stops it:
no list goes out from a warehouse the gate refused. It also closes the feedback's
bookkeeping that needs the orders: dbt's rejected answers (an unknown 工单编号, an answer
to an archived order) are copied into quarantine.rejected_rows, its warnings (locked cells
edited) are logged. Each run reports the loop's numbers of its window: orders dispatched,
answered, overdue, archived.
"""

import dagster as dg
import duckdb

from dagster_project.defs.dbt.assets import gridaudit_dbt_models
from dagster_project.defs.partitions import daily_partitions, single_run, window_days
from dagster_project.defs.quality.checks import mart_keys
from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib import dispatch_lists, feedback
from dagster_project.lib.settings import apply_duckdb_settings

WARNINGS_LOGGED = 50  # the first warnings are logged one by one, the rest counted


def _upstream() -> list[dg.AssetKey]:
    """Every mart (the gate) and the audit tables of the loop the step reads."""
    reads = {
        tuple(t.split("."))
        for t in (
            dispatch_lists.LINES_TABLE,
            feedback.REJECTIONS_TABLE,
            feedback.WARNINGS_TABLE,
        )
    }
    audit = [k for k in gridaudit_dbt_models.keys if tuple(k.path) in reads]
    return sorted({*mart_keys(), *audit}, key=lambda k: k.to_user_string())


@dg.asset(
    key="dispatch_lists",
    group_name="dispatch",
    deps=_upstream(),
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    kinds={"excel", "csv"},
    description="The work-order lists of the window's days, one per receiving unit and day: "
    "<workdir>/dispatch/<day>/<ORG_NO>.xlsx (sheet 稽查工单) and .csv, written after the "
    "blocking GX gate on the marts passed; dbt's feedback rejections into quarantine.",
)
def dispatch_lists_asset(context: dg.AssetExecutionContext, gridaudit_paths: GridauditPaths):
    paths = gridaudit_paths.paths
    days = window_days(context.partition_time_window)
    with duckdb.connect(str(paths.warehouse)) as con:
        apply_duckdb_settings(con)
        try:
            written = dispatch_lists.write_lists(
                con, paths.workdir, days, problem_codes=_problem_codes(con)
            )
            rejected = feedback.copy_dbt_rejections(con, days)
            warnings = feedback.feedback_warnings(con, days)
            counts = dispatch_lists.loop_counts(con, days[0], days[-1])
        except LookupError as exc:  # a table of the loop's dbt models is missing
            raise dg.Failure(description=str(exc)) from exc
    for row in warnings[:WARNINGS_LOGGED]:
        context.log.warning(f"feedback: {_warning_text(row)}")
    if len(warnings) > WARNINGS_LOGGED:
        context.log.warning(
            f"feedback: {len(warnings) - WARNINGS_LOGGED} more warnings "
            f"in {feedback.WARNINGS_TABLE}"
        )
    if rejected:
        context.log.warning(
            f"feedback: {sum(rejected.values())} answer(s) rejected by the orders' state "
            f"({rejected}), see quarantine.rejected_rows"
        )
    units = len({(f.list_date, f.org_no) for f in written})
    folder = dispatch_lists.dispatch_dir(paths.workdir)
    context.log.info(
        f"{units} list(s) of {sum(f.lines for f in written)} lines in {folder}; "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    return dg.MaterializeResult(
        metadata={
            **{f"orders_{k}": dg.MetadataValue.int(v) for k, v in counts.items()},
            "lists_written": dg.MetadataValue.int(units),
            "list_lines": dg.MetadataValue.int(sum(f.lines for f in written)),
            "feedback_rejected": dg.MetadataValue.int(sum(rejected.values())),
            "feedback_warnings": dg.MetadataValue.int(len(warnings)),
            "loop": dg.MetadataValue.md(_loop_table(counts, days)),
            "lists": dg.MetadataValue.md(_lists_table(written)),
            "path": dg.MetadataValue.path(str(folder)),
        }
    )


def _warning_text(row: dict) -> str:
    """A warning of audit.work_order_feedback_warnings: its file and text (`warning`), or
    every column when it has no such text."""
    if row.get("warning"):
        where = row.get("source_file")
        return f"{where}: {row['warning']}" if where else str(row["warning"])
    return ", ".join(f"{k}={v}" for k, v in row.items() if v is not None)


def _problem_codes(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """问题代码 -> 问题名称 of the code table (marts.dim_problem_code), for 代码表."""
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'marts' AND table_name = 'dim_problem_code'"
        ).fetchall()
    }
    if not {"problem_code", "problem_name"} <= columns:
        return None
    return dict(
        con.execute(
            "SELECT problem_code, problem_name FROM marts.dim_problem_code ORDER BY 1"
        ).fetchall()
    )


def _loop_table(counts: dict[str, int], days) -> str:
    window = f"{days[0]} .. {days[-1]}" if len(days) > 1 else str(days[0])
    rows = [
        f"| {name} | {counts[name]} | {meaning} |"
        for name, meaning in dispatch_lists.LOOP_COUNTS.items()
    ]
    return "\n".join(
        [f"Work orders, {window}", "", "| orders | count | meaning |", "|---|---|---|", *rows]
    )


def _lists_table(written) -> str:
    if not written:
        return "no lists (no order was dispatched or became overdue in the window)"
    rows = [
        f"| {f.list_date} | {f.org_no} | {f.lines} | {f.xlsx.parent.name}/{f.xlsx.name} |"
        for f in written
    ]
    return "\n".join(["| day | unit | lines | file |", "|---|---|---|---|", *rows])
