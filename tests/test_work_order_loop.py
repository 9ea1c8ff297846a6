"""The work-order loop end to end, as the audit office and the 供电所 live it
(docs/work-orders.md): the pipeline dispatches lists, the field's answers come back as the
fifth source system, and the data moves every order to its state.

* On `tiny` with the generator's answers: the published marts.work_orders and the loop's
  KPIs equal the generator's own simulation (truth/work_orders.csv, work_order_kpis.csv),
  every list is on disk, and every labelled answer mistake is quarantined with its file and
  sheet row.
* By hand: a list written by the pipeline is opened and filled like a spreadsheet user
  would (openpyxl), dropped into feedback/<next day>/, and the next day's run moves its
  orders.
"""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import openpyxl
import pandas as pd
import pytest

from dagster_project.cli import run_pipeline
from dagster_project.generator import loop_check
from dagster_project.lib import work_order_layout as layout

PUBLISHED = "published/gridaudit.duckdb"
_query = loop_check.query


def test_published_work_orders_equal_the_generator_truth(tiny_run):
    problems, got = loop_check.compare_orders(tiny_run["workdir"] / PUBLISHED, tiny_run["truth"])
    assert len(got) > 0, "nothing was dispatched on tiny"
    assert not problems, "\n".join(problems)
    # the loop really went round on tiny: answers, verification, false positives, re-dispatch
    assert {"已派发", "已归档", "整改中", "待验证", "整改无效"} <= set(got["status"])
    assert (got["previous_work_order_no"] != "").any()
    assert (got["is_overdue"] == "true").any()


def test_loop_kpis_equal_the_generator_truth(tiny_run):
    problems, truth = loop_check.compare_kpis(tiny_run["workdir"] / PUBLISHED, tiny_run["truth"])
    assert not problems, "\n".join(problems)
    # every indicator is exercised, but 重复发生率: its day D asks about orders verified on
    # D - work_order_recurrence_days (30), before tiny's first day (demo covers it)
    exercised = (truth["numerator"].fillna(0) > 0).groupby(truth["indicator_code"]).any()
    assert exercised.drop("wo_recurrence_rate").all(), exercised.to_string()


def test_every_dispatch_day_and_unit_has_its_list(tiny_run):
    workdir = tiny_run["workdir"]
    orders = _query(
        workdir / PUBLISHED,
        "select cast(dispatch_date as varchar) as day, org_no, count(*) as n"
        " from marts.work_orders group by all",
    )
    assert len(orders) > 0
    for row in orders.itertuples(index=False):
        path = workdir / "dispatch" / row.day / f"{row.org_no}.xlsx"
        assert path.exists(), path
        sheet = openpyxl.load_workbook(path, read_only=True)[layout.SHEET]
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == list(layout.HEADERS), path
        numbers = {r[0] for r in rows[1:]}
        assert len(numbers) >= row.n, (path, len(numbers), row.n)
        csv = pd.read_csv(path.with_suffix(".csv"), dtype=str, encoding="utf-8-sig")
        assert list(csv.columns) == list(layout.HEADERS)
        assert set(csv["工单编号"]) == numbers


def test_every_labelled_answer_mistake_is_quarantined(tiny_run):
    dirt = pd.read_csv(tiny_run["truth"] / "feedback_dirt.csv", dtype=str).fillna("")
    assert len(dirt) >= 5, "the generator should label every §6 mistake at least once"
    rejected = _query(
        tiny_run["workdir"] / "warehouse.duckdb",
        "select source_file, line_number, reason from quarantine.rejected_rows"
        " where source_file like 'feedback/%'",
    )
    found = {(r.source_file, int(r.line_number)) for r in rejected.itertuples(index=False)}
    for row in dirt.itertuples(index=False):
        assert (row.file, int(row.row)) in found, (row, rejected.head(20).to_string())
    # and nothing else: the generator's answers edit no locked cell
    warnings = _query(
        tiny_run["workdir"] / "warehouse.duckdb",
        "select warning from audit.work_order_feedback_warnings",
    )
    assert warnings.empty, warnings.head(10).to_string()


