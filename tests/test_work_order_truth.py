"""The generator's work-order oracle (dagster_project/generator/work_orders.py) on hand-made
finding runs: every transition of docs/work-orders.md §3, both sides of each limit, the
KPIs of §4; and the loop of a generated tree: the answers read back from the written
workbooks and platform CSV give the truth's states."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.generator import work_orders as wo
from dagster_project.lib import work_order_layout as layout

START = dt.date(2026, 9, 1)
ORGS = wo.Orgs(
    pd.DataFrame(
        [
            ("C", "市公司", "", "02"),
            ("K", "县公司", "C", "03"),
            ("S", "甲供电所", "K", "04"),
            ("T", "乙供电所", "K", "04"),
        ],
        columns=["ORG_NO", "ORG_NAME", "P_ORG_NO", "ORG_TYPE"],
    )
)


def day(d: int) -> str:
    return (START + dt.timedelta(days=d)).isoformat()


def runs(*rows) -> pd.DataFrame:
    """(code, key value, first day, last day[, org]) -> anomalies.csv rows: area codes (L, A02,
    A03) name a tg_id, E01 an app_no, the others a customer."""
    out = []
    for r in rows:
        code, v, a, b = r[:4]
        org = r[4] if len(r) > 4 else "S"
        tg, cons, app = "", "", ""
        if code[0] == "L" or code in ("A02", "A03"):
            tg = v
        elif code == "E01":
            app = v
        else:
            tg, cons = "TG1", v
        out.append((code, tg, org, cons, app, day(a), day(b)))
    return pd.DataFrame(
        out,
        columns=["rule_code", "tg_id", "org_no", "cons_no", "app_no", "first_date", "last_date"],
    )


def sim(r, n=40, answers=(), qualified=None, **kw) -> wo.Loop:
    return wo.simulate(r, START, n, ORGS, wo.CONTRACT_POLICY, answers=list(answers),
                       qualified=qualified, **kw)  # fmt: skip


def no(code: str, key_value: str, d: int) -> str:
    return layout.work_order_no(START + dt.timedelta(days=d), code, f"{code}|{key_value}")


def ans(d, number, conf="属实", res="已整改", fb="", file="f.xlsx", line=2) -> wo.Answer:
    return wo.Answer(d, number, conf, res if conf == "属实" else "", fb or day(d), file, line)


def only(loop: wo.Loop) -> wo.Order:
    assert len(loop.orders) == 1, [o.work_order_no for o in loop.orders]
    return loop.orders[0]


# ------------------------------------------------------------------ identity and number


def test_finding_key_coalesces_empty_strings():
    assert wo.finding_key("E01", "APP1", "", "TG", "S") == "E01|APP1"
    assert wo.finding_key("A01", "", "C1", "TG", "S") == "A01|C1"
    assert wo.finding_key("L01", "", "", "TG", "S") == "L01|TG"
    assert wo.finding_key("X01", "", "", "", "S") == "X01|S"
    assert wo.finding_key("X01", "", "", "", "") == "X01|"


def test_number_is_the_layout_number_of_the_key_and_dispatch_day():
    o = only(sim(runs(("A01", "C1", 4, 6))))
    digest = hashlib.md5(b"A01|C1").hexdigest()[:8].upper()
    assert o.work_order_no == f"JC20260905A01{digest}" == no("A01", "C1", 4)


# ------------------------------------------------------------------ dispatch


@pytest.mark.parametrize(
    ("code", "after"), [("L01", 3), ("L03", 3), ("M01", 2), ("M06", 2), ("M07", 1), ("A01", 1)]
)
def test_dispatch_after_days_both_sides(code, after):
    key = "TG9" if code[0] == "L" else "C1"
    assert not sim(runs((code, key, 5, 5 + after - 2))).orders  # one day short
    o = only(sim(runs((code, key, 5, 5 + after - 1))))
    assert o.dispatch == 5 + after - 1
    assert o.status == "已派发" and o.previous == ""


def test_deadline_receiving_unit_and_limits():
    r = runs(
        ("A01", "C1", 0, 30), ("E01", "APP1", 0, 30, "T"), ("T01", "C2", 0, 0), ("M03", "C3", 2, 3)
    )
    got = {o.problem_code: o for o in sim(r).orders}
    assert (got["A01"].org_no, got["A01"].deadline) == ("S", 10)
    assert (got["E01"].org_no, got["E01"].station_no, got["E01"].deadline) == ("K", "T", 5)
    assert got["T01"].deadline == 3 and got["M03"].deadline == 3 + 5


def test_one_open_order_per_key_and_stopping_does_not_close():
    # two runs of the same key: the first order stays open (no answer), no second order
    loop = sim(runs(("A01", "C1", 0, 2), ("A01", "C1", 6, 9)))
    o = only(loop)
    assert o.status == "已派发" and o.dispatch == 0


def test_customer_key_continues_across_areas():
    """A customer finding whose area changes is one key (one streak, one order)."""
    r = runs(("M01", "C1", 3, 3))
    r = pd.concat([runs(("M01", "C1", 2, 2)), r.assign(tg_id="TG2")], ignore_index=True)
    o = only(sim(r))
    assert o.dispatch == 3 and o.tg_id == "TG2"


# ------------------------------------------------------------------ answers


@pytest.mark.parametrize(
    ("conf", "res", "status"),
    [
        ("不属实", "", "已归档"),
        ("属实", "已整改", "待验证"),
        ("属实", "整改中", "整改中"),
        ("属实", "无法整改", "整改中"),
    ],
)
def test_answer_transitions(conf, res, status):
    n0 = no("A01", "C1", 0)
    loop = sim(runs(("A01", "C1", 0, 39)), n=4, answers=[ans(3, n0, conf, res)])
    o = only(loop)
    assert o.status == status and o.first_answer == 3
    steps = [(e["from_status"], e["to_status"], e["source"]) for e in loop.events]
    assert steps == [
        ("", "已派发", "dispatch"),
        ("已派发", "已反馈", "feedback"),
        ("已反馈", status, "feedback"),
    ]
    if conf == "不属实":
        assert (o.archived, o.archive_reason) == (3, "false_positive")
    assert o.rectified == (3 if res == "已整改" else None)


def test_a_later_answer_wins_and_can_go_back():
    n0 = no("A01", "C1", 0)
    a = [ans(2, n0, res="整改中"), ans(4, n0, res="已整改"), ans(5, n0, res="整改中")]
    o = only(sim(runs(("A01", "C1", 0, 1)), n=6, answers=a))
    assert o.status == "整改中" and o.rectified is None and o.first_answer == 2
    o = only(sim(runs(("A01", "C1", 0, 1)), n=5, answers=a[:2]))
    assert o.status == "待验证" and o.rectified == 4


def test_same_day_answers_last_by_feedback_date_then_file_then_line():
    n0 = no("A01", "C1", 0)
    a = [
        ans(3, n0, "不属实", fb=day(3), file="b.xlsx"),
        ans(3, n0, "属实", "整改中", fb=day(2), file="z.xlsx"),
        ans(3, n0, "属实", "已整改", fb=day(3), file="a.xlsx"),
    ]
    loop = sim(runs(("A01", "C1", 0, 1)), n=4, answers=a)
    o = only(loop)
    assert o.status == "已归档" and o.archive_reason == "false_positive"  # b.xlsx is last
    assert [e["to_status"] for e in loop.events].count("已反馈") == 3


def test_rejections_unknown_closed_and_same_day_as_dispatch():
    n0 = no("A01", "C1", 0)
    a = [
        ans(1, no("A01", "C9", 0)),  # unknown number
        ans(0, n0),  # before the order exists (dispatched after the day's answers)
        ans(2, n0, "不属实"),
        ans(3, n0, "属实", "已整改"),  # to an order 已归档 on day 2
    ]
    loop = sim(runs(("A01", "C1", 0, 20)), n=5, answers=a)
    assert [(x.day, r) for x, r in loop.rejected] == [(0, "unknown"), (1, "unknown"), (3, "closed")]
    assert only(loop).status == "已归档"


def test_an_answer_to_an_ineffective_order_is_rejected_and_the_new_one_takes_answers():
    n0, n1 = no("A01", "C1", 0), no("A01", "C1", 5)
    a = [ans(3, n0), ans(6, n0, res="整改中"), ans(7, n1, "不属实")]
    loop = sim(runs(("A01", "C1", 0, 3), ("A01", "C1", 5, 9)), n=10, answers=a)
    assert [(x.day, r) for x, r in loop.rejected] == [(6, "closed")]
    old, new = loop.orders
    assert (old.status, old.ineffective, new.status, new.previous) == ("整改无效", 5, "已归档", n0)


# ------------------------------------------------------------------ verification


def test_verified_after_verify_days_both_sides():
    n0 = no("A01", "C1", 0)
    r = runs(("A01", "C1", 0, 3))  # stops after day 3; answered 已整改 on day 3
    a = [ans(3, n0)]
    assert only(sim(r, n=10, answers=a)).status == "待验证"  # day 9: 6 days silent
    o = only(sim(r, n=11, answers=a))  # day 10: D - R = 7
    assert (o.status, o.verified, o.archived, o.archive_reason) == ("已归档", 10, 10, "verified")


def test_firing_again_is_ineffective_and_dispatches_at_once():
    n0 = no("L01", "TG1", 2)
    r = runs(("L01", "TG1", 0, 4), ("L01", "TG1", 9, 9))
    loop = sim(r, n=12, answers=[ans(4, n0)])
    old, new = loop.orders
    assert (old.status, old.ineffective) == ("整改无效", 9)
    # L01 needs 3 days, but an order closed 整改无效 is followed the same day
    assert (new.dispatch, new.previous, new.status) == (9, n0, "已派发")
    assert new.work_order_no == no("L01", "TG1", 9)


def test_firing_on_the_answer_day_itself_is_not_checked():
    n0 = no("A01", "C1", 0)
    o = only(sim(runs(("A01", "C1", 0, 3)), n=5, answers=[ans(3, n0)]))
    assert o.status == "待验证" and o.rectified == 3


def test_loss_codes_wait_for_qualified_days():
    n0 = no("L02", "TG1", 2)
    r = runs(("L02", "TG1", 0, 3))
    a = [ans(3, n0)]
    all_q = {("TG1", d) for d in range(40)}
    assert only(sim(r, n=11, answers=a, qualified=all_q)).verified == 10
    gap = all_q - {("TG1", 6)}  # day 6 not qualified: days 7..13 are the first 7 after
    o = only(sim(r, n=20, answers=a, qualified=gap))
    assert o.verified == 13
    assert only(sim(r, n=13, answers=a, qualified=gap)).status == "待验证"


# ------------------------------------------------------------------ suppression, recurrence


def test_false_positive_suppression_both_sides():
    n0 = no("A01", "C1", 0)
    a = [ans(2, n0, "不属实")]
    loop = sim(runs(("A01", "C1", 0, 2), ("A01", "C1", 91, 91)), n=120, answers=a)
    assert len(loop.orders) == 1  # day 91 < 2 + 90
    loop = sim(runs(("A01", "C1", 0, 2), ("A01", "C1", 92, 92)), n=120, answers=a)
    assert [o.dispatch for o in loop.orders] == [0, 92]
    assert loop.orders[1].previous == n0


@pytest.mark.parametrize(("again", "recurs"), [(10 + 30, True), (10 + 31, False)])
def test_recurrence_within_recurrence_days(again, recurs):
    n0 = no("A01", "C1", 0)
    r = runs(("A01", "C1", 0, 2), ("A01", "C1", again, again))
    loop = sim(r, n=60, answers=[ans(3, n0)])
    first = loop.orders[0]
    assert first.verified == 10 and first.is_recurrence is recurs
    assert loop.orders[1].dispatch == again and loop.orders[1].previous == n0


# ------------------------------------------------------------------ overdue and KPIs


@pytest.mark.parametrize(
    ("answer_day", "n", "overdue"),
    [(10, 20, False), (11, 20, True), (None, 11, False), (None, 12, True)],
)
def test_overdue_both_sides(answer_day, n, overdue):
    n0 = no("A01", "C1", 0)
    a = [] if answer_day is None else [ans(answer_day, n0, res="整改中")]
    loop = sim(runs(("A01", "C1", 0, 30)), n=n, answers=a)
    assert wo.orders_frame(loop)["is_overdue"].tolist() == [str(overdue).lower()]


def _kpi(df, org, code, period="day", start=None):
    g = df[(df["org_no"] == org) & (df["indicator_code"] == code) & (df["period_type"] == period)]
    if start is not None:
        g = g[g["period_start"] == start]
    return g[["numerator", "denominator"]].sum().tolist()


def test_kpis():
    r = runs(
        ("A01", "C1", 0, 2),  # 已整改 on 3 -> verified 10 (close 10 days)
        ("A01", "C2", 0, 30),  # 不属实 on 12 (late) -> archived (close 12 days)
        ("A01", "C3", 0, 30, "T"),  # never answered
        ("A01", "C4", 0, 30),  # 已整改 on 5, fires on 6 -> 整改无效
        ("E01", "APP1", 1, 30),  # county: 整改中 on 4
    )
    a = [
        ans(3, no("A01", "C1", 0)),
        ans(12, no("A01", "C2", 0), "不属实"),
        ans(5, no("A01", "C4", 0)),
        ans(4, no("E01", "APP1", 1), res="整改中"),
    ]
    loop = sim(r, n=40, answers=a)
    k = wo.kpis(loop, ORGS)
    assert _kpi(k, "S", "wo_dispatched") == [4, 4]  # C1, C2, C4 and C4's second order
    assert _kpi(k, "S", "wo_dispatched", start=day(0)) == [3, 3]
    assert _kpi(k, "T", "wo_dispatched") == [1, 1]
    assert _kpi(k, "K", "wo_dispatched") == [6, 6] and _kpi(k, "C", "wo_dispatched") == [6, 6]
    # deadline day 10: C1, C4 answered in time; C2 late; C3 (station T) never
    assert _kpi(k, "S", "wo_on_time_rate", start=day(10)) == [2, 3]
    assert _kpi(k, "K", "wo_on_time_rate", start=day(10)) == [2, 4]
    assert _kpi(k, "K", "wo_on_time_rate", start=day(6)) == [1, 1]  # E01: deadline 1 + 5
    assert _kpi(k, "C", "wo_confirmed_rate", start=day(12)) == [0, 1]
    assert _kpi(k, "C", "wo_confirmed_rate", start=day(3)) == [1, 1]
    # 整改完成率 on deadline 10: of the 属实 by then (C1 待验证 and C4 closed 整改无效: both 已整改)
    assert _kpi(k, "S", "wo_rectified_rate", start=day(10)) == [2, 2]
    assert _kpi(k, "K", "wo_rectified_rate", start=day(6)) == [0, 1]  # E01 整改中
    assert _kpi(k, "S", "wo_effective_rate", start=day(10)) == [1, 1]
    assert _kpi(k, "S", "wo_effective_rate", start=day(6)) == [0, 1]
    assert _kpi(k, "S", "wo_mean_close_days", start=day(10)) == [10, 1]
    assert _kpi(k, "S", "wo_mean_close_days", start=day(12)) == [12, 1]
    # overdue: C2 on day 11 (answered 12), C3 from 11; C4's second order (6, deadline 16)
    assert _kpi(k, "S", "wo_overdue", start=day(11)) == [1, 1]
    assert _kpi(k, "T", "wo_overdue", start=day(11)) == [1, 1]
    assert _kpi(k, "S", "wo_overdue", start=day(17)) == [1, 1]
    assert _kpi(k, "S", "wo_recurrence_rate", start=day(40 - 1)) == [0, 0]
    # month: sums, except wo_overdue = the month's last day with data (09-30, day 29)
    assert _kpi(k, "S", "wo_dispatched", "month", "2026-09-01") == [4, 4]
    assert _kpi(k, "S", "wo_overdue", "month", "2026-09-01") == _kpi(
        k, "S", "wo_overdue", start=day(29)
    )
    assert _kpi(k, "S", "wo_overdue", "month", "2026-10-01") == _kpi(
        k, "S", "wo_overdue", start=day(39)
    )
    assert set(k["org_no"]) == {"C", "K", "S", "T"}
    assert len(k) == 4 * len(wo.KPI_CODES) * (40 + 2)


def test_recurrence_kpi():
    r = runs(("A01", "C1", 0, 2), ("A01", "C1", 25, 25))
    loop = sim(r, n=45, answers=[ans(3, no("A01", "C1", 0))])
    k = wo.kpis(loop, ORGS)
    assert _kpi(k, "S", "wo_recurrence_rate", start=day(40)) == [1, 1]  # V = 10, fired on 25
    assert _kpi(k, "S", "wo_recurrence_rate") == [1, 1]


# ------------------------------------------------------------------ a generated tree


def _read_back(landing: Path) -> list[wo.Answer]:
    """The answers as an extract would load them from the files (a small reader, not the
    project's): valid rows only, by §6."""
    from python_calamine import CalamineWorkbook

    out = []
    conf_code = {v: k for k, v in layout.IS_CONFIRMED.items()}
    res_code = {v: k for k, v in layout.RECTIFY_RESULT.items()}

    def ok_date(v) -> bool:
        if isinstance(v, dt.date):
            return True
        try:
            dt.datetime.fromisoformat(str(v))
            return True
        except ValueError:
            return False

    def keep(d, rel, line, rec):
        if rec["IS_CONFIRMED"] not in ("属实", "不属实"):
            return
        if rec["IS_CONFIRMED"] == "属实" and not all(rec[c] for c in layout.CONFIRMED_REQUIRES):
            return
        if not all(ok_date(rec[c]) for c in ("RECTIFY_START_TIME", "FEEDBACK_DATE") if rec[c]):
            return
        fb = rec["FEEDBACK_DATE"]
        fb = fb.isoformat() if isinstance(fb, dt.date) else str(fb)
        out.append(
            wo.Answer(
                d, rec["WORK_ORDER_NO"], rec["IS_CONFIRMED"], rec["RECTIFY_RESULT"], fb, rel, line
            )
        )

    encodings = set()
    for p in sorted((landing / "feedback").rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(landing))
        if p.suffix == ".xlsx":
            d = dt.date.fromisoformat(p.parent.name)
            rows = CalamineWorkbook.from_path(str(p)).get_sheet_by_name(layout.SHEET).to_python()
            assert tuple(rows[0]) == layout.HEADERS
            for k, row in enumerate(rows[1:], start=2):
                keep(d, rel, k, dict(zip(layout.COLUMNS, row, strict=True)))
        else:
            d = dt.date.fromisoformat(p.stem)
            data = p.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("gbk")
                encodings.add("gbk")
            rows = list(csv.reader(io.StringIO(text, newline="")))
            assert tuple(rows[0]) == layout.PLATFORM_COLUMNS
            for k, row in enumerate(rows[1:], start=2):
                rec = dict(zip(layout.PLATFORM_COLUMNS, row, strict=True))
                rec["IS_CONFIRMED"] = conf_code.get(rec["IS_CONFIRMED"], rec["IS_CONFIRMED"])
                rec["RECTIFY_RESULT"] = res_code.get(rec["RECTIFY_RESULT"], rec["RECTIFY_RESULT"])
                keep(d, rel, k, rec)
    assert encodings == {"gbk"}, "no platform export in GBK"
    return out


def test_generated_loop_reads_back(tmp_path):
    """tiny: the answers read back from the written files (dirt skipped as §6 says) give
    the truth's states; every labelled dirt row is where the label says, rejected at its
    stage; the planned corrections are verified; every kind of answer occurs."""
    import json

    from dagster_project.generator import generate
    from dagster_project.lib import audit_settings

    generate("tiny", tmp_path, seed=3)
    truth, landing = tmp_path / "truth", tmp_path / "landing"
    lab = pd.read_csv(truth / "anomalies.csv", dtype=str, keep_default_na=False)
    tl = pd.read_csv(truth / "area_daily_loss.csv", dtype={"tg_id": str})
    summ = json.loads((truth / "summary.json").read_text(encoding="utf-8"))
    start, n = dt.date.fromisoformat(summ["start"]), summ["days"]
    got = _read_back(landing)
    for a in got:
        a.day = (a.day - start).days
    orgs = wo.Orgs(pd.read_csv(next((landing / "marketing" / "O_ORG").glob("*")), dtype=str,
                               keep_default_na=False, encoding="gbk"))  # fmt: skip
    verify, rec = wo.loop_settings(audit_settings.load())
    qual = wo.qualified_days(tl, start, set(lab["tg_id"]))
    loop = wo.simulate(lab, start, n, orgs, wo.policy(), verify, rec, qual, answers=got)
    expect = pd.read_csv(truth / "work_orders.csv", dtype=str, keep_default_na=False)
    mine = wo.orders_frame(loop).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, expect, check_dtype=False)
    dirt = pd.read_csv(truth / "feedback_dirt.csv", dtype=str, keep_default_na=False)
    assert set(dirt["mistake"]) == set(wo.MISTAKES)
    rejected = {(a.source_file, str(a.line)) for a, _ in loop.rejected}
    at = {st: set(zip(g["file"], g["row"], strict=True)) for st, g in dirt.groupby("stage")}
    assert rejected == at["dbt"]
    assert not {(a.source_file, str(a.line)) for a in got} & at["extract"]
    # every row of every file is a valid answer the machine applied or labelled dirt
    ev = pd.read_csv(truth / "work_order_events.csv", dtype=str, keep_default_na=False)
    fb = ev[ev["source"] == "feedback"]
    applied = set(zip(fb["source_file"], fb["line_number"], strict=True))
    rows = set()
    for p in (landing / "feedback").rglob("*.*"):
        rel = str(p.relative_to(landing))
        if p.suffix == ".xlsx":
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_path(str(p))
            assert [m.name for m in book.sheets_metadata] == [layout.SHEET, layout.CODE_SHEET]
            k = len(book.get_sheet_by_name(layout.SHEET).to_python())
        else:
            k = len(p.read_bytes().splitlines())
        rows |= {(rel, str(j)) for j in range(2, k + 1)}
    assert rows == applied | at["dbt"] | at["extract"]
    assert not applied & (at["dbt"] | at["extract"])
    kinds = summ["work_orders"]["answer_kinds"]
    assert {"never", "rectified (stops)", "rectified (continues)", "不属实"} <= set(kinds)
    assert any("(late)" in k for k in kinds)
    assert {"已归档", "待验证", "整改中", "整改无效", "已派发"} <= set(expect["status"])
    assert (expect["archive_reason"] == "verified").any() and (
        expect["archive_reason"] == "false_positive"
    ).any()
    assert (expect["previous_work_order_no"] != "").any()
    assert {p.suffix for p in (landing / "feedback").rglob("*.*")} == {".xlsx", ".csv"}
    k = pd.read_csv(truth / "work_order_kpis.csv", dtype={"org_no": str})
    assert set(k["indicator_code"]) == set(wo.KPI_CODES)
    city = k[
        (k["org_no"] == "33401")
        & (k["period_type"] == "day")
        & (k["indicator_code"] == "wo_dispatched")
    ]
    assert city["numerator"].sum() == len(expect)


