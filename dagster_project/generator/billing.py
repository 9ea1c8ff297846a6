"""Receivables (A_RCVBL_FLOW) and payments (A_PAY_FLOW).

A month's receivables are issued on the 1st of the following month; a receivable is
delivered when issued and again on every payment (later delivery wins). Old unpaid
receivables (B01) are delivered on day 0 with a partial payment.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.lib import audit_settings

from .readings import HMS
from .scenario import H, Sim, pick, used_mask
from .world import PRICE_OF
from .writer import hundredths_col


def _ym(d: dt.date) -> str:
    return f"{d.year}{d.month:02d}"


def _prev_month(d: dt.date, k: int = 1) -> dt.date:
    y, m = d.year, d.month - k
    while m <= 0:
        y, m = y - 1, m + 12
    return dt.date(y, m, 1)


RC_COLS = [
    "RCVBL_ID",
    "CONS_NO",
    "ORG_NO",
    "RCVBL_YM",
    "T_PQ",
    "READ_SRC",
    "RCVBL_AMT",
    "RCVED_AMT",
    "RCVBL_PENALTY",
    "ISSUE_DATE",
    "DUE_DATE",
    "SETTLE_FLAG",
]
PAY_COLS = [
    "PAY_ID",
    "CONS_NO",
    "RCVBL_ID",
    "PAY_AMT",
    "PAY_MODE",
    "CHARGE_TIME",
    "DEPOSIT_DATE",
    "ARRIVE_DATE",
]
CODES = ["01", "02", "03"]  # READ_SRC and SETTLE_FLAG values (index = code)
PAY_MODES = ["01", "02", "03", "04"]
EPOCH = dt.date(1970, 1, 1)
# rows of a collection file built at a time
CHUNK_ROWS = 500_000


class _Cols:
    """Columns (numpy arrays of the given dtypes) of equal length, appended part by part."""

    def __init__(self, dtypes: dict[str, type]):
        self.dtypes = dtypes
        self.parts: dict[str, list] = {c: [] for c in dtypes}

    def add(self, **cols) -> None:
        for c, v in cols.items():
            a = np.atleast_1d(np.asarray(v))
            if a.dtype.kind in "iu" and len(a) and np.iinfo(self.dtypes[c]).max < a.max():
                raise OverflowError(f"{c} does not fit {self.dtypes[c]}")
            self.parts[c].append(a.astype(self.dtypes[c], copy=False))

    def add_part(self, cols: dict[str, np.ndarray]) -> None:
        """A part whose columns already have the dtypes."""
        for c, v in cols.items():
            self.parts[c].append(v)

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns, dropping the parts column by column (twice one column in memory)."""
        out = {}
        for c in list(self.parts):
            v = self.parts.pop(c)
            out[c] = np.concatenate(v) if v else np.array([], dtype=self.dtypes[c])
            del v
        return out


# compact dtypes: a province's month is ~40 million deliveries
def _fits(a, dtype) -> np.ndarray:
    """`a`, after checking that it fits the integer dtype (no silent wrap-around)."""
    a = np.asarray(a)
    if len(a) and (a.max() > np.iinfo(dtype).max or a.min() < np.iinfo(dtype).min):
        raise OverflowError(f"values do not fit {np.dtype(dtype)}")
    return a


_REC = {
    "i": np.int32,
    "ym": np.int32,
    "tpq_h": np.int32,  # a month of a 10 kV customer: < 10^8 hundredths (checked)
    "src": np.int8,
    "amt": np.int32,  # 分 (checked)
    "rcved": np.int32,
    "issue": np.int32,
    "settle": np.int8,
    "file_day": np.int16,
    "seq": np.int32,
}
_PAY = {
    "no": np.int32,
    "i": np.int32,
    "ym": np.int32,
    "amount": np.int32,
    "k": np.int32,
    "file_day": np.int16,
}