@pytest.fixture
def landing_without_answers(tiny_dir, tmp_path):
    target = tmp_path / "landing"
    shutil.copytree(tiny_dir / "landing", target, ignore=shutil.ignore_patterns("feedback"))
    return target


def test_a_list_filled_by_hand_moves_its_orders_on_the_next_run(
    tiny_run, landing_without_answers, tmp_path
):
    start = tiny_run["start"]
    day = start + dt.timedelta(days=3)
    workdir = tmp_path / "work"
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(start, day, landing_without_answers, workdir, instance=instance)

    lists = sorted((workdir / "dispatch").glob("*/*.xlsx"))
    assert lists, f"no list written for {start} .. {day}"
    # the longest list of those days: nothing answered them (this landing has no feedback)
    path = max(lists, key=lambda p: openpyxl.load_workbook(p, read_only=True)[layout.SHEET].max_row)
    book = openpyxl.load_workbook(path)
    sheet = book[layout.SHEET]
    assert sheet.protection.sheet, "the list's sheet is protected"
    column = {header: i + 1 for i, header in enumerate(layout.HEADERS)}
    assert sheet.cell(2, column["工单编号"]).protection.locked
    assert not sheet.cell(2, column["是否属实"]).protection.locked
    assert sheet.max_row >= 4, "need three orders to answer"
    answer_day = day + dt.timedelta(days=1)
    answers = {
        2: ("属实", "已整改", "待验证"),
        3: ("不属实", None, "已归档"),
        4: ("属实", "整改中", "整改中"),
    }
    expected = {}
    for row, (confirmed, result, status) in answers.items():
        number = sheet.cell(row, column["工单编号"]).value
        expected[number] = status
        sheet.cell(row, column["现场核查情况"]).value = "现场核查：已核实"
        sheet.cell(row, column["是否属实"]).value = confirmed
        sheet.cell(row, column["是否发现疑似问题以外的情况"]).value = "无"
        sheet.cell(row, column["反馈日期"]).value = dt.datetime.combine(answer_day, dt.time())
        if confirmed == "属实":
            sheet.cell(row, column["整改流程发起时间"]).value = dt.datetime.combine(
                answer_day, dt.time(9, 30)
            )
            sheet.cell(row, column["整改结果"]).value = result
            sheet.cell(row, column["营销系统整改工单编号"]).value = f"ZG{row:08d}"
            sheet.cell(row, column["现场核查人"]).value = "王五"
    # an edited locked cell is kept, with a warning naming it
    sheet.cell(2, column["连续天数"]).value = 99
    inbox = landing_without_answers / "feedback" / answer_day.isoformat()
    inbox.mkdir(parents=True)
    book.save(inbox / "城关所回单.xlsx")

    assert run_pipeline(answer_day, answer_day, landing_without_answers, workdir, instance=instance)
    orders = _query(
        workdir / PUBLISHED, "select work_order_no, status from marts.work_orders"
    ).set_index("work_order_no")["status"]
    assert {n: orders[n] for n in expected} == expected
    events = _query(
        workdir / PUBLISHED,
        "select * from marts.work_order_events"
        f" where event_date = date '{answer_day}' and to_status = '已反馈'",
    )
    assert set(events["work_order_no"]) >= set(expected)
    assert events["source_file"].str.endswith("城关所回单.xlsx").all(), events.to_string()
    warnings = _query(
        workdir / "warehouse.duckdb", "select * from audit.work_order_feedback_warnings"
    )
    edited = warnings[warnings["header"] == "连续天数"]
    assert len(edited) == 1, warnings.to_string()
    assert edited.iloc[0]["sheet_value"] == "99"
    assert edited.iloc[0]["source_file"].endswith("城关所回单.xlsx")
