"""The fifth source system `feedback` (docs/work-orders.md section 6) on hand-made input:
returned workbooks (written with xlsxwriter in the list's layout, filled programmatically)
and the platform's CSV export in UTF-8 and GBK. Good answers land in raw_feedback, every
mistake is quarantined with its file, sheet row and a reason naming the sheet, a workbook
that cannot be read fails naming the file after the others are loaded, and loading a day
again replaces exactly that day."""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import xlsxwriter

from dagster_project.lib import feedback
from dagster_project.lib import work_order_layout as layout
from dagster_project.lib.extract import LandingFileError
from dagster_project.lib.landing_contract import R_AUDIT_FEEDBACK, WORKBOOK_FEEDBACK

DAY = dt.date(2026, 9, 6)
WO1 = layout.work_order_no(dt.date(2026, 9, 1), "T01", "T01|0001")
WO2 = layout.work_order_no(dt.date(2026, 9, 1), "L01", "L01|TG01")
WO3 = layout.work_order_no(dt.date(2026, 9, 2), "M02", "M02|0003")


def order(no: str, cons_no="0001") -> list:
    """The fifteen locked cells of a list line, as the dispatch writes them."""
    return [
        no,
        dt.date(2026, 9, 1),
        dt.date(2026, 9, 4),
        "城关供电所",
        "TG01",
        "幸福一号台区",
        cons_no,
        "张三",
        "幸福路1号",
        no[10:13],
        "疑似窃电",
        "日电量连续3天为0, 台区线损率12.5%",
        "现场核查计量装置",
        dt.date(2026, 8, 30),
        3,
    ]


def answer(
    check="现场核查属实",
    confirmed="属实",
    other="无",
    start=dt.datetime(2026, 9, 5, 10, 30),
    result="已整改",
    app_no="2609050001",
    checker="李四",
    day=dt.date(2026, 9, 5),
) -> list:
    return [check, confirmed, other, start, result, app_no, checker, day]