class Receivables:
    """A_RCVBL_FLOW deliveries as numbers, in delivery order (`seq`): customer `i`, billed
    month `ym` (YYYYMM), T_PQ, READ_SRC / SETTLE_FLAG codes, amounts in 分, issue day
    (days since 1970-01-01), the file day it is delivered in."""

    def __init__(self, w, cols: dict[str, np.ndarray]):
        self.w = w
        if len(cols["seq"]) > 1 and (np.diff(cols["seq"]) <= 0).any():
            raise ValueError("receivable deliveries out of order")
        self.c = cols

    def __len__(self) -> int:
        return len(self.c["seq"])

    def rows_of_day(self, d: int) -> np.ndarray:
        return np.flatnonzero(self.c["file_day"] == d)

    def columns(self, pos: np.ndarray) -> dict:
        """The A_RCVBL_FLOW columns of rows `pos`, for the writer."""
        c, w = self.c, self.w
        i = c["i"][pos]
        issue = c["issue"][pos]
        return {
            "RCVBL_ID": rcvbl_id(c["ym"][pos], i),
            "CONS_NO": w.cons_no.pa(i),
            "ORG_NO": w.apa("station_no").take(pa.array(w.area_station[w.cust_area[i]])),
            "RCVBL_YM": _ints(c["ym"][pos]),
            "T_PQ": hundredths_col(c["tpq_h"][pos]),
            "READ_SRC": _codes(CODES, c["src"][pos]),
            "RCVBL_AMT": hundredths_col(c["amt"][pos]),
            "RCVED_AMT": hundredths_col(c["rcved"][pos]),
            "RCVBL_PENALTY": hundredths_col(np.zeros(len(pos), dtype=np.int64)),
            "ISSUE_DATE": _date_strings(issue),
            "DUE_DATE": _date_strings(issue + 24),
            "SETTLE_FLAG": _codes(CODES, c["settle"][pos]),
        }

    def frame(self, pos: np.ndarray | None = None) -> pd.DataFrame:
        """The deliveries (rows `pos`, default all) as the DataFrame the rules read: the
        file's columns (T_PQ as float kWh) plus file_day and seq."""
        pos = np.arange(len(self)) if pos is None else np.asarray(pos, dtype=np.int64)
        cols = self.columns(pos)
        df = pd.DataFrame(
            {
                k: (v.to_numpy(zero_copy_only=False) if isinstance(v, pa.Array) else v)
                for k, v in cols.items()
                if k not in ("T_PQ", "RCVBL_AMT", "RCVED_AMT", "RCVBL_PENALTY")
            },
            dtype=object,
        )
        df["T_PQ"] = self.c["tpq_h"][pos] / H
        df["RCVBL_AMT"] = self.c["amt"][pos] / 100
        df["RCVED_AMT"] = self.c["rcved"][pos] / 100
        df["RCVBL_PENALTY"] = 0.0
        df["file_day"] = self.c["file_day"][pos].astype(np.int64)
        df["seq"] = self.c["seq"][pos].astype(np.int64)
        return df


class Payments:
    """A_PAY_FLOW rows as numbers, in payment order: PAY_ID number `no`, the receivable
    (customer `i`, month `ym`), the amount in 分, `k` the payment's draw of the random pools
    (time, delays, mode), the file day."""

    def __init__(self, w, cols: dict[str, np.ndarray], pools: dict, start: dt.date):
        self.w = w
        if len(cols["no"]) > 1 and (np.diff(cols["no"]) <= 0).any():
            raise ValueError("payments out of order")
        self.c = cols
        self.pools = pools
        self.start = start

    def __len__(self) -> int:
        return len(self.c["no"])

    def rows_of_day(self, d: int) -> np.ndarray:
        return np.flatnonzero(self.c["file_day"] == d)

    def columns(self, pos: np.ndarray) -> dict:
        c, w, p = self.c, self.w, self.pools
        k = c["k"][pos]
        late = np.where(p["late"][k], 2, 0)
        charge_day = (self.start - EPOCH).days + c["file_day"][pos].astype(np.int64)
        dep = charge_day + p["dep"][k] + late
        arr = dep + p["arr"][k] + late
        return {
            "PAY_ID": pc.binary_join_element_wise(
                "P", pc.utf8_slice_codeunits(_ints(10**10 + c["no"][pos].astype(np.int64)), 1), ""
            ),
            "CONS_NO": w.cons_no.pa(c["i"][pos]),
            "RCVBL_ID": rcvbl_id(c["ym"][pos], c["i"][pos]),
            "PAY_AMT": hundredths_col(c["amount"][pos]),
            "PAY_MODE": _codes(PAY_MODES, p["mode"][k]),
            "CHARGE_TIME": pc.binary_join_element_wise(
                _date_strings(charge_day), HMS.take(pa.array(p["secs"][k])), " "
            ),
            "DEPOSIT_DATE": _date_strings(dep),
            "ARRIVE_DATE": _date_strings(arr),
        }


def rcvbl_id(ym: np.ndarray, i: np.ndarray) -> pa.Array:
    """'R' + YYYYMM + the customer number i + 1 in 8 digits."""
    if len(i) and int(np.max(i)) + 1 >= 10**8:
        raise ValueError("RCVBL_ID has 8 digits for the customer")
    return pc.binary_join_element_wise(
        "R",
        _ints(ym),
        pc.utf8_slice_codeunits(_ints(10**8 + np.asarray(i, dtype=np.int64) + 1), 1),
        "",
    )


