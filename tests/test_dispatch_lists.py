"""The work-order lists (docs/work-orders.md section 5) written from a table of list lines
shaped like dbt's audit.work_order_list_lines, read back: values with python-calamine, locks,
dropdowns, frozen header, autofilter, protection and the hidden code sheet from the xlsx's
XML; the CSV has the same rows; a re-run rewrites a day identically; a list filled in (as
Excel stores the typed answers) loads through the feedback extract; and the Dagster asset
writes the window's lists and reports the loop's numbers."""

import csv
import datetime as dt
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import dagster as dg
import duckdb
import pytest
import python_calamine

from dagster_project.lib import dispatch_lists, feedback
from dagster_project.lib import work_order_layout as layout

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
D1, D2 = dt.date(2026, 9, 5), dt.date(2026, 9, 6)
STATION, COUNTY = "3340101", "33401"


def line(list_date, org, code, key, dispatched, consecutive=3, **fields) -> dict:
    row = {
        "list_date": list_date,
        "list_org_no": org,
        "work_order_no": layout.work_order_no(dispatched, code, key),
        "dispatch_date": dispatched,
        "answer_deadline": dispatched + dt.timedelta(days=3),
        "station_name": "城关供电所",
        "tg_id": "TG0001",
        "tg_name": "幸福一号台区",
        "cons_no": "0001234567",
        "cons_name": "张三",
        "elec_addr": "幸福路1号, 2单元",
        "problem_code": code,
        "problem_name": {"T01": "疑似窃电", "L01": "台区高损", "E01": "线路高损"}[code],
        "problem_desc": f"{code}: 日电量连续{consecutive}天为0 (采集 E_MP_DAY_READ)",
        "suggested_action": "现场核查计量装置",
        "first_detected_date": dispatched - dt.timedelta(days=consecutive - 1),
        "consecutive_days": consecutive,
    }
    row.update(fields)
    return row


LINES = [
    line(D1, STATION, "T01", "T01|0001234567", D1, 1),
    line(D1, STATION, "L01", "L01|TG0001", D1, 3, cons_no=None, cons_name=None, elec_addr=None),
    line(D1, COUNTY, "E01", "E01|LINE01", D1, 1, station_name=None),
    # 超期督办: the county sees its station's order that became overdue (dispatched earlier)
    line(D1, COUNTY, "T01", "T01|0009999999", D1 - dt.timedelta(days=4), 1),
    line(D2, STATION, "T01", "T01|0001111111", D2, 1, elec_addr="=SUM(A1) 不是公式"),
]