def test_policy_from_the_seed_and_the_contract_constant(tmp_path):
    seed = tmp_path / "dispatch_policy.csv"
    assert wo.policy(seed) == wo.CONTRACT_POLICY  # no seed yet: the contract's values
    assert wo.CONTRACT_POLICY["L01"] == wo.Policy(3, 7, "station", 90)
    assert wo.CONTRACT_POLICY["M06"] == wo.Policy(2, 5, "station", 90)
    assert wo.CONTRACT_POLICY["M07"] == wo.Policy(1, 5, "station", 90)
    assert wo.CONTRACT_POLICY["E01"] == wo.Policy(1, 5, "county", 90)
    assert (
        wo.CONTRACT_POLICY["T01"].answer_limit_days,
        wo.CONTRACT_POLICY["B02"].answer_limit_days,
    ) == (3, 7)
    seed.write_text(
        "problem_code,dispatch_after_days,answer_limit_days,receiving_level,suppress_days_after_false\n"
        "A01,2,4,station,30\n",
        encoding="utf-8",
    )
    assert wo.policy(seed) == {"A01": wo.Policy(2, 4, "station", 30)}


def test_rectified_day_plans_the_answer_within_the_limit_mostly():
    class W:
        n = 62
        snap_days = [0, 3, 7, 14, 21, 28, 31, 35, 42, 49, 56]

    days = [wo.rectified_day(W, "A03", k) for k in range(0, 24, 2)]
    assert set(days) <= set(W.snap_days[1:])
    on_time = [d for d in days if d - 1 <= 0 + 10]  # dispatched day 0, limit 10
    assert len(on_time) >= len(days) * 2 // 3 and len(on_time) < len(days)

    class Short:
        n = 3
        snap_days = [0]

    assert wo.rectified_day(Short, "A03", 0) is None
