"""Work-order lists for the field (清单形式发单, docs/work-orders.md section 5). Dagster-free.

For every list day D and receiving unit with at least one line, dbt's
`audit.work_order_list_lines` (one row per list line: `list_date`, `list_org_no` and the
fifteen locked fields of work_order_layout.LOCKED_COLUMNS, lower-cased) becomes

    <workdir>/dispatch/<YYYY-MM-DD>/<ORG_NO>.xlsx   the list the crew fills in
    <workdir>/dispatch/<YYYY-MM-DD>/<ORG_NO>.csv    the same rows (UTF-8 with BOM)

The workbook (xlsxwriter; a large list in constant_memory mode): sheet 稽查工单 with
the headers of work_order_layout.HEADERS, the fifteen order columns filled and locked, the
eight answer columns unlocked, with dropdowns (是否属实, 整改结果) that reference the hidden
sheet 代码表, date validation and formats, a frozen header and an autofilter; the sheet is
protected without a password (against accidental edits, not against intent: an edited
locked cell is reported by dbt's feedback warnings) and still allows filtering, sorting
and resizing. The lists carry the customer's real name and address (the crew must find
the customer); only the published BI file is masked.

Re-running a day rewrites its lists identically: the day's folder is written anew next to
the old one and swapped in, and the workbook's creation time is the list day, so the same
lines give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import xlsxwriter

from dagster_project.lib import work_order_layout as layout

LINES_TABLE = "audit.work_order_list_lines"
LINE_COLUMNS = ("list_date", "list_org_no", *(c.lower() for c in layout.LOCKED_COLUMNS))

DATE_COLUMNS = {"DISPATCH_DATE", "ANSWER_DEADLINE", "FIRST_DETECTED_DATE", "FEEDBACK_DATE"}
DATETIME_COLUMNS = {"RECTIFY_START_TIME"}
WIDTHS = {
    "WORK_ORDER_NO": 24,
    "STATION_NAME": 16,
    "TG_NAME": 18,
    "CONS_NAME": 14,
    "ELEC_ADDR": 28,
    "PROBLEM_NAME": 18,
    "PROBLEM_DESC": 48,
    "SUGGESTED_ACTION": 32,
    "CHECK_RESULT": 30,
    "OTHER_FINDINGS": 24,
    "RECTIFY_START_TIME": 17,
    "RECTIFY_APP_NO": 20,
}
DEFAULT_WIDTH = 12
LARGE_LIST = 5_000  # a list of more rows is written in constant_memory mode

# Where the dropdowns' lists are on the hidden sheet 代码表 (column letters)
CODE_TABLES = (
    ("是否属实", "IS_CONFIRMED", layout.IS_CONFIRMED, "A"),
    ("整改结果", "RECTIFY_RESULT", layout.RECTIFY_RESULT, "D"),
)
PROBLEM_CODE_COLUMN = "G"

INPUT_MESSAGES = {
    "CHECK_RESULT": ("现场核查情况", "填写现场核查的情况"),
    "IS_CONFIRMED": (
        "是否属实",
        "请选择: 属实 / 不属实。属实须填写整改流程发起时间、整改结果、"
        "营销系统整改工单编号、现场核查人",
    ),
    "OTHER_FINDINGS": ("是否发现疑似问题以外的情况", "自由填写; 无则填“无”"),
    "RECTIFY_START_TIME": (
        "整改流程发起时间",
        "日期 (或日期 时间), 如 2026-09-05 或 2026-09-05 10:30",
    ),
    "RECTIFY_RESULT": ("整改结果", "请选择: 已整改 / 整改中 / 无法整改"),
    "RECTIFY_APP_NO": ("营销系统整改工单编号", "营销业务应用系统中整改流程的工单编号"),
    "CHECKER": ("现场核查人", "现场核查人姓名"),
    "FEEDBACK_DATE": ("反馈日期", "日期, 如 2026-09-05"),
}


@dataclass(frozen=True)
class ListFile:
    list_date: dt.date
    org_no: str
    xlsx: Path
    csv: Path
    lines: int


def dispatch_dir(workdir: Path) -> Path:
    return workdir / "dispatch"


def day_dir(workdir: Path, day: dt.date) -> Path:
    return dispatch_dir(workdir) / f"{day:%Y-%m-%d}"


def read_lines(
    con: duckdb.DuckDBPyConnection, days: list[dt.date], table: str = LINES_TABLE
) -> dict[tuple[dt.date, str], list[dict]]:
    """The list lines of `days`, per (list day, unit), in list order: the table's
    `line_seq` when it has one (dbt: the unit's own orders, then its 超期督办 lines), else
    dispatch day, then number."""
    schema, name = table.split(".", 1)
    present = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    }
    if not present:
        raise LookupError(f"{table} does not exist: the dbt build did not make the list lines")
    missing = [c for c in LINE_COLUMNS if c not in present]
    if missing:
        raise LookupError(f"{table} lacks the column(s) {', '.join(missing)}")
    if not days:
        return {}
    columns = ", ".join(LINE_COLUMNS)
    order = "line_seq, " if "line_seq" in present else ""
    rows = con.execute(
        f"SELECT {columns} FROM {table} WHERE list_date BETWEEN ? AND ? "
        f"ORDER BY list_date, list_org_no, {order}dispatch_date, work_order_no",
        [min(days), max(days)],
    ).fetchall()
    wanted = set(days)
    lines: dict[tuple[dt.date, str], list[dict]] = {}
    for row in rows:
        line = dict(zip(LINE_COLUMNS, row, strict=True))
        day = _date(line["list_date"])
        if day in wanted:
            lines.setdefault((day, str(line["list_org_no"])), []).append(line)
    return lines


def write_lists(
    con: duckdb.DuckDBPyConnection,
    workdir: Path,
    days: list[dt.date],
    *,
    problem_codes: dict[str, str] | None = None,
    table: str = LINES_TABLE,
) -> list[ListFile]:
    """Write the lists of every day of `days` (each day's old lists removed first) and
    return what was written. `problem_codes` (code -> name) fills the code table of
    问题代码 on 代码表; by default the codes of the day's lines."""
    lines = read_lines(con, days, table)
    written: list[ListFile] = []
    for day in sorted(set(days)):
        units = sorted(org for d, org in lines if d == day)
        target = day_dir(workdir, day)
        partial = target.with_name(f".{target.name}.partial")
        if partial.exists():
            shutil.rmtree(partial)  # left by a run that stopped half-way
        if units:
            partial.mkdir(parents=True)
        for org in units:
            rows = lines[(day, org)]
            codes = problem_codes or {
                str(r["problem_code"]): str(r["problem_name"] or "") for r in rows
            }
            xlsx, csv_path = partial / f"{org}.xlsx", partial / f"{org}.csv"
            write_workbook(xlsx, rows, day, org, codes)
            write_csv(csv_path, rows)
            written.append(
                ListFile(day, org, target / xlsx.name, target / csv_path.name, len(rows))
            )
        # swap the day in: the old lists go, the new ones come (a day without lines has no
        # folder; its old lists are removed too)
        if target.exists():
            shutil.rmtree(target)
        if units:
            partial.rename(target)
    return written


def _date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _cell_text(column: str, value) -> str:
    """A locked field as text (the CSV, and text cells of the workbook)."""
    if value is None:
        return ""
    if column in DATE_COLUMNS:
        return _date(value).isoformat()
    return str(value)


def write_csv(path: Path, rows: list[dict]) -> None:
    """The list as CSV: the 23 headers, the locked fields filled, the answer empty. UTF-8
    with BOM, so that Excel opens the Chinese text right."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(layout.HEADERS)
        for row in rows:
            out.writerow(
                [_cell_text(c, row[c.lower()]) for c in layout.LOCKED_COLUMNS]
                + [""] * len(layout.ANSWER_COLUMNS)
            )


def write_workbook(
    path: Path, rows: list[dict], day: dt.date, org_no: str, problem_codes: dict[str, str]
) -> None:
    """One unit's list of one day as the workbook of the layout (see the module doc)."""
    # A list is one unit's orders of one day: small, written in memory (2.5x faster than
    # constant_memory's temporary files, and a run writes a list per unit and day). A
    # large list streams its rows to disk instead; rows are written in order either way,
    # as constant_memory requires.
    mode = {"in_memory": True} if len(rows) <= LARGE_LIST else {"constant_memory": True}
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            **mode,
            # text stays text: an address starting with '=' is no formula, a URL no link,
            # a number-like code keeps its leading zeros
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    # a fixed creation time: the same lines give the same bytes (xlsxwriter fixes the
    # zip entries' times itself)
    workbook.set_properties(
        {
            "title": f"{layout.SHEET} {org_no} {day:%Y-%m-%d}",
            "author": "gridaudit",
            "created": dt.datetime.combine(day, dt.time()),
        }
    )
    base = {"font_name": "宋体", "font_size": 10, "valign": "top"}
    fmt = {
        "header": workbook.add_format(
            {**base, "bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True}
        ),
        "answer_header": workbook.add_format(
            {**base, "bold": True, "bg_color": "#FFF2CC", "border": 1, "text_wrap": True}
        ),
        "text": workbook.add_format({**base, "num_format": "@"}),
        "wrap": workbook.add_format({**base, "num_format": "@", "text_wrap": True}),
        "date": workbook.add_format({**base, "num_format": "yyyy-mm-dd"}),
        "int": workbook.add_format({**base, "num_format": "0"}),
        "answer": workbook.add_format(
            {**base, "num_format": "@", "locked": False, "bg_color": "#FFF2CC", "border": 1}
        ),
        "answer_date": workbook.add_format(
            {
                **base,
                "num_format": "yyyy-mm-dd",
                "locked": False,
                "bg_color": "#FFF2CC",
                "border": 1,
            }
        ),
        "answer_datetime": workbook.add_format(
            {
                **base,
                "num_format": "yyyy-mm-dd hh:mm",
                "locked": False,
                "bg_color": "#FFF2CC",
                "border": 1,
            }
        ),
    }
    sheet = workbook.add_worksheet(layout.SHEET)
    codes = workbook.add_worksheet(layout.CODE_SHEET)
    for i, column in enumerate(layout.COLUMNS):
        sheet.set_column(i, i, WIDTHS.get(column, DEFAULT_WIDTH))
    sheet.set_row(0, 30)
    for i, (header, column) in enumerate(layout.HEADER_COLUMNS):
        answer = column in layout.ANSWER_COLUMNS
        sheet.write_string(0, i, header, fmt["answer_header" if answer else "header"])
    for r, row in enumerate(rows, start=1):
        for i, column in enumerate(layout.COLUMNS):
            if column in layout.ANSWER_COLUMNS:
                kind = (
                    "answer_date"
                    if column in DATE_COLUMNS
                    else "answer_datetime"
                    if column in DATETIME_COLUMNS
                    else "answer"
                )
                sheet.write_blank(r, i, None, fmt[kind])
                continue
            value = row[column.lower()]
            if value is None or value == "":
                sheet.write_blank(r, i, None, fmt["text"])
            elif column in DATE_COLUMNS:
                sheet.write_datetime(
                    r, i, dt.datetime.combine(_date(value), dt.time()), fmt["date"]
                )
            elif column == "CONSECUTIVE_DAYS":
                sheet.write_number(r, i, int(value), fmt["int"])
            else:
                style = "wrap" if column in ("PROBLEM_DESC", "SUGGESTED_ACTION") else "text"
                sheet.write_string(r, i, str(value), fmt[style])
    last = max(len(rows), 1)
    col = {c: i for i, c in enumerate(layout.COLUMNS)}
    for header, column, table, letter in CODE_TABLES:
        title, message = INPUT_MESSAGES[column]
        sheet.data_validation(
            1,
            col[column],
            last,
            col[column],
            {
                "validate": "list",
                "source": f"='{layout.CODE_SHEET}'!${letter}$2:${letter}${len(table) + 1}",
                "input_title": title,
                "input_message": message,
                "error_title": header,
                "error_message": f"请从列表中选择: {' / '.join(table)}",
            },
        )
    for column in (*sorted(DATETIME_COLUMNS), "FEEDBACK_DATE"):
        title, message = INPUT_MESSAGES[column]
        sheet.data_validation(
            1,
            col[column],
            last,
            col[column],
            {
                "validate": "date",
                "criteria": "between",
                "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2099, 12, 31),
                "input_title": title,
                "input_message": message,
                "error_title": title,
                "error_message": "请填写日期, 如 2026-09-05",
            },
        )
    for column in ("CHECK_RESULT", "OTHER_FINDINGS", "RECTIFY_APP_NO", "CHECKER"):
        title, message = INPUT_MESSAGES[column]
        sheet.data_validation(
            1,
            col[column],
            last,
            col[column],
            {"validate": "any", "input_title": title, "input_message": message},
        )
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(rows), len(layout.COLUMNS) - 1)
    sheet.protect(
        "",
        {
            "autofilter": True,
            "sort": True,
            "format_columns": True,
            "format_rows": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
        },
    )
    sheet.activate()
    _write_code_sheet(codes, problem_codes, fmt)
    workbook.close()


def _write_code_sheet(sheet, problem_codes: dict[str, str], fmt) -> None:
    """代码表: 是否属实 and 整改结果 (the dropdowns' lists, with the platform export's codes)
    and 问题代码 -> 问题名称. Written row by row (as constant_memory requires)."""
    columns: dict[int, list[str]] = {}

    def put(letter: str, header: tuple[str, str], pairs) -> None:
        first = ord(letter) - ord("A")
        columns[first] = [header[0], *(p[0] for p in pairs)]
        columns[first + 1] = [header[1], *(p[1] for p in pairs)]

    for header, _column, table, letter in CODE_TABLES:
        put(letter, (header, "代码"), list(table.items()))
    put(PROBLEM_CODE_COLUMN, ("问题代码", "问题名称"), sorted(problem_codes.items()))
    height = max(len(v) for v in columns.values())
    for r in range(height):
        for c in sorted(columns):
            if r < len(columns[c]):
                sheet.write_string(r, c, columns[c][r], fmt["header" if r == 0 else "text"])
    sheet.set_column(0, max(columns), 14)
    sheet.protect()
    sheet.hide()


# --------------------------------------------------------------------- the run's counts

LOOP_COUNTS = {
    "dispatched": "orders dispatched on a day of the window",
    "answered": "orders with a valid answer (已反馈) on a day of the window",
    "overdue": "orders overdue on the window's last day: deadline passed, no valid answer yet",
    "archived": "orders archived (已归档) on a day of the window",
    "ineffective": "orders closed 整改无效 on a day of the window",
}


def loop_counts(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date) -> dict[str, int]:
    """The loop's numbers of a run's window, from marts.work_orders and
    marts.work_order_events (docs/work-orders.md section 7)."""

    def events(to_status: str) -> int:
        return con.execute(
            "SELECT count(DISTINCT work_order_no) FROM marts.work_order_events "
            "WHERE to_status = ? AND event_date BETWEEN ? AND ?",
            [to_status, first, last],
        ).fetchone()[0]

    dispatched, overdue = con.execute(
        """SELECT count(*) FILTER (WHERE dispatch_date BETWEEN $first AND $last),
                  count(*) FILTER (WHERE dispatch_date <= $last AND answer_deadline < $last
                                   AND (first_answer_date IS NULL OR first_answer_date > $last))
           FROM marts.work_orders""",
        {"first": first, "last": last},
    ).fetchone()
    return {
        "dispatched": dispatched,
        "answered": events("已反馈"),
        "overdue": overdue,
        "archived": events("已归档"),
        "ineffective": events("整改无效"),
    }
