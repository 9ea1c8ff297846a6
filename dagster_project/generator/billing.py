"""Receivables (A_RCVBL_FLOW) and payments (A_PAY_FLOW).

A month's receivables are issued on the 1st of the following month; a receivable is
delivered when issued and again on every payment (later delivery wins). Old unpaid
receivables (B01) are delivered on day 0 with a partial payment.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dagster_project.lib import audit_settings

from .scenario import H, Sim, pick
from .world import PRICE_OF


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

    npool = 3 * w.NC * 4 + 1000
    pool_secs = rng.integers(8 * 3600, 20 * 3600, npool)
    pool_late = rng.random(npool) < 0.05
    pool_dep = rng.integers(0, 2, npool)
    pool_arr = rng.integers(0, 2, npool)
    pool_mode = np.array(["01", "02", "03", "04"], dtype=object)[
        rng.choice(4, npool, p=[0.2, 0.05, 0.35, 0.4])
    ]
    day0 = dt.datetime.combine(w.start, dt.time())

    def payment(day, row, amount_c, paid_c):
        k = pay_no[0] % npool
        pay_no[0] += 1
        charge = day0 + dt.timedelta(days=day, seconds=int(pool_secs[k]))
        late = 2 if pool_late[k] else 0
        dep = charge.date() + dt.timedelta(days=int(pool_dep[k]) + late)
        arr = dep + dt.timedelta(days=int(pool_arr[k]) + late)
        pay.append(
            {
                "PAY_ID": f"P{pay_no[0]:010d}",
                "CONS_NO": row["CONS_NO"],
                "RCVBL_ID": row["RCVBL_ID"],
                "PAY_AMT": amount_c / 100,
                "PAY_MODE": pool_mode[k],
                "CHARGE_TIME": charge.strftime("%Y-%m-%d %H:%M:%S"),
                "DEPOSIT_DATE": dep.isoformat(),
                "ARRIVE_DATE": arr.isoformat(),
                "file_day": day,
            }
        )
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
        amt = round(w.mu_kwh[i] * 30 * PRICE_OF[w.prc[i]] * 100)
        row = _row(w, i, _ym(m), w.mu_kwh[i] * 30 * H, "01", amt, issue)
        row = payment(0, row, amt // 3, amt // 3)
        fix = int(rng.integers(1, n)) if k % 2 == 0 and n > 2 else None
        if fix:
            payment(fix, row, amt - amt // 3, amt)
        s.plan.append(
            {
                "code": "B01",
                "tg": w.tg_id[w.cust_area[i]],
                "cons": w.cons_no[i],
                "app": "",
                "i": i,
                "a": None,
                "desc": f"receivable {_ym(m)} due {row['DUE_DATE']} only one third paid"
                + (f"; settled {w.ds(fix)}" if fix else ""),
            }
        )
    # B02 instances: estimated reading (READ_SRC 03) or a misread T_PQ (only in a month the
    # acquisition data can measure: B02 compares it); not paid within the window. Every other
    # misread customer also misses one reading in the middle of the month: the month is
    # still measured from its boundary readings, so the misread still fires.
    settings = audit_settings.load()
    b02 = pick(s, K)
    b02_pos = {i: k for k, i in enumerate(b02)}
    months = sorted({_prev_month(w.date(d), 1) for d in range(n) if w.date(d).day == 1})
    price = np.array([PRICE_OF[x] for x in w.prc])
    NC = w.NC
    ids = np.arange(NC)
    for mth in months:
        issue = _next_month(mth)
        day = (issue - w.start).days
        days = [d for d in range(n) if w.date(d).year == mth.year and w.date(d).month == mth.month]
        n_month = (issue - mth).days
        measurable = _month_measurable(s, mth, issue, settings)
        billed = (w.birth < day) & np.array([i not in s.no_bill for i in range(NC)])
        if days:
            tpq = (s.inc[:, days] * s.factor[:, days]).sum(axis=1)
            tpq = tpq + np.where(
                w.birth < 0, np.rint(w.mu_kwh * H * (n_month - len(days))), 0
            ).astype(np.int64)
        else:
            tpq = np.rint(w.mu_kwh * H * 30).astype(np.int64)
        src = np.where(s.has_edata.all(axis=1)[:NC], "01", "02").astype(object)
        kinds, gaps = {}, {}
        for i, k in b02_pos.items():
            if k % 2 == 0 or not measurable:
                src[i], kinds[i] = "03", "estimated"
            else:
                tpq[i], src[i], kinds[i] = int(tpq[i] * 0.5), "02", "misread"
                if k % 4 == 1:
                    gap = (mth.replace(day=15) - w.start).days
                    s.present[i, gap] = False
                    s.fail[i, gap] = True
                    gaps[i] = f"; reading of {w.ds(gap)} missing (one unmeasured day)"
        amt = np.rint(tpq * price).astype(np.int64)
        lag = np.minimum(22, rng.geometric(0.2, NC) - 1)
        partial = rng.random(NC) < 0.05
        for i in ids[billed]:
            row = _row(w, i, _ym(mth), int(tpq[i]), src[i], int(amt[i]), issue)
            if amt[i] == 0:
                row["SETTLE_FLAG"] = "03"
            deliver(day, row)
            if i in kinds:
                s.plan.append(
                    {
                        "code": "B02",
                        "tg": w.tg_id[w.cust_area[i]],
                        "cons": w.cons_no[i],
                        "app": "",
                        "i": int(i),
                        "a": None,
                        "desc": f"receivable {_ym(mth)} {kinds[i]} (READ_SRC {src[i]}, "
                        f"T_PQ {tpq[i] / H:.2f}){gaps.get(i, '')}",
                    }
                )
                continue
            if amt[i] == 0:
                continue
            a, lg = int(amt[i]), int(lag[i])
            if partial[i] and day + lg + 3 < n:
                row = payment(day + lg, row, a // 2, a // 2)
                if day + lg + 3 < n:
                    payment(day + lg + 3, row, a - a // 2, a)
            elif day + lg < n:
                payment(day + lg, row, a, a)
    r = pd.DataFrame(rec)
    r["T_PQ"] = r["T_PQ_H"] / H
    r["RCVBL_AMT"] = r["RCVBL_AMT_C"] / 100
    r["RCVED_AMT"] = r["RCVED_AMT_C"] / 100
    return r, pd.DataFrame(pay)


def _month_measurable(s: Sim, mth: dt.date, issue: dt.date, settings: dict) -> bool:
    """Whether the window holds boundary readings that let B02 compare month `mth` on its
    issue day (rules.month_measured_kwh): a start reading within the tolerance of the end of
    the previous month (the window's first day at the latest) and a span from it to the
    month's last day covering enough of the month."""
    max_days = int(float(settings["billing_boundary_read_max_days"]))
    min_share = float(settings["billing_min_covered_share"])
    start_boundary = (mth - s.w.start).days - 1
    end_boundary = (issue - s.w.start).days - 1
    first_read = max(start_boundary, 0)
    if first_read - start_boundary > max_days or end_boundary > s.n - 1:
        return False
    return (end_boundary - first_read) / (issue - mth).days >= min_share


def _next_month(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _row(w, i, ym, tpq_h, src, amt_c, issue: dt.date) -> dict:
    return {
        "RCVBL_ID": f"R{ym}{i + 1:08d}",
        "CONS_NO": w.cons_no[i],
        "ORG_NO": w.station_no[w.area_station[w.cust_area[i]]],
        "RCVBL_YM": ym,
        "T_PQ_H": round(tpq_h),
        "READ_SRC": src,
        "RCVBL_AMT_C": int(amt_c),
        "RCVED_AMT_C": 0,
        "RCVBL_PENALTY": 0.0,
        "ISSUE_DATE": issue.isoformat(),
        "DUE_DATE": (issue + dt.timedelta(days=24)).isoformat(),
        "SETTLE_FLAG": "01",
    }
