"""The work-order loop of the generated data (docs/work-orders.md, issue 11): the field's
answers to the orders the findings become, and the truth of every order and KPI.

Three parts:

* `simulate()` — an independent implementation of the state machine of docs/work-orders.md
  §3 over the truth's finding runs (truth/anomalies.csv) and a list of answers, day by day.
  It is the test oracle of the dbt models: it follows the contract, not the SQL.
* the field (`Field`): when `simulate()` dispatches an order it asks the field for the
  order's answers (the days they land, what they say). Most orders are answered within
  their limit, some late, some never; a share 不属实; the rectified anomalies whose end the
  generator controls (archive injections corrected on a snapshot day, `rectified_day`)
  are answered 属实 已整改 the day before the correction lands, so verification archives
  them; others are answered 已整改 while they go on (整改无效, and a new order).
* `write()` — the answers as the field returns them (`<landing>/feedback/<D>/<ORG>_反馈.xlsx`
  for most units, the platform export `<landing>/feedback/R_AUDIT_FEEDBACK/<D>.csv` for
  others), a few rows with the mistakes of §6 (labelled in truth/feedback_dirt.csv), and
  truth/work_orders.csv, work_order_events.csv, work_order_kpis.csv.

The circular dependency (the dispatch day depends on the findings, the findings on the
corrections) is cut by planning on the injections' own days: an archive injection present
from the first day fires from day 0, its order is dispatched on day `dispatch_after_days`
- 1, and `rectified_day` picks the snapshot day S it is corrected on (answer day S - 1).
Everything else is computed after the data from the final truth, and gets only answers that
do not change the data.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.lib import work_order_layout as layout
from dagster_project.lib.settings import DBT_PROJECT_DIR

# ------------------------------------------------------------------------------ settings

POLICY_SEED = DBT_PROJECT_DIR / "seeds" / "dispatch_policy.csv"


@dataclass(frozen=True)
class Policy:
    dispatch_after_days: int
    answer_limit_days: int
    receiving_level: str  # station | county
    suppress_days_after_false: int


def _contract_policy(code: str) -> Policy:
    """docs/work-orders.md §1, used while dbt/seeds/dispatch_policy.csv does not exist (the
    seed, when present, wins: `policy()`)."""
    after = (
        3 if code in ("L01", "L02", "L03") else 2 if code in {f"M0{k}" for k in range(1, 7)} else 1
    )
    limit = {"T": 3, "M": 5, "L": 7, "B": 7, "E": 5, "A": 10}[code[0]]
    return Policy(after, limit, "county" if code == "E01" else "station", 90)


CODES = ("L01", "L02", "L03") + tuple(f"A0{k}" for k in range(1, 10))
CODES += tuple(f"M0{k}" for k in range(1, 8)) + ("T01", "B01", "B02", "E01")
CONTRACT_POLICY: dict[str, Policy] = {c: _contract_policy(c) for c in CODES}
# audit_settings.csv names and the contract's defaults (used when the setting is missing)
VERIFY_SETTING, VERIFY_DEFAULT = "work_order_verify_days", 7
RECURRENCE_SETTING, RECURRENCE_DEFAULT = "work_order_recurrence_days", 30
LOSS_VERIFIED_CODES = ("L01", "L02")  # verification also needs the area's loss qualified


def policy(path: Path = POLICY_SEED) -> dict[str, Policy]:
    """The dispatch policy per rule code: the seed when it exists, else the contract's values."""
    if not path.exists():
        return dict(CONTRACT_POLICY)
    out = {}
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out[r["problem_code"]] = Policy(
                int(r["dispatch_after_days"]),
                int(r["answer_limit_days"]),
                r["receiving_level"].strip(),
                int(r["suppress_days_after_false"]),
            )
    return out


def loop_settings(settings: dict[str, str]) -> tuple[int, int]:
    """(work_order_verify_days, work_order_recurrence_days) of audit_settings.csv."""
    return (
        int(float(settings.get(VERIFY_SETTING, VERIFY_DEFAULT))),
        int(float(settings.get(RECURRENCE_SETTING, RECURRENCE_DEFAULT))),
    )


# ------------------------------------------------------------------------------ planning

# archive injections corrected on a snapshot day (anomalies.py `_fix_day`): their truth
# run is the injection window [0, fix - 1], so their order's dispatch day is known before
# the data is written
RECTIFIABLE = ("A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09")


