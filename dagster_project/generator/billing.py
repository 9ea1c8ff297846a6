"""Receivables (A_RCVBL_FLOW) and payments (A_PAY_FLOW).

A month's receivables are issued on the 1st of the following month; a receivable is
delivered when issued and again on every payment (later delivery wins). Old unpaid
receivables (B01) are delivered on day 0 with a partial payment.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .scenario import H, Sim, pick
from .world import PRICE_OF, RES


def _ym(d: dt.date) -> str:
    return f"{d.year}{d.month:02d}"


def _prev_month(d: dt.date, k: int = 1) -> dt.date:
    y, m = d.year, d.month - k
    while m <= 0:
        y, m = y - 1, m + 12
    return dt.date(y, m, 1)


def build(s: Sim) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (receivable deliveries with file_day and seq, payments with file_day)."""
    w, n, rng, K = s.w, s.n, s.w.rng, s.w.p.per_code
    rec, pay = [], []
    seq = [0]
    pay_no = [0]

    def deliver(day, row):
        seq[0] += 1
        rec.append({**row, "file_day": day, "seq": seq[0]})

    def payment(day, row, amount_c, paid_c):
        pay_no[0] += 1
        secs = int(rng.integers(8 * 3600, 20 * 3600))
        charge = dt.datetime.combine(w.date(day), dt.time()) + dt.timedelta(seconds=secs)
        late = rng.random() < 0.05
        dep = w.date(day) + dt.timedelta(days=int(rng.integers(0, 2)) + (2 if late else 0))
        arr = dep + dt.timedelta(days=int(rng.integers(0, 2)) + (2 if late else 0))
        pay.append({"PAY_ID": f"P{pay_no[0]:010d}", "CONS_NO": row["CONS_NO"], "RCVBL_ID": row["RCVBL_ID"], "PAY_AMT": amount_c / 100,
                    "PAY_MODE": str(rng.choice(["01", "02", "03", "04"], p=[0.2, 0.05, 0.35, 0.4])), "CHARGE_TIME": charge.strftime("%Y-%m-%d %H:%M:%S"),
                    "DEPOSIT_DATE": dep.isoformat(), "ARRIVE_DATE": arr.isoformat(), "file_day": day})
        total = row["RCVBL_AMT_C"]
        row = dict(row)
        row["RCVED_AMT_C"] = paid_c
        row["SETTLE_FLAG"] = "03" if paid_c >= total else "02"
        deliver(day, row)
        return row

    # B01: old receivables, unpaid beyond DUE_DATE + grace; some settled in the window
    b01 = pick(s, K)
    for k, i in enumerate(b01):
        m = _prev_month(w.start, 4 + k % 2)
        issue = _prev_month(w.start, 3 + k % 2)
        amt = int(round(w.mu_kwh[i] * 30 * PRICE_OF[w.prc[i]] * 100))
        row = _row(w, i, _ym(m), w.mu_kwh[i] * 30 * H, "01", amt, issue)
        row = payment(0, row, amt // 3, amt // 3)
        fix = int(rng.integers(1, n)) if k % 2 == 0 and n > 2 else None
        if fix:
            payment(fix, row, amt - amt // 3, amt)
        s.plan.append({"code": "B01", "tg": w.tg_id[w.cust_area[i]], "cons": w.cons_no[i], "app": "", "i": i, "a": None,
                       "desc": f"receivable {_ym(m)} due {row['DUE_DATE']} only one third paid" + (f"; settled {w.ds(fix)}" if fix else "")})
    # B02 instances: estimated reading (READ_SRC 03) or a misread T_PQ; not paid within the window
    b02 = pick(s, K)
    months = []
    for mth in sorted({_prev_month(w.date(d), 1) for d in range(n) if w.date(d).day == 1}):
        months.append(mth)
    for mth in months:
        issue = _next_month(mth)
        day = (issue - w.start).days
        days = [d for d in range(n) if w.date(d).year == mth.year and w.date(d).month == mth.month]
        for i in range(w.NC):
            if i in s.no_bill or w.birth[i] >= day:
                continue
            if days:
                tpq = int((s.inc[i, days] * s.factor[i, days]).sum())
                before = (mth.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - mth - dt.timedelta(days=len(days))
                tpq += int(round(w.mu_kwh[i] * H * before.days)) if w.birth[i] < 0 else 0
            else:
                tpq = int(round(w.mu_kwh[i] * H * 30))
            src = "01" if s.has_edata[i].all() else "02"
            kind = None
            if i in b02:
                k = b02.index(i)
                if k % 2 == 0 or not any(en for en in [days]):
                    src, kind = "03", "estimated"
                else:
                    tpq, src, kind = int(tpq * 0.5), "02", "misread"
            amt = int(round(tpq * PRICE_OF[w.prc[i]]))
            row = _row(w, i, _ym(mth), tpq, src, amt, issue)
            if amt == 0:
                row["SETTLE_FLAG"] = "03"
            deliver(day, row)
            if kind:
                s.plan.append({"code": "B02", "tg": w.tg_id[w.cust_area[i]], "cons": w.cons_no[i], "app": "", "i": i, "a": None,
                               "desc": f"receivable {_ym(mth)} {kind} (READ_SRC {src}, T_PQ {tpq / H:.2f})"})
                continue
            if amt == 0:
                continue
            lag = int(min(22, rng.geometric(0.2) - 1))
            if rng.random() < 0.05 and day + lag + 3 < n:
                row = payment(day + lag, row, amt // 2, amt // 2)
                lag += 3
                if day + lag < n:
                    payment(day + lag, row, amt - amt // 2, amt)
            elif day + lag < n:
                payment(day + lag, row, amt, amt)
    r = pd.DataFrame(rec)
    r["T_PQ"] = r["T_PQ_H"] / H
    r["RCVBL_AMT"] = r["RCVBL_AMT_C"] / 100
    r["RCVED_AMT"] = r["RCVED_AMT_C"] / 100
    return r, pd.DataFrame(pay)


def _next_month(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _row(w, i, ym, tpq_h, src, amt_c, issue: dt.date) -> dict:
    return {"RCVBL_ID": f"R{ym}{i + 1:08d}", "CONS_NO": w.cons_no[i], "ORG_NO": w.station_no[w.area_station[w.cust_area[i]]],
            "RCVBL_YM": ym, "T_PQ_H": int(round(tpq_h)), "READ_SRC": src, "RCVBL_AMT_C": int(amt_c), "RCVED_AMT_C": 0,
            "RCVBL_PENALTY": 0.0, "ISSUE_DATE": issue.isoformat(), "DUE_DATE": (issue + dt.timedelta(days=24)).isoformat(), "SETTLE_FLAG": "01"}