def make_lines(con: duckdb.DuckDBPyConnection, lines=LINES) -> None:
    """audit.work_order_list_lines as dbt builds it (dates as DATE, days as INTEGER)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    types = {
        "list_date": "DATE",
        "dispatch_date": "DATE",
        "answer_deadline": "DATE",
        "first_detected_date": "DATE",
        "consecutive_days": "INTEGER",
    }
    columns = ", ".join(f"{c} {types.get(c, 'VARCHAR')}" for c in dispatch_lists.LINE_COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE audit.work_order_list_lines ({columns})")
    names = list(dispatch_lists.LINE_COLUMNS)
    con.executemany(
        f"INSERT INTO audit.work_order_list_lines ({', '.join(names)}) VALUES "
        f"({', '.join('?' * len(names))})",
        [[row[c] for c in names] for row in lines],
    )


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        make_lines(c)
        yield c


def sheet_values(path: Path, sheet=layout.SHEET) -> list[list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def expected_cells(row: dict) -> list:
    """A line as calamine reads it back: dates as dates, the days a number, empty text ''."""
    cells = []
    for column in layout.LOCKED_COLUMNS:
        value = row[column.lower()]
        cells.append(
            float(value) if column == "CONSECUTIVE_DAYS" else "" if value is None else value
        )
    return cells + [""] * len(layout.ANSWER_COLUMNS)


def xml(path: Path, member: str) -> ET.Element:
    with zipfile.ZipFile(path) as z:
        return ET.fromstring(z.read(member))


@pytest.mark.parametrize("large_list", [5_000, 0], ids=["in_memory", "constant_memory"])
def test_one_list_per_unit_and_day_with_the_layout_headers_and_one_row_per_line(
    con, tmp_path, monkeypatch, large_list
):
    monkeypatch.setattr(dispatch_lists, "LARGE_LIST", large_list)
    written = dispatch_lists.write_lists(con, tmp_path, [D1, D2])
    assert [(f.list_date, f.org_no, f.lines) for f in written] == [
        (D1, COUNTY, 2),
        (D1, STATION, 2),
        (D2, STATION, 1),
    ]
    folder = tmp_path / "dispatch"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
        f"{D1}",
        f"{D1}/{COUNTY}.csv",
        f"{D1}/{COUNTY}.xlsx",
        f"{D1}/{STATION}.csv",
        f"{D1}/{STATION}.xlsx",
        f"{D2}",
        f"{D2}/{STATION}.csv",
        f"{D2}/{STATION}.xlsx",
    ]
    for f in written:
        mine = [r for r in LINES if (r["list_date"], r["list_org_no"]) == (f.list_date, f.org_no)]
        mine.sort(key=lambda r: (r["dispatch_date"], r["work_order_no"]))
        values = sheet_values(f.xlsx)
        assert tuple(values[0]) == layout.HEADERS
        assert values[1:] == [expected_cells(r) for r in mine]
        # the CSV: the same rows as text, UTF-8 with BOM
        data = f.csv.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
        assert tuple(rows[0]) == layout.HEADERS
        as_text = [
            ["" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v)
             for v in (r[c.lower()] for c in layout.LOCKED_COLUMNS)]
            + [""] * 8
            for r in mine
        ]  # fmt: skip
        assert rows[1:] == as_text
    # the county's list: its own order, then its station's overdue one (dispatched earlier)
    county = sheet_values(written[0].xlsx)
    assert [r[1] for r in county[1:]] == [D1 - dt.timedelta(days=4), D1]
    # text stays text: no formula from an address, leading zeros kept
    assert sheet_values(written[2].xlsx)[1][8] == "=SUM(A1) 不是公式"
    assert "0001234567" in [r[6] for r in sheet_values(written[1].xlsx)[1:]]


def _styles(path: Path) -> list[dict]:
    """cellXfs of styles.xml: per style index, locked (default true) and number format."""
    root = xml(path, "xl/styles.xml")
    formats = {
        int(f.get("numFmtId")): f.get("formatCode") for f in root.findall("m:numFmts/m:numFmt", NS)
    }
    styles = []
    for xf in root.findall("m:cellXfs/m:xf", NS):
        protection = xf.find("m:protection", NS)
        styles.append(
            {
                "locked": protection is None or protection.get("locked") != "0",
                "format": formats.get(int(xf.get("numFmtId", "0")), xf.get("numFmtId")),
            }
        )
    return styles


@pytest.mark.parametrize("large_list", [5_000, 0], ids=["in_memory", "constant_memory"])
def test_locks_dropdowns_dates_frozen_header_autofilter_protection_and_code_sheet(
    con, tmp_path, monkeypatch, large_list
):
    monkeypatch.setattr(dispatch_lists, "LARGE_LIST", large_list)
    written = dispatch_lists.write_lists(con, tmp_path, [D1])
    path = next(f.xlsx for f in written if f.org_no == STATION)
    styles = _styles(path)
    sheet = xml(path, "xl/worksheets/sheet1.xml")
    cells = {c.get("r"): c for c in sheet.iter(f"{{{NS['m']}}}c")}
    letters = [chr(ord("A") + i) for i in range(len(layout.COLUMNS))]
    for row in (2, 3):
        for i, letter in enumerate(letters):
            style = styles[int(cells[f"{letter}{row}"].get("s", "0"))]
            assert style["locked"] == (i < layout.LOCKED_COUNT), f"{letter}{row}"
    for letter in letters:  # the header is locked
        assert styles[int(cells[f"{letter}1"].get("s", "0"))]["locked"]
    column = {c: letters[i] for i, c in enumerate(layout.COLUMNS)}
    for name in ("DISPATCH_DATE", "ANSWER_DEADLINE", "FIRST_DETECTED_DATE", "FEEDBACK_DATE"):
        assert styles[int(cells[f"{column[name]}2"].get("s"))]["format"] == "yyyy-mm-dd", name
    assert styles[int(cells[f"{column['RECTIFY_START_TIME']}2"].get("s"))]["format"] == (
        "yyyy-mm-dd hh:mm"
    )
    assert not styles[int(cells["Q2"].get("s"))]["locked"]

    pane = sheet.find("m:sheetViews/m:sheetView/m:pane", NS)
    assert (pane.get("ySplit"), pane.get("state"), pane.get("topLeftCell")) == ("1", "frozen", "A2")
    assert sheet.find("m:autoFilter", NS).get("ref") == "A1:W3"
    protection = sheet.find("m:sheetProtection", NS)
    assert protection.get("sheet") == "1" and protection.get("password") is None
    # "0" = not protected: filtering, sorting and resizing stay allowed
    for allowed in ("autoFilter", "sort", "formatColumns", "formatRows"):
        assert protection.get(allowed) == "0", allowed

    validations = {
        v.get("sqref"): v for v in sheet.findall("m:dataValidations/m:dataValidation", NS)
    }
    confirmed, result = validations["Q2:Q3"], validations["T2:T3"]
    assert (confirmed.get("type"), confirmed.find("m:formula1", NS).text) == (
        "list",
        "'代码表'!$A$2:$A$3",
    )
    assert (result.get("type"), result.find("m:formula1", NS).text) == (
        "list",
        "'代码表'!$D$2:$D$4",
    )
    for ref in ("S2:S3", "W2:W3"):
        assert validations[ref].get("type") == "date"
    assert validations["R2:R3"].get("type") is None  # free text, with an input message
    assert validations["R2:R3"].get("promptTitle") == "是否发现疑似问题以外的情况"

    book = xml(path, "xl/workbook.xml")
    sheets = [(s.get("name"), s.get("state")) for s in book.findall("m:sheets/m:sheet", NS)]
    assert sheets == [(layout.SHEET, None), (layout.CODE_SHEET, "hidden")]
    codes = sheet_values(path, layout.CODE_SHEET)
    assert [r[0] for r in codes[1:3]] == list(layout.IS_CONFIRMED)  # the dropdown's range
    assert [r[3] for r in codes[1:4]] == list(layout.RECTIFY_RESULT)
    assert [r[4] for r in codes[1:4]] == list(layout.RECTIFY_RESULT.values())
    assert {r[6]: r[7] for r in codes[1:] if r[6]} == {"L01": "台区高损", "T01": "疑似窃电"}


def test_a_rerun_rewrites_the_day_identically_and_drops_old_lists(con, tmp_path):
    first = dispatch_lists.write_lists(con, tmp_path, [D1, D2])
    before = {f: f.read_bytes() for w in first for f in (w.xlsx, w.csv)}
    again = dispatch_lists.write_lists(con, tmp_path, [D1, D2])
    assert {f: f.read_bytes() for w in again for f in (w.xlsx, w.csv)} == before
    # day 1 now has only the station's lines, day 2 none: the old lists go
    make_lines(con, [r for r in LINES if r["list_date"] == D1 and r["list_org_no"] == STATION])
    (tmp_path / "dispatch" / f"{D1}" / "stray.txt").write_text("left by hand")
    written = dispatch_lists.write_lists(con, tmp_path, [D1, D2])
    assert [(f.list_date, f.org_no) for f in written] == [(D1, STATION)]
    assert sorted(p.name for p in (tmp_path / "dispatch").rglob("*")) == [
        f"{D1}",
        f"{STATION}.csv",
        f"{STATION}.xlsx",
    ]
    assert written[0].xlsx.read_bytes() == before[first[1].xlsx]


def fill(path: Path, answers: dict[str, str | float]) -> None:
    """Type answers into a list as Excel stores them: text as an inline string, a date as
    its serial number, in the cells the list left blank (and unlocked) for them."""
    member = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    text = parts[member].decode("utf-8")
    for ref, value in answers.items():
        blank = re.search(rf'<c r="{ref}" s="(\d+)"/>', text)
        assert blank, ref
        style = blank.group(1)
        cell = (
            f'<c r="{ref}" s="{style}"><v>{value}</v></c>'
            if isinstance(value, float)
            else f'<c r="{ref}" s="{style}" t="inlineStr"><is><t>{value}</t></is></c>'
        )
        text = text.replace(blank.group(0), cell)
    parts[member] = text.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def excel_serial(value: dt.datetime) -> float:
    return (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400


def test_a_list_filled_in_loads_through_the_feedback_extract(con, tmp_path):
    written = dispatch_lists.write_lists(con, tmp_path, [D1])
    path = next(f.xlsx for f in written if f.org_no == STATION)
    landing = tmp_path / "landing"
    returned = landing / "feedback" / f"{D2}" / "城关供电所 回单.xlsx"
    returned.parent.mkdir(parents=True)
    returned.write_bytes(path.read_bytes())
    # an unanswered list loads nothing and is no error
    assert feedback.load_workbooks(con, landing, D2).unanswered == 2
    fill(
        returned,
        {
            "P2": "表计接线被改动, 已恢复",
            "Q2": "属实",
            "R2": "无",
            "S2": excel_serial(dt.datetime(2026, 9, 6, 9, 30)),
            "T2": "已整改",
            "U2": "2609060001",
            "V2": "李四",
            "W2": excel_serial(dt.datetime(2026, 9, 6)),
        },
    )
    result = feedback.load_workbooks(con, landing, D2)
    assert (result.rows_loaded, result.rows_rejected, result.unanswered) == (1, 0, 1)
    rows = con.execute(
        "SELECT WORK_ORDER_NO, DISPATCH_DATE, CONS_NO, CONSECUTIVE_DAYS, IS_CONFIRMED, "
        "RECTIFY_START_TIME, RECTIFY_RESULT, FEEDBACK_DATE, _line_number "
        'FROM raw_feedback."WORKBOOK_FEEDBACK"'
    ).fetchall()
    first = sorted(
        (r for r in LINES if r["list_date"] == D1 and r["list_org_no"] == STATION),
        key=lambda r: (r["dispatch_date"], r["work_order_no"]),
    )[0]
    assert rows == [
        (
            first["work_order_no"],
            D1.isoformat(),
            first["cons_no"],
            str(first["consecutive_days"]),
            "属实",
            "2026-09-06 09:30:00",
            "已整改",
            "2026-09-06",
            2,
        )
    ]


def test_the_dispatch_asset_writes_the_lists_copies_rejections_and_reports_the_loop(tmp_path):
    from dagster_project.defs.dispatch.assets import dispatch_lists_asset
    from dagster_project.defs.resources import GridauditPaths

    workdir = tmp_path / "work"
    workdir.mkdir()
    orders = [  # (number, dispatched, deadline, first answer)
        ("JC1", D1 - dt.timedelta(days=10), D1 - dt.timedelta(days=3), None),  # overdue
        ("JC2", D1, D1 + dt.timedelta(days=3), D2),
        ("JC3", D2, D2 + dt.timedelta(days=3), None),
        ("JC4", D1 - dt.timedelta(days=20), D1 - dt.timedelta(days=13), D1 - dt.timedelta(days=15)),
    ]  # fmt: skip
    events = [
        (D1 - dt.timedelta(days=10), "JC1", None, "已派发"),
        (D1, "JC2", None, "已派发"),
        (D2, "JC2", "已派发", "已反馈"),
        (D2, "JC2", "已反馈", "已归档"),
        (D2, "JC3", None, "已派发"),
        (D1, "JC4", "待验证", "整改无效"),
    ]
    with duckdb.connect(str(workdir / "warehouse.duckdb")) as c:
        make_lines(c)
        feedback.ensure_schema(c)
        c.execute("CREATE SCHEMA marts")
        c.execute(
            "CREATE TABLE marts.work_orders (work_order_no VARCHAR, dispatch_date DATE, "
            "answer_deadline DATE, first_answer_date DATE, is_overdue BOOLEAN)"
        )
        c.executemany(
            "INSERT INTO marts.work_orders VALUES (?, ?, ?, ?, ?)",
            [(*o, o[3] is None and o[2] < D2) for o in orders],
        )
        c.execute(
            "CREATE TABLE marts.work_order_events (event_date DATE, work_order_no VARCHAR, "
            "from_status VARCHAR, to_status VARCHAR)"
        )
        c.executemany("INSERT INTO marts.work_order_events VALUES (?, ?, ?, ?)", events)
        c.execute(
            "CREATE TABLE audit.work_order_feedback_rejections (source_file VARCHAR, "
            "line_number BIGINT, reason VARCHAR, raw_line VARCHAR)"
        )
        c.execute(
            "INSERT INTO audit.work_order_feedback_rejections VALUES "
            f"('feedback/{D2}/x.xlsx', 4, 'unknown work order (JC9)', 'JC9,...')"
        )
        c.execute(
            "CREATE TABLE audit.work_order_feedback_warnings (source_file VARCHAR, "
            "line_number BIGINT, work_order_no VARCHAR, warning VARCHAR)"
        )
        c.execute(  # one of the window's answers, one of an earlier day's (not logged)
            "INSERT INTO audit.work_order_feedback_warnings VALUES "
            f"('feedback/{D2}/x.xlsx', 3, 'JC2', 'sheet 稽查工单 G3 客户编号: locked cell "
            "edited'), "
            "('feedback/2026-08-01/y.xlsx', 2, 'JC0', 'sheet 稽查工单 H2 客户名称: edited')"
        )
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [dispatch_lists_asset],
        tags={
            "dagster/asset_partition_range_start": D1.isoformat(),
            "dagster/asset_partition_range_end": D2.isoformat(),
        },
        resources={
            "gridaudit_paths": GridauditPaths(
                landing_dir=str(tmp_path / "landing"), workdir=str(workdir)
            )
        },
        instance=instance,
    )
    assert result.success
    materializations = result.asset_materializations_for_node("dispatch_lists")
    assert len(materializations) == 2  # one per day of the window, the run's numbers
    materialization = materializations[0]
    meta = {k: v.value for k, v in materialization.metadata.items()}
    assert {k: meta[k] for k in meta if k.startswith("orders_")} == {
        "orders_dispatched": 2,
        "orders_answered": 1,
        "orders_overdue": 1,
        "orders_archived": 1,
        "orders_ineffective": 1,
    }
    assert (meta["lists_written"], meta["list_lines"], meta["feedback_rejected"]) == (3, 5, 1)
    assert meta["feedback_warnings"] == 1
    logged = [r.user_message for r in instance.all_logs(result.run_id)]
    assert (
        f"feedback: feedback/{D2}/x.xlsx: sheet 稽查工单 G3 客户编号: locked cell edited" in logged
    )
    assert not any("JC0" in m or "y.xlsx" in m for m in logged)
    assert "| dispatched | 2 |" in meta["loop"]
    assert len(list((workdir / "dispatch").rglob("*.xlsx"))) == 3
    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as c:
        assert c.execute(
            "SELECT system, table_name, export_date, source_file, line_number, raw_line, reason "
            "FROM quarantine.rejected_rows"
        ).fetchall() == [
            (
                "feedback",
                "WORKBOOK_FEEDBACK",
                D2,
                f"feedback/{D2}/x.xlsx",
                4,
                "JC9,...",
                "稽查工单!A4 工单编号 (WORK_ORDER_NO): unknown work order (JC9)",
            )
        ]


def test_the_dispatch_step_waits_for_every_mart_and_the_marts_gate():
    from dagster._core.execution.api import create_execution_plan

    from dagster_project.cli import prepare_dbt

    prepare_dbt()
    from dagster_project.definitions import defs

    repo = defs.get_repository_def()
    graph = repo.asset_graph
    dispatch = graph.get(dg.AssetKey("dispatch_lists"))
    assert dispatch.group_name == "dispatch"
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert marts and marts <= set(dispatch.parent_keys)
    plan = create_execution_plan(repo.get_job("daily_pipeline"))
    waits_for = {
        key.split(".")[0]
        for key in plan.get_step_by_key("dispatch_lists").get_execution_dependency_keys()
    }
    assert "gx_quality_gate" in waits_for
    for table in ("WORKBOOK_FEEDBACK", "R_AUDIT_FEEDBACK"):
        node = graph.get(dg.AssetKey(["raw_feedback", table]))
        assert node.group_name == "feedback" and node.partitions_def is not None


def test_the_line_order_of_dbt_wins(tmp_path):
    """dbt numbers a list's lines (`line_seq`: the unit's own orders, then 超期督办)."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        make_lines(c)
        c.execute("ALTER TABLE audit.work_order_list_lines ADD COLUMN line_seq INTEGER")
        c.execute(
            "UPDATE audit.work_order_list_lines SET line_seq = CASE WHEN dispatch_date = "
            "list_date THEN 1 ELSE 2 END"
        )
        written = dispatch_lists.write_lists(c, tmp_path, [D1])
    county = next(f for f in written if f.org_no == COUNTY)
    assert [r[1] for r in sheet_values(county.xlsx)[1:]] == [D1, D1 - dt.timedelta(days=4)]