def _ints(a) -> pa.Array:
    return pc.cast(pa.array(np.asarray(a, dtype=np.int64)), pa.string())


def _codes(vocab: list[str], codes) -> pa.Array:
    return pa.array(vocab, type=pa.string()).take(pa.array(np.asarray(codes, dtype=np.int64)))


def _date_strings(days) -> pa.Array:
    return pc.cast(pa.array(np.asarray(days, dtype=np.int32), type=pa.date32()), pa.string())


def _pools(rng, npool: int, keep: int) -> dict[str, np.ndarray]:
    """The random pools of the payments (charge second, late flag, deposit and arrival
    delays, mode), drawn in full in the order they have always been (the draws after them
    depend on it) but in slices, keeping only the first `keep` values a window can use."""
    keep = min(npool, keep)
    step = 1 << 22

    def draw(f, dtype):
        out = np.empty(keep, dtype=dtype)
        for k in range(0, npool, step):
            v = f(min(step, npool - k))
            if k < keep:
                out[k : min(keep, k + len(v))] = v[: keep - k]
        return out

    return {
        "secs": draw(lambda m: rng.integers(8 * 3600, 20 * 3600, m), np.int32),
        "late": draw(lambda m: rng.random(m) < 0.05, bool),
        "dep": draw(lambda m: rng.integers(0, 2, m), np.int8),
        "arr": draw(lambda m: rng.integers(0, 2, m), np.int8),
        "mode": draw(lambda m: rng.choice(4, m, p=[0.2, 0.05, 0.35, 0.4]), np.int8),
    }