def rectified_day(w, code: str, k: int) -> int | None:
    """The snapshot day S from which the k-th corrected instance of an archive injection of
    `code` (present from day 0) is corrected; the field answers 属实 已整改 on S - 1. Mostly a
    day whose answer is within the limit (dispatch day + answer_limit_days); every fourth
    one late when the window has such a snapshot. None when the window has no mid snapshot."""
    mids = [d for d in w.snap_days if 0 < d < w.n - 1]
    if not mids:
        return None
    p = policy().get(code, _contract_policy(code))
    d0 = p.dispatch_after_days - 1
    deadline = d0 + p.answer_limit_days
    on_time = [d for d in mids if d0 + 1 <= d - 1 <= deadline]
    late = [d for d in mids if d - 1 > deadline]
    j = k // 2  # the corrected instances are every other one (anomalies.py)
    if late and (j % 4 == 3 or not on_time):
        return late[j % len(late)]
    if on_time:
        return on_time[j % len(on_time)]
    return mids[(len(mids) // 2 + k) % len(mids)]


# ------------------------------------------------------------------------------ the machine


def finding_key(code: str, app_no: str, cons_no: str, tg_id: str, org_no: str) -> str:
    """problem_code || '|' || coalesce(app_no, cons_no, tg_id, org_no, '') (empty = null)."""
    for v in (app_no, cons_no, tg_id, org_no):
        if v:
            return f"{code}|{v}"
    return f"{code}|"


@dataclass
class Answer:
    """One answer row as the extract loads it (valid at extract)."""

    day: int  # the landing folder's day (window day index)
    work_order_no: str
    is_confirmed: str  # 属实 | 不属实
    rectify_result: str = ""  # 已整改 | 整改中 | 无法整改 | ''
    feedback_date: str = ""
    source_file: str = ""
    line: int = 0
    # what the crew wrote besides (not read by the machine)
    fields: dict = field(default_factory=dict)


@dataclass
class Order:
    work_order_no: str
    finding_key: str
    problem_code: str
    tg_id: str
    cons_no: str
    app_no: str
    org_no: str  # receiving unit
    station_no: str  # the finding's 供电所
    dispatch: int
    deadline: int
    previous: str = ""
    status: str = "已派发"
    first_answer: int | None = None
    first_confirmed: str = ""
    rectified: int | None = None
    verified: int | None = None
    archived: int | None = None
    archive_reason: str = ""
    ineffective: int | None = None
    is_recurrence: bool = False
    answers: list = field(default_factory=list)  # (day, is_confirmed, rectify_result) winners
    streak_start: int = 0  # first day of the finding's unbroken run on the dispatch day

    @property
    def open(self) -> bool:
        return self.status in ("已派发", "已反馈", "整改中", "待验证")

    def last_answer_by(self, d: int) -> tuple | None:
        got = [a for a in self.answers if a[0] <= d]
        return got[-1] if got else None


@dataclass
class Finding:
    key: str
    code: str
    days: dict  # day -> (tg_id, cons_no, app_no, org_no) of the run covering it
    streak: dict  # day -> first day of its unbroken run

    def fires(self, d: int) -> bool:
        return d in self.days


def findings(runs: pd.DataFrame, start: dt.date) -> dict[str, Finding]:
    """Finding keys of truth/anomalies.csv runs (dates as ISO text), their firing days."""
    out: dict[str, Finding] = {}
    r = runs.fillna("")
    for code, tg, org, cons, app, a, b in zip(
        r["rule_code"], r["tg_id"], r["org_no"], r["cons_no"], r["app_no"],
        r["first_date"], r["last_date"], strict=True,
    ):  # fmt: skip
        key = finding_key(code, app, cons, tg, org)
        f = out.setdefault(key, Finding(key, code, {}, {}))
        d0 = (dt.date.fromisoformat(a) - start).days
        d1 = (dt.date.fromisoformat(b) - start).days
        for d in range(d0, d1 + 1):
            f.days.setdefault(d, (tg, cons, app, org))
    for f in out.values():
        prev, first = None, None
        for d in sorted(f.days):
            if prev is None or d != prev + 1:
                first = d
            f.streak[d] = first
            prev = d
    return out


@dataclass
class Loop:
    orders: list[Order]
    events: list[dict]
    rejected: list[tuple[Answer, str]]  # (answer, reason: unknown | closed)
    answers: list[Answer]  # every answer the machine read (the field's included)
    findings: dict[str, Finding]
    start: dt.date
    n: int


class Orgs:
    """The org tree (O_ORG: ORG_NO, P_ORG_NO, ORG_TYPE 02 city / 03 county / 04 station)."""

    def __init__(self, orgs: pd.DataFrame):
        self.parent = dict(zip(orgs["ORG_NO"], orgs["P_ORG_NO"], strict=True))
        self.type = dict(zip(orgs["ORG_NO"], orgs["ORG_TYPE"], strict=True))
        self.name = dict(zip(orgs["ORG_NO"], orgs["ORG_NAME"], strict=True))

    def station(self, org: str) -> str:
        """The 供电所 of a finding's org_no: the generator's areas and applications belong to
        a 供电所 (G_TG / APP_BIZ ORG_NO), so it is the org itself."""
        return org

    def up(self, org: str) -> list[str]:
        """The org and its ancestors (the units its KPIs roll up to)."""
        out, o = [], org
        while o:
            out.append(o)
            o = self.parent.get(o, "")
        return out


def simulate(
    runs: pd.DataFrame,
    start: dt.date,
    n: int,
    orgs: Orgs,
    pol: dict[str, Policy] | None = None,
    verify_days: int = VERIFY_DEFAULT,
    recurrence_days: int = RECURRENCE_DEFAULT,
    qualified: set | None = None,
    answers: list[Answer] = (),
    field_model=None,
) -> Loop:
    """docs/work-orders.md §3, day by day over the window's days 0..n-1.

    `qualified`: (tg_id, day) pairs whose area_daily_loss loss_status is qualified (L01/L02
    verification). `answers`: answers valid at extract (the machine rejects unknown numbers
    and answers to closed orders). `field_model(order, loop)`: called on every dispatch,
    returns the order's answers (days after the dispatch day), which the machine then reads
    like any other."""
    pol = pol or policy()
    qualified = qualified or set()
    fs = findings(runs, start)
    pending: dict[int, list[Answer]] = defaultdict(list)
    for a in answers:
        pending[a.day].append(a)
    loop = Loop([], [], [], list(answers), fs, start, n)
    by_no: dict[str, Order] = {}
    current: dict[str, Order] = {}  # the key's latest order
    false_days: dict[str, list[int]] = defaultdict(list)
    firing: dict[int, list[str]] = defaultdict(list)
    for f in fs.values():
        for d in f.days:
            firing[d].append(f.key)

    def event(d, o, frm, to, source, file="", line=0):
        loop.events.append(
            {
                "event_date": d,
                "work_order_no": o.work_order_no,
                "from_status": frm,
                "to_status": to,
                "source": source,
                "source_file": file,
                "line_number": line,
            }
        )

    for d in range(n):
        # 1. answers landing on d, per order; the last one (FEEDBACK_DATE, file, line) wins
        today: dict[str, list[Answer]] = defaultdict(list)
        for a in sorted(pending.get(d, []), key=lambda a: (a.feedback_date, a.source_file, a.line)):
            o = by_no.get(a.work_order_no)
            if o is None or o.dispatch >= d:
                loop.rejected.append((a, "unknown"))
            elif not o.open:  # 已归档 / 整改无效 on d - 1 (answers of d apply together)
                loop.rejected.append((a, "closed"))
            else:
                today[a.work_order_no].append(a)
        for no, got in today.items():
            o = by_no[no]
            for a in got:
                event(d, o, o.status, "已反馈", "feedback", a.source_file, a.line)
                o.status = "已反馈"
            a = got[-1]
            if o.first_answer is None:
                o.first_answer, o.first_confirmed = d, a.is_confirmed
            o.answers.append((d, a.is_confirmed, a.rectify_result))
            if a.is_confirmed == "不属实":
                to = "已归档"
                o.archived, o.archive_reason = d, "false_positive"
                false_days[o.finding_key].append(d)
                o.rectified = None
            elif a.rectify_result == "已整改":
                to, o.rectified = "待验证", d
            else:
                to, o.rectified = "整改中", None
            event(d, o, "已反馈", to, "feedback", a.source_file, a.line)
            o.status = to
        # 2. verification of orders 待验证 since R < d
        reopened: set[str] = set()
        for key, o in list(current.items()):
            if o.status != "待验证" or o.rectified is None or o.rectified >= d:
                continue
            f = fs[key]
            if f.fires(d):
                event(d, o, "待验证", "整改无效", "verification")
                o.status, o.ineffective = "整改无效", d
                reopened.add(key)
            elif d - o.rectified >= verify_days:
                if f.code in LOSS_VERIFIED_CODES and not all(
                    (o.tg_id, x) in qualified for x in range(d - verify_days + 1, d + 1)
                ):
                    continue  # the area's loss not yet qualified on each of those days
                event(d, o, "待验证", "已归档", "verification")
                o.status = "已归档"
                o.verified = o.archived = d
                o.archive_reason = "verified"
        # 3. dispatch
        for key in sorted(firing.get(d, [])):
            f = fs[key]
            p = pol[f.code]
            last = current.get(key)
            if last is not None and last.open:
                continue
            if any(a <= d < a + p.suppress_days_after_false for a in false_days[key]):
                continue
            if d - f.streak[d] + 1 < p.dispatch_after_days and key not in reopened:
                continue
            tg, cons, app, org = f.days[d]
            station = orgs.station(org)
            unit = orgs.parent.get(station, station) if p.receiving_level == "county" else station
            o = Order(
                layout.work_order_no(start + dt.timedelta(days=d), f.code, key),
                key, f.code, tg, cons, app, unit, station, d, d + p.answer_limit_days,
                previous=last.work_order_no if last is not None else "",
                streak_start=f.streak[d],
            )  # fmt: skip
            by_no[o.work_order_no] = o
            current[key] = o
            loop.orders.append(o)
            event(d, o, "", "已派发", "dispatch")
            if field_model is not None:
                for a in field_model(o, loop):
                    if d < a.day < n:
                        pending[a.day].append(a)
                        loop.answers.append(a)
    for o in loop.orders:
        if o.archive_reason == "verified":
            f = fs[o.finding_key]
            o.is_recurrence = any(
                f.fires(x) for x in range(o.verified + 1, o.verified + recurrence_days + 1)
            )
    return loop


# ------------------------------------------------------------------------------ KPIs

KPI_CODES = (
    "wo_dispatched",
    "wo_on_time_rate",
    "wo_confirmed_rate",
    "wo_rectified_rate",
    "wo_effective_rate",
    "wo_recurrence_rate",
    "wo_mean_close_days",
    "wo_overdue",
)


def kpis(loop: Loop, orgs: Orgs, recurrence_days: int = RECURRENCE_DEFAULT) -> pd.DataFrame:
    """docs/work-orders.md §4 per org of the tree (every 供电所, 县公司 and the 地市公司, zeros
    included), per day of the window and per month: org_no, period_type (day | month),
    period_start, indicator_code, numerator, denominator."""
    n = loop.n
    num: dict[tuple, float] = defaultdict(float)
    den: dict[tuple, float] = defaultdict(float)

    def add(o: Order, code: str, d: int, x: float, y: float) -> None:
        if 0 <= d < n:
            for u in orgs.up(o.org_no):
                num[(u, code, d)] += x
                den[(u, code, d)] += y

    for o in loop.orders:
        add(o, "wo_dispatched", o.dispatch, 1, 1)
        dl = o.deadline
        add(o, "wo_on_time_rate", dl, int(o.first_answer is not None and o.first_answer <= dl), 1)
        if o.first_answer is not None:
            add(o, "wo_confirmed_rate", o.first_answer, int(o.first_confirmed == "属实"), 1)
        last = o.last_answer_by(dl)
        if last is not None and last[1] == "属实":
            add(o, "wo_rectified_rate", dl, int(last[2] == "已整改"), 1)
        if o.archive_reason == "verified":
            add(o, "wo_effective_rate", o.verified, 1, 1)
            v = o.verified + recurrence_days
            f = loop.findings[o.finding_key]
            add(
                o,
                "wo_recurrence_rate",
                v,
                int(any(f.fires(x) for x in range(o.verified + 1, v + 1))),
                1,
            )
        if o.ineffective is not None:
            add(o, "wo_effective_rate", o.ineffective, 0, 1)
        if o.archived is not None:
            add(o, "wo_mean_close_days", o.archived, o.archived - o.dispatch, 1)
        for d in range(dl + 1, n):
            if o.first_answer is None or o.first_answer > d:
                add(o, "wo_overdue", d, 1, 1)
    units = [u for u, t in orgs.type.items() if t in ("02", "03", "04")]
    days = [loop.start + dt.timedelta(days=d) for d in range(n)]
    rows = []
    for u in sorted(units):
        for code in KPI_CODES:
            month: dict[dt.date, list] = {}
            for d, day in enumerate(days):
                x, y = num.get((u, code, d), 0), den.get((u, code, d), 0)
                rows.append((u, "day", day.isoformat(), code, x, y))
                m = month.setdefault(day.replace(day=1), [0, 0])
                if code == "wo_overdue":  # the month's last day with data
                    m[0], m[1] = x, y
                else:
                    m[0] += x
                    m[1] += y
            for m0, (x, y) in month.items():
                rows.append((u, "month", m0.isoformat(), code, x, y))
    df = pd.DataFrame(
        rows,
        columns=[
            "org_no",
            "period_type",
            "period_start",
            "indicator_code",
            "numerator",
            "denominator",
        ],
    )
    df["numerator"] = df["numerator"].astype(np.int64)
    df["denominator"] = df["denominator"].astype(np.int64)
    return df


# ------------------------------------------------------------------------------ the field

CHECKERS = ("张伟", "王芳", "李强", "刘洋", "陈杰", "杨敏", "赵磊", "黄静", "周涛", "吴斌")
OTHER = ("无", "无", "无", "表箱锈蚀，已报修", "计量箱封印缺失，已补封", "客户电话变更，已更新")


class Field:
    """How the crews answer (docs/work-orders.md; the shares are the generator's, not the
    contract's). Per order, from its own random stream (seed, number): the answers do not
    depend on which other orders exist."""

    NEVER = 0.10  # never answered
    LATE = 0.15  # answered after the deadline (1..6 days)
    KINDS = (("不属实", ""), ("属实", "整改中"), ("属实", "无法整改"), ("属实", "已整改"))
    SHARES = (0.20, 0.30, 0.10, 0.40)
    FOLLOW_UP = 0.4  # a 整改中 answer followed by 已整改 2..7 days later
    HONEST = 0.7  # an 已整改 drawn for a finding that fires the next day becomes 整改中

    def __init__(self, seed: int, plan: dict[str, tuple], pol: dict[str, Policy]):
        self.seed, self.plan, self.pol = seed, plan, pol
        self.kind: dict[str, str] = {}  # work order no -> how it was answered (the report)

    def _rng(self, no: str) -> np.random.Generator:
        return np.random.default_rng(
            [self.seed, 11, int(hashlib.md5(no.encode()).hexdigest()[:12], 16)]
        )

    def __call__(self, o: Order, loop: Loop) -> list[Answer]:
        out = self._answers(o, loop)
        if out and min(a.day for a in out) >= loop.n:
            self.kind[o.work_order_no] = "answer after the window"
        return out

    def _answers(self, o: Order, loop: Loop) -> list[Answer]:
        rng = self._rng(o.work_order_no)
        f = loop.findings[o.finding_key]
        lim = o.deadline - o.dispatch
        plan = self.plan.get(o.finding_key) if not o.previous else None
        if plan is not None and plan[0] == "stops":
            s = plan[1]
            if o.dispatch < s - 1 and f.fires(s - 1) and not f.fires(s):
                self.kind[o.work_order_no] = "rectified (stops)"
                return [self._answer(o, s - 1, "属实", "已整改", rng)]
        if plan is not None and plan[0] == "continues":
            a = o.dispatch + int(rng.integers(1, lim + 1))
            if f.fires(a + 1):
                self.kind[o.work_order_no] = "rectified (continues)"
                return [self._answer(o, a, "属实", "已整改", rng)]
        if rng.random() < self.NEVER:
            self.kind[o.work_order_no] = "never"
            return []
        late = rng.random() < self.LATE
        a = o.dispatch + (lim + int(rng.integers(1, 7)) if late else int(rng.integers(1, lim + 1)))
        conf, res = self.KINDS[int(rng.choice(len(self.KINDS), p=self.SHARES))]
        if res == "已整改" and f.fires(a + 1) and rng.random() < self.HONEST:
            res = "整改中"  # most crews do not call a problem that goes on rectified
        out = [self._answer(o, a, conf, res, rng)]
        k = "不属实" if conf == "不属实" else f"属实 {res}"
        if res == "整改中" and rng.random() < self.FOLLOW_UP:
            out.append(self._answer(o, a + int(rng.integers(2, 8)), "属实", "已整改", rng))
            k += " then 已整改"
        self.kind[o.work_order_no] = k + (" (late)" if late else "")
        return out

    def _answer(self, o: Order, day: int, conf: str, res: str, rng) -> Answer:
        f: dict[str, str] = {
            "CHECK_RESULT": (
                "现场核查属实" if conf == "属实" else "现场核查未发现该问题，系统误报"
            ),
            "OTHER_FINDINGS": OTHER[int(rng.integers(len(OTHER)))],
            "CHECKER": CHECKERS[int(rng.integers(len(CHECKERS)))],
        }
        if conf == "属实":
            hh, mm = int(rng.integers(8, 18)), int(rng.integers(0, 60))
            back = int(rng.integers(0, max(1, day - o.dispatch)))
            f["RECTIFY_START_TIME"] = (day - back, hh, mm)  # day index, hour, minute
            f["RECTIFY_APP_NO"] = f"ZG{int(rng.integers(10**9, 10**10))}"
        return Answer(day, o.work_order_no, conf, res, fields=f)


def field_plan(plan: list[dict]) -> dict[str, tuple]:
    """finding key -> the injection's plan for its first order (anomalies.py `_wo`)."""
    out = {}
    for p in plan:
        if p.get("wo") and p["code"] in RECTIFIABLE:
            out[finding_key(p["code"], p["app"], p["cons"], p["tg"], "")] = p["wo"]
    return out


# ------------------------------------------------------------------------------ writing

MISTAKES = ("unknown_number", "not_in_list", "confirmed_incomplete", "archived_order", "no_date")
# where each is rejected (docs/work-orders.md §6)
MISTAKE_STAGE = {
    "unknown_number": "dbt",
    "not_in_list": "extract",
    "confirmed_incomplete": "extract",
    "archived_order": "dbt",
    "no_date": "extract",
}
FEEDBACK_DIR = "feedback"
PLATFORM_TABLE = "R_AUDIT_FEEDBACK"


def platform_units(units: list[str]) -> set[str]:
    """Every third receiving unit (sorted) answers on the platform, the others by workbook."""
    return {u for k, u in enumerate(sorted(units)) if k % 3 == 2}


def platform_encoding(k: int) -> str:
    """The k-th platform export file (by day): GBK when k % 3 == 0, else UTF-8 (§6: both)."""
    return "gbk" if k % 3 == 0 else "utf-8"


@dataclass
class Context:
    """What the locked columns of a returned list need (as the dispatch list shows them)."""

    orgs: Orgs
    tg_name: dict
    cons_name: dict
    cons_addr: dict
    problem_name: dict
    suggested: dict


def _rows(loop: Loop, seed: int) -> list[dict]:
    """Every answer row to write (the dirty copies included) and the dirt labels."""
    start = loop.start
    by_no = {o.work_order_no: o for o in loop.orders}

    def day(d: int) -> dt.date:
        return start + dt.timedelta(days=d)

    rows = []
    for a in loop.answers:
        o = by_no[a.work_order_no]
        f = dict(a.fields)
        rst = f.get("RECTIFY_START_TIME")
        if rst:
            f["RECTIFY_START_TIME"] = dt.datetime.combine(day(rst[0]), dt.time(rst[1], rst[2]))
        rows.append(
            {
                "day": a.day,
                "org": o.org_no,
                "order": o,
                "answer": a,
                "IS_CONFIRMED": a.is_confirmed,
                "RECTIFY_RESULT": a.rectify_result,
                "FEEDBACK_DATE": day(a.day),
                **f,
                "mistake": "",
            }
        )
    # the mistakes of §6: copies of valid answers, each in a workbook and on the platform
    rng = np.random.default_rng([seed, 12])
    units = {o.org_no for o in loop.orders}
    plat = platform_units(list(units))
    order = sorted(
        range(len(rows)), key=lambda k: (rows[k]["day"], rows[k]["answer"].work_order_no)
    )
    for mistake in MISTAKES:
        for on_platform in (False, True):
            cand = [k for k in order if (rows[k]["org"] in plat) == on_platform]
            if mistake in ("confirmed_incomplete", "no_date"):
                cand = [k for k in cand if rows[k]["IS_CONFIRMED"] == "属实"]
            if mistake == "archived_order":
                cand = [
                    k
                    for k in cand
                    if rows[k]["IS_CONFIRMED"] == "不属实"
                    and rows[k]["order"].archived == rows[k]["day"]
                    and rows[k]["day"] + 1 < loop.n
                ]
            if not cand:
                continue
            k = cand[int(rng.integers(len(cand)))]
            r = {**rows[k], "mistake": mistake}
            if mistake == "unknown_number":
                no = r["answer"].work_order_no
                r["WORK_ORDER_NO"] = (
                    no[:-8] + hashlib.md5((no + "?").encode()).hexdigest()[:8].upper()
                )
            elif mistake == "not_in_list":
                r["IS_CONFIRMED"] = "是" if not on_platform else "2"
            elif mistake == "confirmed_incomplete":
                r["RECTIFY_APP_NO"] = ""
            elif mistake == "archived_order":
                r["day"] = min(loop.n - 1, r["day"] + 1 + int(rng.integers(0, 3)))
                r["FEEDBACK_DATE"] = day(r["day"])
            elif mistake == "no_date":
                r["RECTIFY_START_TIME"] = f"{day(r['day']):%Y-%m}-3{int(rng.integers(2, 10))} 09:00"
            rows.append(r)
    return rows


def _locked(o: Order, ctx: Context, start: dt.date) -> dict:
    """The fifteen locked columns as the dispatch list fills them, as far as the generator
    knows them: 疑似问题描述 (the finding's evidence, computed by dbt) is left blank, which
    the pipeline does not count as an edit (docs/work-orders.md §6)."""
    name = ctx.problem_name.get(o.problem_code, o.problem_code)
    return {
        "WORK_ORDER_NO": o.work_order_no,
        "DISPATCH_DATE": start + dt.timedelta(days=o.dispatch),
        "ANSWER_DEADLINE": start + dt.timedelta(days=o.deadline),
        "STATION_NAME": ctx.orgs.name.get(o.station_no, ""),
        "TG_ID": o.tg_id,
        "TG_NAME": ctx.tg_name.get(o.tg_id, ""),
        "CONS_NO": o.cons_no,
        "CONS_NAME": ctx.cons_name.get(o.cons_no, ""),
        "ELEC_ADDR": ctx.cons_addr.get(o.cons_no, ""),
        "PROBLEM_CODE": o.problem_code,
        "PROBLEM_NAME": name,
        "PROBLEM_DESC": "",
        "SUGGESTED_ACTION": ctx.suggested.get(o.problem_code, ""),
        "FIRST_DETECTED_DATE": start + dt.timedelta(days=o.streak_start),
        "CONSECUTIVE_DAYS": o.dispatch - o.streak_start + 1,
    }


def _returned_sheet(wb, ws, rs: list[dict], ctx: Context, start, path, placed) -> None:
    """The list as the crew returns it: the order columns locked, the answer columns
    unlocked with their dropdowns and date formats (a pasted value bypasses a dropdown, as
    in Excel), frozen header, autofilter, the code tables on a hidden sheet."""
    n_locked = layout.LOCKED_COUNT
    fmt = {
        (lock, kind): wb.add_format(
            {"locked": lock, **({"num_format": kind} if kind else {})}
        )
        for lock in (True, False)
        for kind in ("", "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss")
    }  # fmt: skip
    ws.write_row(0, 0, layout.HEADERS, wb.add_format({"bold": True, "locked": True}))
    for k, r in enumerate(rs):
        vals = {
            **_locked(r["order"], ctx, start),
            **{c: r.get(c, "") for c in layout.ANSWER_COLUMNS},
        }
        if "WORK_ORDER_NO" in r:
            vals["WORK_ORDER_NO"] = r["WORK_ORDER_NO"]
        for j, c in enumerate(layout.COLUMNS):
            v, lock = vals.get(c, ""), j < n_locked
            if isinstance(v, dt.datetime):
                ws.write_datetime(k + 1, j, v, fmt[(lock, "yyyy-mm-dd hh:mm:ss")])
            elif isinstance(v, dt.date):
                v = dt.datetime.combine(v, dt.time())
                ws.write_datetime(k + 1, j, v, fmt[(lock, "yyyy-mm-dd")])
            elif isinstance(v, int | np.integer):
                ws.write_number(k + 1, j, int(v), fmt[(lock, "")])
            else:
                ws.write_string(k + 1, j, str(v), fmt[(lock, "")])
        placed(r, path, layout.SHEET, k + 2)
    last = max(1, len(rs))
    col = {c: j for j, c in enumerate(layout.COLUMNS)}
    codes = wb.add_worksheet(layout.CODE_SHEET)
    codes.write_column(0, 0, list(layout.IS_CONFIRMED))
    codes.write_column(0, 1, list(layout.RECTIFY_RESULT))
    codes.hide()
    for c, ref in (("IS_CONFIRMED", "$A$1:$A$2"), ("RECTIFY_RESULT", "$B$1:$B$3")):
        ws.data_validation(
            1, col[c], last, col[c], {"validate": "list", "source": f"={layout.CODE_SHEET}!{ref}"}
        )
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, last, len(layout.COLUMNS) - 1)
    ws.protect("", {"autofilter": True, "sort": True})


def write_feedback(
    loop: Loop, ctx: Context, landing: Path, seed: int
) -> tuple[pd.DataFrame, list[Answer]]:
    """The answers as files under `landing`/feedback. Sets every valid answer's source file
    and line; returns the dirt labels (file, sheet, row, mistake, stage, work_order_no) and
    the dirty rows the extract lets through (unknown number, answer to a closed order) as
    answers for the machine to reject."""
    import xlsxwriter

    start = loop.start
    rows = _rows(loop, seed)
    units = {o.org_no for o in loop.orders}
    plat = platform_units(list(units))
    root = Path(landing) / FEEDBACK_DIR
    labels, passed = [], []

    def _placed(r: dict, path: Path, sheet: str, line: int) -> None:
        rel = str(path.relative_to(landing))
        if not r["mistake"]:
            r["answer"].source_file, r["answer"].line = rel, line
            r["answer"].feedback_date = r["FEEDBACK_DATE"].isoformat()
            return
        labels.append((path, sheet, line, r))
        if MISTAKE_STAGE[r["mistake"]] == "dbt":
            a = r["answer"]
            passed.append(
                Answer(
                    r["day"], r.get("WORK_ORDER_NO", a.work_order_no), a.is_confirmed,
                    a.rectify_result, r["FEEDBACK_DATE"].isoformat(), rel, line,
                )
            )  # fmt: skip

    books: dict[tuple, list] = defaultdict(list)
    platform: dict[int, list] = defaultdict(list)
    for r in rows:
        (platform[r["day"]] if r["org"] in plat else books[(r["day"], r["org"])]).append(r)

    def key(r):
        return (r["mistake"] != "", r.get("WORK_ORDER_NO", r["answer"].work_order_no), r["mistake"])

    def text(v) -> str:
        if isinstance(v, dt.datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(v, dt.date):
            return v.isoformat()
        return "" if v is None else str(v)

    for (d, org), rs in sorted(books.items()):
        day = start + dt.timedelta(days=d)
        path = root / day.isoformat() / f"{org}_反馈.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        wb = xlsxwriter.Workbook(str(path))
        wb.set_properties({"created": dt.datetime.combine(day, dt.time(18, 0))})
        ws = wb.add_worksheet(layout.SHEET)
        _returned_sheet(wb, ws, sorted(rs, key=key), ctx, start, path, _placed)
        wb.close()
    for f_no, (d, rs) in enumerate(sorted(platform.items())):
        day = start + dt.timedelta(days=d)
        path = root / PLATFORM_TABLE / f"{day.isoformat()}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding=platform_encoding(f_no), newline="") as fh:
            wr = csv.writer(fh, lineterminator="\n")
            wr.writerow(layout.PLATFORM_COLUMNS)
            for k, r in enumerate(sorted(rs, key=key)):
                conf = r["IS_CONFIRMED"]
                res = r["RECTIFY_RESULT"]
                wr.writerow(
                    [
                        r.get("WORK_ORDER_NO", r["answer"].work_order_no),
                        r.get("CHECK_RESULT", ""),
                        layout.IS_CONFIRMED.get(conf, conf),
                        r.get("OTHER_FINDINGS", ""),
                        text(r.get("RECTIFY_START_TIME", "")),
                        layout.RECTIFY_RESULT.get(res, res),
                        r.get("RECTIFY_APP_NO", ""),
                        r.get("CHECKER", ""),
                        text(r["FEEDBACK_DATE"]),
                    ]
                )
                _placed(r, path, "", k + 2)
    return pd.DataFrame(
        [
            {
                "file": str(p.relative_to(landing)),
                "sheet": sheet,
                "row": row,
                "mistake": r["mistake"],
                "stage": MISTAKE_STAGE[r["mistake"]],
                "work_order_no": r.get("WORK_ORDER_NO", r["answer"].work_order_no),
                "answered_order": r["answer"].work_order_no,
            }
            for p, sheet, row, r in labels
        ],
        columns=["file", "sheet", "row", "mistake", "stage", "work_order_no", "answered_order"],
    ), passed


def orders_frame(loop: Loop) -> pd.DataFrame:
    """truth/work_orders.csv: every order's expected state on the window's last day."""
    start, last = loop.start, loop.n - 1

    def ds(d):
        return "" if d is None else (start + dt.timedelta(days=d)).isoformat()

    rows = []
    for o in loop.orders:
        win = o.answers[-1] if o.answers else (None, "", "")
        rows.append(
            {
                "work_order_no": o.work_order_no,
                "finding_key": o.finding_key,
                "problem_code": o.problem_code,
                "tg_id": o.tg_id,
                "cons_no": o.cons_no,
                "app_no": o.app_no,
                "org_no": o.org_no,
                "station_no": o.station_no,
                "dispatch_date": ds(o.dispatch),
                "answer_deadline": ds(o.deadline),
                "status": o.status,
                "is_overdue": str(
                    last > o.deadline and (o.first_answer is None or o.first_answer > o.deadline)
                ).lower(),
                "first_answer_date": ds(o.first_answer),
                "rectified_date": ds(o.rectified),
                "verified_date": ds(o.verified),
                "archived_date": ds(o.archived),
                "archive_reason": o.archive_reason,
                "ineffective_date": ds(o.ineffective),
                "previous_work_order_no": o.previous,
                "is_recurrence": str(o.is_recurrence).lower(),
                "last_answer_date": ds(win[0]),
                "is_confirmed": win[1],
                "rectify_result": win[2],
            }
        )
    cols = [
        "work_order_no", "finding_key", "problem_code", "tg_id", "cons_no", "app_no", "org_no",
        "station_no", "dispatch_date", "answer_deadline", "status", "is_overdue",
        "first_answer_date", "rectified_date", "verified_date", "archived_date",
        "archive_reason", "ineffective_date", "previous_work_order_no", "is_recurrence",
        "last_answer_date", "is_confirmed", "rectify_result",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols).sort_values("work_order_no", kind="stable")


def events_frame(loop: Loop) -> pd.DataFrame:
    start = loop.start
    df = pd.DataFrame(
        loop.events,
        columns=[
            "event_date",
            "work_order_no",
            "from_status",
            "to_status",
            "source",
            "source_file",
            "line_number",
        ],
    )
    df["event_date"] = [(start + dt.timedelta(days=int(d))).isoformat() for d in df["event_date"]]
    return df


# ------------------------------------------------------------------------------ entry


def _context(s, snapshots, orders: list[Order]) -> Context:
    from .world import cons_index

    w = s.w
    g = snapshots[0][1]["G_TG"].frame()
    cons = sorted({o.cons_no for o in orders if o.cons_no})
    ci = cons_index(w, cons) if cons else np.zeros(0, np.int64)
    known = [(c, int(i)) for c, i in zip(cons, ci, strict=True) if i >= 0]
    idx = np.array([i for _, i in known], dtype=np.int64)
    names = w.cons_name.pa(idx).to_pylist() if len(idx) else []
    addrs = w.addr.pa(idx).to_pylist() if len(idx) else []
    codes = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "dim_problem_code.csv", dtype=str)
    return Context(
        Orgs(w.orgs),
        dict(zip(g["TG_ID"], g["TG_NAME"], strict=True)),
        {c: nm for (c, _), nm in zip(known, names, strict=True)},
        {c: a for (c, _), a in zip(known, addrs, strict=True)},
        dict(zip(codes["problem_code"], codes["problem_name"], strict=True)),
        dict(zip(codes["problem_code"], codes["suggested_action"], strict=True)),
    )


def qualified_days(tl: pd.DataFrame, start: dt.date, tgs: set) -> set:
    """(tg_id, day index) of the area-days of `tgs` whose loss_status is qualified."""
    q = tl[tl["tg_id"].isin(tgs) & (tl["loss_status"] == "qualified")]
    days = (pd.to_datetime(q["data_date"]) - pd.Timestamp(start)).dt.days
    return set(zip(q["tg_id"], days.astype(int), strict=True))


def generate_loop(s, snapshots, lab: pd.DataFrame, tl: pd.DataFrame, tdir: Path, landing: Path,
                  settings: dict) -> dict:  # fmt: skip
    """The field's answers (landing/feedback) and the loop's truth (truth/work_orders.csv,
    work_order_events.csv, work_order_kpis.csv, feedback_dirt.csv); returns the summary."""
    w = s.w
    pol = policy()
    verify, recurrence = loop_settings(settings)
    orgs = Orgs(w.orgs)
    tgs = set(lab.loc[lab["rule_code"].isin(LOSS_VERIFIED_CODES), "tg_id"])
    qual = qualified_days(tl, w.start, tgs)
    field_model = Field(w.seed, field_plan(s.plan), pol)
    args = (lab, w.start, w.n, orgs, pol, verify, recurrence, qual)
    first = simulate(*args, field_model=field_model)
    ctx = _context(s, snapshots, first.orders)
    dirt, passed = write_feedback(first, ctx, landing, w.seed)
    # the truth: the machine over the answers as written (their files and lines), the dirty
    # rows the extract lets through included (it rejects them)
    loop = simulate(*args, answers=first.answers + passed)
    got = orders_frame(loop)
    if not got.equals(orders_frame(first)):
        raise AssertionError("work orders: the answers as written give other states")
    rejected = sorted((a.source_file, a.line) for a, _ in loop.rejected)
    if rejected != sorted((a.source_file, a.line) for a in passed):
        raise AssertionError("work orders: the machine rejects other rows than the labelled dirt")
    got.to_csv(tdir / "work_orders.csv", index=False, lineterminator="\n")
    events_frame(loop).to_csv(tdir / "work_order_events.csv", index=False, lineterminator="\n")
    kpis(loop, orgs, recurrence).to_csv(
        tdir / "work_order_kpis.csv", index=False, lineterminator="\n"
    )
    dirt.to_csv(tdir / "feedback_dirt.csv", index=False, lineterminator="\n")
    kinds = pd.Series([field_model.kind.get(o.work_order_no, "?") for o in loop.orders])
    final = pd.crosstab(kinds.to_numpy(), got.set_index("work_order_no").loc[
        [o.work_order_no for o in loop.orders], "status"].to_numpy())  # fmt: skip
    return {
        "orders": len(loop.orders),
        "answers": sum(a.day < w.n for a in first.answers),
        "answer_kinds": {k: int(v) for k, v in kinds.value_counts().sort_index().items()},
        "status_by_answer_kind": {
            k: {c: int(x) for c, x in row.items() if x} for k, row in final.iterrows()
        },
        "final_status": {k: int(v) for k, v in got["status"].value_counts().sort_index().items()},
        "overdue": int((got["is_overdue"] == "true").sum()),
        "feedback_dirt": int(len(dirt)),
        "policy": "dbt/seeds/dispatch_policy.csv" if POLICY_SEED.exists() else "contract constant",
    }


README = """
## The work-order loop (docs/work-orders.md)

The field's answers to the work orders the findings of `anomalies.csv` become, and what the
loop's models must make of them. Written by `generator/work_orders.py`, whose `simulate()`
is an independent implementation of the state machine of docs/work-orders.md §3 over the
runs of `anomalies.csv` (finding_key = code|coalesce(app_no, cons_no, tg_id, org_no)), the
`loss_status` of `area_daily_loss.csv` (L01/L02 verification) and the dispatch policy:
{policy}.

Landing: `landing/feedback/<D>/<ORG_NO>_反馈.xlsx` (sheet 稽查工单, the 23 headers of the
list; 工单编号 and the eight answer columns exactly as the crew filled them, the locked
columns as the dispatch list fills them as far as the generator knows them: 疑似问题描述
left blank, which is no edit; 首次发现日期 the first day of the
finding's unbroken run, 连续天数 its length on the dispatch day; dates as date cells) for
most receiving units and
`landing/feedback/R_AUDIT_FEEDBACK/<D>.csv` (the platform export; UTF-8, the first and
every third file GBK, `work_orders.platform_encoding`) for every third
unit; D = the answer day. The answers (`summary.json` `work_orders.answer_kinds`): about
10 % never answered, 15 % late, of the rest 20 % 不属实, 30 % 属实 整改中 (some followed by
已整改 later), 10 % 无法整改, 40 % 已整改 (which the data then verifies or finds 整改无效;
for a finding that still fires the next day, 7 in 10 of those answers say 整改中 instead);
the archive injections corrected on a snapshot day S are answered 属实 已整改 on S - 1
(verification archives them when the window is long enough), the uncorrected ones 已整改
while they go on (整改无效 and a new order linked to the old one).

* `work_orders.csv` — one row per order, as on the window's last day: work_order_no,
  finding_key, problem_code, tg_id, cons_no, app_no (of the finding on the dispatch day),
  org_no (receiving unit: the 供电所, the 县公司 for E01), station_no (the finding's
  供电所), dispatch_date, answer_deadline, status, is_overdue, first_answer_date,
  rectified_date (the day of the 已整改 answer that put the order in 待验证; empty when a
  later answer took it back to 整改中), verified_date, archived_date, archive_reason
  (verified | false_positive), ineffective_date, previous_work_order_no, is_recurrence,
  and the winning answer: last_answer_date, is_confirmed, rectify_result.
* `work_order_events.csv` — every transition: event_date, work_order_no, from_status,
  to_status, source (dispatch | feedback | verification), source_file, line_number.
* `work_order_kpis.csv` — every KPI of §4 for every org of O_ORG (供电所, 县公司, 地市公司;
  zeros included), per day of the window (period_type day) and per month (month,
  period_start = the month's first day): org_no, period_type, period_start,
  indicator_code, numerator, denominator. A 供电所 counts the orders it receives, a 县公司
  those of its 供电所 and its own (E01), the 地市公司 all.
* `feedback_dirt.csv` — the rows with the mistakes of §6 (file relative to the landing
  directory, sheet (empty for the CSV), row = sheet row / line with the header as 1,
  mistake, stage where it is rejected: extract | dbt, work_order_no as written,
  answered_order): copies of valid answers, so they change no state.

Conventions where the contract leaves room: the answers of one day to one order are
applied together and the last one (FEEDBACK_DATE, file, line) decides the state (every
answer still an 已反馈 event); 已反馈 is therefore never a resting state. An answer on the order's
dispatch day counts as an unknown number (the order is dispatched after the day's answers).
误报抑制 counts the winning answers 不属实. is_overdue: no valid answer by the deadline and
the last day after it; wo_overdue counts, per day, orders past their deadline still without
an answer. The finding's org_no "as of D" is the org_no of its run covering D (the run's
first day's org); a 县公司 receiving unit is the 供电所's P_ORG_NO in O_ORG. A KPI whose day
(deadline, V + recurrence days) falls after the window is not in the file; is_recurrence
looks at the window's days only.
"""