def write_xlsx(path: Path, rows, *, sheet=layout.SHEET, header=layout.HEADERS) -> Path:
    """A returned workbook: the header, then each row (None = a blank sheet row); dates are
    written as date cells, as Excel stores what the crew types into a date cell."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(sheet)
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    time_fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    ws.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row or []):
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value, time_fmt)
            elif isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_fmt)
            elif value is None or value == "":
                continue
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, value)
    book.add_worksheet(layout.CODE_SHEET).hide()
    book.close()
    return path


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


@pytest.fixture
def landing(tmp_path) -> Path:
    return tmp_path / "landing"


def raw(con, table=WORKBOOK_FEEDBACK, columns="_line_number, WORK_ORDER_NO"):
    return con.execute(
        f'SELECT {columns} FROM {table.schema}."{table.name}" '
        "ORDER BY _export_date, _source_file, _line_number"
    ).fetchall()


def count(con, table) -> int:
    return con.execute(f'SELECT count(*) FROM {table.schema}."{table.name}"').fetchone()[0]


def quarantine(con):
    return con.execute(
        "SELECT table_name, export_date, source_file, line_number, raw_line, reason "
        "FROM quarantine.rejected_rows ORDER BY source_file, line_number"
    ).fetchall()


def workbook_of_mistakes(landing: Path) -> Path:
    rows = [
        order(WO1) + answer(),  # 2: good, 属实 with the four fields, date and datetime cells
        order(WO2) + answer(confirmed="不属实", start="", result="", app_no="", day="2026/9/6"),
        order(WO3) + [""] * 8,  # 4: an unanswered line of the list: skipped
        [""] + order(WO1)[1:] + answer(),  # 5: no 工单编号
        order(WO1) + answer(confirmed="是"),  # 6: 是否属实 outside its list
        order(WO1) + answer(result="已完成"),  # 7: 整改结果 outside its list
        order(WO1) + answer(app_no="", checker=""),  # 8: 属实 without two of the four
        order(WO1) + answer(day="昨天"),  # 9: a date that is no date
        order(WO1) + answer(start="2026-02-30 08:00"),  # 10: no such day
        None,  # 11: a blank row
        order(WO3, cons_no=3712345678) + answer(result="整改中", start="2026-09-05"),  # 12
        order(WO2) + ["只填了核查情况", "", "", "", "", "", "", ""],  # 13: no 是否属实
    ]
    return write_xlsx(landing / "feedback" / f"{DAY}" / "城关供电所.xlsx", rows)


def test_good_rows_load_and_every_mistake_is_quarantined_with_file_sheet_and_row(con, landing):
    workbook_of_mistakes(landing)
    result = feedback.load_workbooks(con, landing, DAY)
    rel = f"feedback/{DAY}/城关供电所.xlsx"
    assert [(f.source_file, f.rows_read, f.rows_loaded, f.rows_rejected) for f in result.files] == [
        (rel, 11, 3, 7)
    ]
    assert result.unanswered == 1
    assert raw(con) == [(2, WO1), (3, WO2), (12, WO3)]
    good = raw(
        con,
        columns="DISPATCH_DATE, CONS_NO, CONSECUTIVE_DAYS, IS_CONFIRMED, RECTIFY_START_TIME, "
        "RECTIFY_RESULT, FEEDBACK_DATE, SHEET_NAME, _export_date, _source_file",
    )
    assert good == [
        ("2026-09-01", "0001", "3", "属实", "2026-09-05 10:30:00", "已整改", "2026-09-05",
         layout.SHEET, DAY, rel),
        ("2026-09-01", "0001", "3", "不属实", None, None, "2026-09-06", layout.SHEET, DAY, rel),
        # a customer number typed into a general cell comes back as a whole number
        ("2026-09-01", "3712345678", "3", "属实", "2026-09-05", "整改中", "2026-09-05",
         layout.SHEET, DAY, rel),
    ]  # fmt: skip
    rejected = quarantine(con)
    assert [(r[0], r[1], r[2], r[3]) for r in rejected] == [
        ("WORKBOOK_FEEDBACK", DAY, rel, line) for line in (5, 6, 7, 8, 9, 10, 13)
    ]
    reasons = {r[3]: r[5] for r in rejected}
    assert reasons[5] == "稽查工单!A5 工单编号 (WORK_ORDER_NO): empty"
    assert reasons[6] == "稽查工单!Q6 是否属实 (IS_CONFIRMED): not one of 属实/不属实 (是)"
    assert reasons[7] == (
        "稽查工单!T7 整改结果 (RECTIFY_RESULT): not one of 已整改/整改中/无法整改 (已完成)"
    )
    assert reasons[8].startswith("稽查工单!Q8 是否属实 (IS_CONFIRMED): 属实 requires ")
    assert reasons[8].endswith("empty: 营销系统整改工单编号, 现场核查人")
    assert reasons[9] == "稽查工单!W9 反馈日期 (FEEDBACK_DATE): not a date (昨天)"
    assert reasons[10] == (
        "稽查工单!S10 整改流程发起时间 (RECTIFY_START_TIME): not a date (2026-02-30 08:00)"
    )
    assert reasons[13] == (
        "稽查工单!Q13 是否属实 (IS_CONFIRMED): empty, but the row carries an answer"
    )
    # the row's text, every cell joined
    raw_line = {r[3]: r[4] for r in rejected}[6]
    assert raw_line.startswith(f"{WO1},2026-09-01,2026-09-04,城关供电所,TG01,")
    assert ",是,无,2026-09-05 10:30:00,已整改,2609050001,李四,2026-09-05" in raw_line
    assert con.execute(
        "SELECT system, table_name, export_date, source_file, rows_read, rows_loaded, "
        "rows_rejected FROM meta.extract_files"
    ).fetchall() == [("feedback", "WORKBOOK_FEEDBACK", DAY, rel, 11, 3, 7)]


def test_the_list_header_is_required_and_a_broken_workbook_fails_naming_it(con, landing):
    folder = landing / "feedback" / f"{DAY}"
    write_xlsx(folder / "a.xlsx", [order(WO1) + answer()])
    write_xlsx(folder / "b.xlsx", [order(WO2) + answer(confirmed="不属实")])
    (folder / "~$a.xlsx").write_bytes(b"Excel's lock file, no workbook")
    feedback.load_workbooks(con, landing, DAY)
    assert raw(con, columns="_source_file") == [
        (f"feedback/{DAY}/a.xlsx",),
        (f"feedback/{DAY}/b.xlsx",),
    ]

    # b.xlsx is now cut off; c has no sheet 稽查工单, d another header, e is good
    (folder / "b.xlsx").write_bytes((folder / "b.xlsx").read_bytes()[:300])
    write_xlsx(folder / "c.xlsx", [order(WO3) + answer()], sheet="Sheet1")
    header = list(layout.HEADERS)
    header[16] = "是否属实(必填)"
    write_xlsx(folder / "d.xlsx", [order(WO3) + answer()], header=header)
    write_xlsx(folder / "e.xlsx", [order(WO3) + answer()])
    with pytest.raises(feedback.WorkbookDayError) as failed:
        feedback.load_workbooks(con, landing, DAY)
    message = str(failed.value)
    assert f"feedback/{DAY}/b.xlsx: cannot be opened as an xlsx workbook" in message
    assert f"feedback/{DAY}/c.xlsx: has no sheet 稽查工单 (sheets: Sheet1, 代码表)" in message
    assert (
        f"feedback/{DAY}/d.xlsx: the header of sheet 稽查工单 differs from the list's "
        "(column Q is 是否属实(必填) (expected 是否属实))"
    ) in message
    assert "a.xlsx" not in message and "e.xlsx" not in message
    assert isinstance(failed.value, LandingFileError)
    # the readable workbooks are loaded, the broken one keeps what it had loaded before
    assert raw(con, columns="_source_file, WORK_ORDER_NO") == [
        (f"feedback/{DAY}/a.xlsx", WO1),
        (f"feedback/{DAY}/b.xlsx", WO2),
        (f"feedback/{DAY}/e.xlsx", WO3),
    ]
    assert [f.source_file for f in failed.value.result.files] == [
        f"feedback/{DAY}/a.xlsx",
        f"feedback/{DAY}/e.xlsx",
    ]
    files = con.execute("SELECT source_file FROM meta.extract_files ORDER BY 1").fetchall()
    assert [f[0].rsplit("/", 1)[1] for f in files] == ["a.xlsx", "b.xlsx", "e.xlsx"]


def test_reloading_a_day_replaces_exactly_that_day(con, landing):
    workbook_of_mistakes(landing)
    other = DAY + dt.timedelta(days=1)
    write_xlsx(landing / "feedback" / f"{other}" / "x.xlsx", [order(WO3) + answer()])
    feedback.load_workbooks(con, landing, DAY)
    feedback.load_workbooks(con, landing, other)

    def state():
        return (
            raw(con, columns="*"),
            [
                r[:-1]
                for r in con.execute(
                    "SELECT * FROM quarantine.rejected_rows ORDER BY ALL"
                ).fetchall()
            ],
            [
                r[:-1]
                for r in con.execute("SELECT * FROM meta.extract_files ORDER BY ALL").fetchall()
            ],
        )

    before = state()
    feedback.load_workbooks(con, landing, DAY)
    assert state() == before
    assert len(before[0]) == 4 and len(before[1]) == 7 and len(before[2]) == 2
    # a workbook taken back out of the day: its rows go, the other day's stay
    (landing / "feedback" / f"{DAY}" / "城关供电所.xlsx").unlink()
    write_xlsx(landing / "feedback" / f"{DAY}" / "new.xlsx", [order(WO1) + answer()])
    feedback.load_workbooks(con, landing, DAY)
    assert raw(con, columns="_export_date, _source_file") == [
        (DAY, f"feedback/{DAY}/new.xlsx"),
        (other, f"feedback/{other}/x.xlsx"),
    ]
    assert quarantine(con) == []


def test_a_day_without_feedback_loads_nothing_and_both_tables_exist(con, landing):
    assert feedback.load_workbooks(con, landing, DAY) is None
    assert feedback.load_platform_file(con, landing, DAY) is None
    for table in (WORKBOOK_FEEDBACK, R_AUDIT_FEEDBACK):
        assert count(con, table) == 0
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = "
        "'raw_feedback' AND table_name = 'R_AUDIT_FEEDBACK' ORDER BY column_index"
    ).fetchall()
    assert [c for c, _ in columns] == [*layout.PLATFORM_COLUMNS, *("_export_date",
                                       "_source_file", "_line_number")]  # fmt: skip
    assert dict(columns)["RECTIFY_START_TIME"] == "TIMESTAMP"
    assert dict(columns)["FEEDBACK_DATE"] == "DATE"


PLATFORM_HEADER = ",".join(layout.PLATFORM_COLUMNS)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_the_platform_export_in_utf8_or_gbk(con, landing, encoding):
    lines = [
        PLATFORM_HEADER,
        f"{WO1},现场核查属实,1,无,2026-09-05 10:30:00,01,2609050001,李四,2026-09-05",
        f"{WO2},台区考核表倍率错误已更正,0,,,,,王五,2026-09-06",
        f"{WO3},属实,1,,2026-09-05,02,2609050002,赵六,2026-09-06",  # a date-only start
        f"{WO3},属实,1,,2026-09-06 08:15,03,2609050002,赵六,2026-09-06",  # no seconds
        f"{WO1},属实,2,,,,,,2026-09-06",  # IS_CONFIRMED outside 1/0
        f"{WO1},属实,1,,2026-09-05 10:00:00,04,2609050001,李四,2026-09-06",  # RECTIFY_RESULT
        f"{WO1},属实,1,,2026-09-05 10:00:00,01,,,2026-09-06",  # 属实 without two of four
        f"{WO1},不属实,0,,,,,李四,2026-13-01",  # no such month
        ",不属实,0,,,,,李四,2026-09-06",  # no number
    ]
    folder = landing / "feedback" / "R_AUDIT_FEEDBACK"
    folder.mkdir(parents=True)
    (folder / f"{DAY}.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    result = feedback.load_platform_file(con, landing, DAY)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (9, 4, 5)
    assert raw(
        con,
        R_AUDIT_FEEDBACK,
        "_line_number, WORK_ORDER_NO, CHECK_RESULT, IS_CONFIRMED, RECTIFY_START_TIME, "
        "RECTIFY_RESULT, FEEDBACK_DATE",
    ) == [
        (2, WO1, "现场核查属实", "1", dt.datetime(2026, 9, 5, 10, 30), "01", dt.date(2026, 9, 5)),
        (3, WO2, "台区考核表倍率错误已更正", "0", None, None, dt.date(2026, 9, 6)),
        (4, WO3, "属实", "1", dt.datetime(2026, 9, 5), "02", dt.date(2026, 9, 6)),
        (5, WO3, "属实", "1", dt.datetime(2026, 9, 6, 8, 15), "03", dt.date(2026, 9, 6)),
    ]
    rejected = quarantine(con)
    rel = f"feedback/R_AUDIT_FEEDBACK/{DAY}.csv"
    assert [(r[0], r[2], r[3]) for r in rejected] == [
        ("R_AUDIT_FEEDBACK", rel, line) for line in (6, 7, 8, 9, 10)
    ]
    reasons = [r[5] for r in rejected]
    assert reasons[0] == "IS_CONFIRMED: not one of 1/0 (2)"
    assert reasons[1] == "RECTIFY_RESULT: not one of 01/02/03 (04)"
    assert reasons[2] == (
        "IS_CONFIRMED: 1 requires RECTIFY_START_TIME, RECTIFY_RESULT, RECTIFY_APP_NO, "
        "CHECKER; empty: RECTIFY_APP_NO, CHECKER"
    )
    assert reasons[3] == "FEEDBACK_DATE: not a valid date (2026-13-01)"
    assert reasons[4] == "WORK_ORDER_NO: empty but required"
    assert rejected[3][4] == lines[8]  # the line's text, decoded


def test_a_gbk_export_is_told_from_utf8(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDAUDIT_ENCODING_FEEDBACK", raising=False)
    text = f"{PLATFORM_HEADER}\r\n{WO1},现场核查属实,1,无,,,,李四,2026-09-05\r\n"
    for encoding, expected in (("gbk", "gbk"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8")):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        assert feedback.platform_encoding(path) == expected
    monkeypatch.setenv("GRIDAUDIT_ENCODING_FEEDBACK", "gb18030")
    assert feedback.platform_encoding(tmp_path / "utf-8.csv") == "gb18030"


def test_dbt_rejections_are_copied_into_quarantine_once(con, landing):
    workbook_of_mistakes(landing)
    feedback.load_workbooks(con, landing, DAY)
    folder = landing / "feedback" / "R_AUDIT_FEEDBACK"
    folder.mkdir(parents=True)
    (folder / f"{DAY}.csv").write_text(
        f"{PLATFORM_HEADER}\n{WO2},核查,0,,,,,王五,2026-09-06\n", encoding="utf-8"
    )
    feedback.load_platform_file(con, landing, DAY)
    extract_rejections = quarantine(con)
    con.execute("CREATE SCHEMA audit")
    con.execute(
        "CREATE TABLE audit.work_order_feedback_rejections (source_file VARCHAR, "
        "line_number BIGINT, work_order_no VARCHAR, reason VARCHAR)"
    )
    rel = f"feedback/{DAY}/城关供电所.xlsx"
    con.execute(
        "INSERT INTO audit.work_order_feedback_rejections VALUES (?, 3, ?, ?), (?, 2, ?, ?)",
        [
            rel,
            WO2,
            f"unknown work order ({WO2})",
            f"feedback/R_AUDIT_FEEDBACK/{DAY}.csv",
            WO2,
            "WORK_ORDER_NO: answer to an order already 已归档",
        ],
    )
    for _ in range(2):  # every run copies them again: once in quarantine
        assert feedback.copy_dbt_rejections(con) == {"WORKBOOK_FEEDBACK": 1, "R_AUDIT_FEEDBACK": 1}
    copied = {r[0]: r for r in quarantine(con) if r not in extract_rejections}
    assert copied["R_AUDIT_FEEDBACK"] == (
        "R_AUDIT_FEEDBACK",
        DAY,
        f"feedback/R_AUDIT_FEEDBACK/{DAY}.csv",
        2,
        f"{WO2},核查,0,,,,,王五,2026-09-06",  # the loaded row's fields, joined
        "WORK_ORDER_NO: answer to an order already 已归档",
    )
    workbook_row = copied["WORKBOOK_FEEDBACK"]
    assert workbook_row[:4] == ("WORKBOOK_FEEDBACK", DAY, rel, 3)
    assert workbook_row[4].startswith(f"{WO2},2026-09-01,2026-09-04,城关供电所")
    assert workbook_row[5] == f"稽查工单!A3 工单编号 (WORK_ORDER_NO): unknown work order ({WO2})"
    assert len(quarantine(con)) == len(extract_rejections) + 2
    # the rejection is gone in dbt: its copy goes too, the extract's rows stay
    con.execute("DELETE FROM audit.work_order_feedback_rejections WHERE line_number = 3")
    assert feedback.copy_dbt_rejections(con) == {"R_AUDIT_FEEDBACK": 1}
    assert len(quarantine(con)) == len(extract_rejections) + 1
    # a run of another window replaces only its days' copies (and those dbt names)
    con.execute("DELETE FROM audit.work_order_feedback_rejections")
    assert feedback.copy_dbt_rejections(con, [DAY + dt.timedelta(days=1)]) == {}
    assert len(quarantine(con)) == len(extract_rejections) + 1
    assert feedback.copy_dbt_rejections(con, [DAY]) == {}
    assert quarantine(con) == extract_rejections


def test_the_workbook_asset_fails_naming_the_file_after_loading_the_others(tmp_path, landing):
    from dagster_project.defs.extract.feedback import workbook_feedback
    from dagster_project.defs.resources import GridauditPaths

    workbook_of_mistakes(landing)
    broken = landing / "feedback" / f"{DAY}" / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    later = DAY + dt.timedelta(days=1)
    write_xlsx(landing / "feedback" / f"{later}" / "x.xlsx", [order(WO3) + answer()])
    workdir = tmp_path / "work"
    result = dg.materialize(
        [workbook_feedback],
        tags={
            "dagster/asset_partition_range_start": DAY.isoformat(),
            "dagster/asset_partition_range_end": later.isoformat(),
        },
        resources={
            "gridaudit_paths": GridauditPaths(landing_dir=str(landing), workdir=str(workdir))
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"feedback/{DAY}/broken.xlsx: cannot be opened" in str(
        failure.step_failure_data.error.message
    ) + str(failure.step_failure_data.error.cause)
    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as c:
        assert c.execute(
            'SELECT _export_date, count(*) FROM raw_feedback."WORKBOOK_FEEDBACK" GROUP BY 1 '
            "ORDER BY 1"
        ).fetchall() == [(DAY, 3), (later, 1)]
        assert count(c, R_AUDIT_FEEDBACK) == 0  # exists: dbt reads it


def test_a_range_run_records_each_days_numbers_on_its_own_partition(tmp_path, landing):
    """A backfill of three days in one run: each day's partition shows that day's files and
    rows, not the run's (the same code path as every source table's extract asset)."""
    from dagster_project.defs.extract.feedback import workbook_feedback
    from dagster_project.defs.resources import GridauditPaths

    workbook_of_mistakes(landing)  # DAY: one workbook, some lines quarantined
    last = DAY + dt.timedelta(days=2)  # DAY + 1 has no feedback
    write_xlsx(landing / "feedback" / f"{last}" / "x.xlsx", [order(WO3) + answer()])
    result = dg.materialize(
        [workbook_feedback],
        tags={
            "dagster/asset_partition_range_start": DAY.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        resources={
            "gridaudit_paths": GridauditPaths(
                landing_dir=str(landing), workdir=str(tmp_path / "work")
            )
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    by_day = {
        m.partition: {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("raw_feedback__WORKBOOK_FEEDBACK")
    }
    assert sorted(by_day) == [f"{DAY}", f"{DAY + dt.timedelta(days=1)}", f"{last}"]
    first, quiet, third = (by_day[k] for k in sorted(by_day))
    assert first["file_count"] == 1 and first["rows_quarantined"] > 0
    assert first["dagster/row_count"] == 3
    assert [k.split("/")[1] for k in first["checksums"]] == [f"{DAY}"]
    assert (quiet["file_count"], quiet["rows_read"], quiet["files"]) == (0, 0, "no file this day")
    assert (third["file_count"], third["dagster/row_count"], third["rows_quarantined"]) == (1, 1, 0)
    assert list(third["checksums"]) == [f"feedback/{last}/x.xlsx"]
    assert third["run_window"] == f"{DAY} .. {last}"  # the run's own fact, on every day