def _day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def build(s: Sim) -> tuple[Receivables, Payments]:
    """Returns (receivable deliveries with file_day and seq, payments with file_day).

    Vectorised per billed month: a customer's deliveries (issue, then one after each
    payment) and payments get consecutive numbers in customer order, as they did when the
    customers were billed one at a time."""
    w, n, rng, K = s.w, s.n, s.w.rng, s.w.p.per_code
    rec, pay = _Cols(_REC), _Cols(_PAY)
    seq = 0  # deliveries so far
    pays = 0  # payments so far
    months = sorted({_prev_month(w.date(d), 1) for d in range(n) if w.date(d).day == 1})
    npool = 3 * w.NC * 4 + 1000
    pools = _pools(rng, npool, 2 * K + 2 * w.NC * len(months) + 2)

    # B01: old receivables, unpaid beyond DUE_DATE + grace; some settled in the window
    b01 = pick(s, K)
    for k, i in enumerate(b01):
        m = _prev_month(w.start, 4 + k % 2)
        issue = _prev_month(w.start, 3 + k % 2)
        amt = round(w.mu_kwh[i] * 30 * PRICE_OF[w.prc[i]] * 100)
        tpq_h = round(w.mu_kwh[i] * 30 * H)
        fix = int(rng.integers(1, n)) if k % 2 == 0 and n > 2 else None
        steps = [(0, amt // 3, amt // 3)] + ([(fix, amt - amt // 3, amt)] if fix else [])
        for day, amount, paid in steps:
            pays += 1
            seq += 1
            pay.add(no=pays, i=i, ym=int(_ym(m)), amount=amount, k=(pays - 1) % npool, file_day=day)
            rec.add(
                i=i, ym=int(_ym(m)), tpq_h=tpq_h, src=0, amt=amt, rcved=paid,
                issue=_day_number(issue), settle=2 if paid >= amt else 1, file_day=day, seq=seq,
            )  # fmt: skip
        due = (issue + dt.timedelta(days=24)).isoformat()
        s.plan.append(
            {
                "code": "B01",
                "tg": w.tg_id[w.cust_area[i]],
                "cons": w.cons_no[i],
                "app": "",
                "i": i,
                "a": None,
                "desc": f"receivable {_ym(m)} due {due} only one third paid"
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
    price = np.array([PRICE_OF[v] for v in w.prc.vocab])[w.prc.codes]
    NC = w.NC
    ids = np.arange(NC)
    for mth in months:
        issue = _next_month(mth)
        day = (issue - w.start).days
        days = [d for d in range(n) if w.date(d).year == mth.year and w.date(d).month == mth.month]
        n_month = (issue - mth).days
        measurable = _month_measurable(s, mth, issue, settings)
        billed = (w.birth < day) & ~used_mask(s.no_bill, NC)
        if days:
            tpq = (s.inc[:, days] * s.factor[:, days]).sum(axis=1)
            tpq = tpq + np.where(
                w.birth < 0, np.rint(w.mu_kwh * H * (n_month - len(days))), 0
            ).astype(np.int64)
        else:
            tpq = np.rint(w.mu_kwh * H * 30).astype(np.int64)
        src = np.where(s.has_edata.all(axis=1)[:NC], 0, 1).astype(np.int8)
        kinds, gaps = {}, {}
        for i, k in b02_pos.items():
            if k % 2 == 0 or not measurable:
                src[i], kinds[i] = 2, "estimated"
            else:
                tpq[i], src[i], kinds[i] = int(tpq[i] * 0.5), 1, "misread"
                if k % 4 == 1:
                    gap = (mth.replace(day=15) - w.start).days
                    s.present[i, gap] = False
                    s.fail[i, gap] = True
                    gaps[i] = f"; reading of {w.ds(gap)} missing (one unmeasured day)"
        amt = np.rint(tpq * price).astype(np.int64)
        lag = np.minimum(22, rng.geometric(0.2, NC) - 1)
        partial = rng.random(NC) < 0.05
        bi = ids[billed]
        a, lg, part, tq, sr = amt[bi], lag[bi], partial[bi], tpq[bi], src[bi]
        del lag, partial, amt
        _fits(a, _REC["amt"])
        _fits(tq, _REC["tpq_h"])
        b02_rows = np.isin(bi, list(kinds))
        paying = ~b02_rows & (a != 0)
        two = paying & part & (day + lg + 3 < n)
        one = paying & ~two & (day + lg < n)
        npay = np.where(two, 2, np.where(one, 1, 0))
        ym = int(_ym(mth))
        # one full payment, or half and (three days later) the rest: (rows, k-th payment,
        # file day, amount paid now, received in total)
        steps = (
            (one, 0, day + lg, a, a),
            (two, 0, day + lg, a // 2, a // 2),
            (two, 1, day + lg + 3, a - a // 2, a),
        )
        # the month's deliveries in delivery order: a customer's issue delivery at `off`, the
        # deliveries after its payments right after it (written in place, not sorted later)
        nrow = 1 + npay
        off = np.cumsum(nrow) - nrow
        r = {c: np.empty(int(nrow.sum()), dtype=t) for c, t in _REC.items()}
        r["ym"][:], r["issue"][:] = ym, _day_number(issue)
        r["seq"][:] = _fits(seq + 1 + np.arange(len(r["seq"])), _REC["seq"])
        r["i"][off], r["tpq_h"][off], r["src"][off], r["amt"][off] = bi, tq, sr, a
        r["rcved"][off], r["settle"][off], r["file_day"][off] = 0, np.where(a == 0, 2, 0), day
        for sel, k, pday, _, paid in steps:
            j = np.flatnonzero(sel)
            q = off[j] + k + 1
            r["i"][q], r["tpq_h"][q], r["src"][q], r["amt"][q] = bi[j], tq[j], sr[j], a[j]
            r["rcved"][q], r["settle"][q] = paid[j], np.where(paid[j] >= a[j], 2, 1)
            r["file_day"][q] = pday[j]
        rec.add_part(r)
        seq += len(r["seq"])
        # the month's payments in payment order (PAY_ID numbers, the pools' draws)
        poff = np.cumsum(npay) - npay
        q_all = {c: np.empty(int(npay.sum()), dtype=t) for c, t in _PAY.items()}
        q_all["no"][:] = _fits(pays + 1 + np.arange(len(q_all["no"])), _PAY["no"])
        q_all["k"][:] = (q_all["no"].astype(np.int64) - 1) % npool
        q_all["ym"][:] = ym
        for sel, k, pday, amount, _ in steps:
            j = np.flatnonzero(sel)
            q = poff[j] + k
            q_all["i"][q], q_all["amount"][q], q_all["file_day"][q] = bi[j], amount[j], pday[j]
        pay.add_part(q_all)
        pays += len(q_all["no"])
        del r, q_all, off, poff, a, lg, part, tq, one, two, paying, npay
        for i in bi[b02_rows]:
            s.plan.append(
                {
                    "code": "B02",
                    "tg": w.tg_id[w.cust_area[i]],
                    "cons": w.cons_no[i],
                    "app": "",
                    "i": int(i),
                    "a": None,
                    "desc": f"receivable {_ym(mth)} {kinds[i]} (READ_SRC {CODES[src[i]]}, "
                    f"T_PQ {tpq[i] / H:.2f}){gaps.get(i, '')}",
                }
            )
    return Receivables(w, rec.arrays()), Payments(w, pay.arrays(), pools, w.start)


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
