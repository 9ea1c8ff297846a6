"""Registers (in integer hundredths of a kWh of the register), check meters, and the
delivery plan of E_MP_DAY_READ (on time, late back-fills, corrections, duplicates)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .scenario import H, RowPatch, Sim
from .writer import hundredths_col

FS = {5: 10**5 * H, 6: 10**6 * H}


def registers(s: Sim, theft_extra: RowPatch) -> None:
    """Compute the written register values W [NC+NA, n] and their presence."""
    w, n, rng = s.w, s.n, s.w.rng
    NC, NA = w.NC, w.NA
    # physical energy per customer: what its meter measures (minus a runaway meter's excess)
    # plus theft; on a multiplier change day the part after the change counts at the new
    # multiplier (the meter reads a*f_old + b*f_new, the exchange formula's energy)
    phys = s.inc.copy()
    s.flying.add_to(phys, -1)
    phys *= s.factor
    theft_extra.add_to(phys)
    for ex in s.exchanges:
        if ex["kind"] == "factor":
            phys[ex["i"], ex["day"]] += ex["b_new"] * (ex["f_new"] - ex["f_old"])
    phys[~s.alive] = 0
    # initial registers
    r0 = np.where(w.kind == 3, rng.uniform(100, 3000, NC), rng.uniform(1000, 40000, NC)) * H
    r0 = np.rint(r0 / np.maximum(1, w.factor0 / 10)).astype(np.int64)
    roll = w.digits == 5
    mean_inc = s.inc[:, : max(1, n // 2)].mean(axis=1)
    k = rng.integers(2, max(3, n - 3), NC)
    r0[roll] = (FS[5] - (k[roll] + 0.5) * mean_inc[roll]).astype(np.int64)
    R = np.cumsum(s.inc, axis=1)
    R += r0[:, None]
    for ex in s.exchanges:
        i, d = ex["i"], ex["day"]
        prev = R[i, d - 1]
        if ex["kind"] == "exchange":
            a = s.inc[i, d] // 2
            ex["old_end"] = int(prev + a)
            R[i, d:] += ex["new_start"] - ex["old_end"]
        else:
            ex["old_end"] = int(prev + ex["a"])
            ex["new_start"] = ex["old_end"]
    for i, x, delta in s.shifts:
        R[i, x:] -= delta
    digits = w.digits
    # the written registers (customers, then check meters), filled in place: at 25 million
    # customers every [customers x days] array is 600 MB
    s.W = np.empty((NC + NA, n), dtype=np.int64)
    np.remainder(R, FS[6], out=s.W[:NC])
    s.W[:NC][roll] = R[roll] % FS[5]
    del R
    # check meters: load through the transformer
    area = s.phys_area
    load = np.zeros((NA, n))
    export = np.zeros((NA, n))
    for d in range(n):
        load[:, d] = np.bincount(area[:, d], weights=phys[:, d], minlength=NA)
        exp_e = s.rap_inc[:, d].astype(np.int64) * s.factor[:, d]
        export[:, d] = np.bincount(
            area[:, d], weights=np.where(s.alive[:, d], exp_e, 0), minlength=NA
        )
    del phys
    load += s.extra_load
    tl = w.area_tl[:, None] + rng.normal(0, 0.004, (NA, n))
    rev = np.where(s.pv_heavy[:, None], 0.3 * export, 0.0)
    fwd = load * (1 + tl) - export + rev
    fc = s.check_factor_true[:, None]
    c_inc = np.maximum(1, np.rint(fwd / fc)).astype(np.int64)
    c_rev = np.rint(rev / fc).astype(np.int64)
    c_r0 = (rng.uniform(2000, 20000, NA) * H).astype(np.int64)
    s.W[NC:] = c_r0[:, None] + np.cumsum(c_inc, axis=1)
    s.digits_all = np.concatenate([digits, np.full(NA, 6)])
    # reverse registers: PV (and unrecorded PV) customers, check meters; null for some others
    rap0 = (rng.uniform(0, 3000, NC) * H).astype(np.int64)
    s.RW = np.empty((NC + NA, n), dtype=np.int64)
    np.cumsum(s.rap_inc, axis=1, dtype=np.int64, out=s.RW[:NC])
    s.RW[:NC] += rap0[:, None]
    has_rev = s.rap_inc.sum(axis=1) > 0
    s.RW[:NC][~has_rev] = 0
    crw = (rng.uniform(0, 500, NA) * H).astype(np.int64)[:, None] + np.cumsum(c_rev, axis=1)
    s.RW[NC:] = crw
    s.rap_null = np.concatenate(
        [(~has_rev) & (w.kind == 0) & (rng.random(NC) < 0.3), np.zeros(NA, bool)]
    )
    # tariff shares
    NM = NC + NA
    s.p1 = rng.uniform(0.05, 0.12, NM)
    s.p2 = rng.uniform(0.25, 0.35, NM)
    s.p3 = rng.uniform(0.25, 0.35, NM)
    s.single_rate = np.concatenate([roll, np.zeros(NA, bool)])
    s.tariff_delta = {}
    for i, d0, d1 in s.tariff_err:
        for d in range(d0, d1):
            s.tariff_delta[(i, d)] = max(300, int(np.ceil(s.W[i, d] * 0.01)))
    # presence of a reading (final state)
    alive = np.vstack([s.alive, np.ones((NA, n), bool)])
    s.present = alive & s.has_edata & ~s.fail
    s.load, s.export = load, export


def tariffs(s: Sim, m: np.ndarray, d: np.ndarray) -> tuple:
    W = s.W[m, d]
    t1 = np.floor(W * s.p1[m]).astype(np.int64)
    t2 = np.floor(W * s.p2[m]).astype(np.int64)
    t3 = np.floor(W * s.p3[m]).astype(np.int64)
    sr = s.single_rate[m]
    t1[sr] = 0
    t2[sr] = 0
    t3[sr] = W[sr]
    t4 = W - t1 - t2 - t3
    if s.tariff_delta:
        keys = np.array([k[0] for k in s.tariff_delta])
        for k in np.flatnonzero(np.isin(m, keys)):
            dl = s.tariff_delta.get((int(m[k]), int(d[k])))
            if dl:
                t3[k] -= dl
    return t1, t2, t3, t4


HMS = pa.array(
    [f"{h:02d}:{m:02d}:{x:02d}" for h in range(24) for m in range(60) for x in range(60)],
    type=pa.string(),
)
MARKS = pa.array(["0", "1"], type=pa.string())
# rows of a day file built at a time
CHUNK_ROWS = 500_000


@dataclass
class _Rows:
    """The rows of one E_MP_DAY_READ file as numbers, in file order (before duplicates);
    COL_TIME is on the day after the file day for every row (on time: in the small hours
    after the data date; a late or corrected row: during the file day)."""

    m: np.ndarray  # metering point (int32)
    d: np.ndarray  # DATA_DATE (window day, int16)
    secs: np.ndarray  # the second of the day of COL_TIME (int32)
    delta: np.ndarray  # a wrong first delivery: register + delta (corrected the next day)
    mark: np.ndarray  # bool: MARK '1'
    day: int = 0  # the file day


def _draws(rng, n: int, mark: str, wrong: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(delta, COL_TIME second) of n rows, drawn in the order they always were."""
    delta = rng.integers(1, 900, n) if wrong else None
    secs = rng.integers(3600, 6 * 3600, n) if mark == "0" else rng.integers(6 * 3600, 7 * 3600, n)
    return delta, secs


def _bad(s: Sim, d: int, on: np.ndarray) -> np.ndarray:
    """Rows of DATA_DATE d delivered wrong on day d and corrected in the file of day d+1."""
    if d + 1 >= s.n or len(on) <= 20:
        return np.array([], dtype=np.int64)
    rng = np.random.default_rng([s.w.seed, 12, d])
    return np.sort(rng.choice(on, max(1, len(on) // 2000), replace=False))


def _late(s: Sim):
    late = np.zeros_like(s.present)
    by_file: dict[int, list] = {}
    for (m, d), f in sorted(s.late.items()):
        if s.present[m, d]:
            late[m, d] = True
            by_file.setdefault(f, []).append((m, d))
    return late, by_file


def day_file(s: Sim, d: int, late=None):
    """E_MP_DAY_READ of day d, as chunks of columns for the writer: the readings of DATA_DATE
    d on time, late back-fills (MARK 1) of earlier days, corrected re-deliveries and
    duplicates. A pure function of d (its own random stream), so days can be written in any
    order or in parallel. The rows are planned as numbers first (the random draws in the
    order they have always had), then formatted a chunk at a time."""
    late, late_by_file = late if late is not None else _late(s)
    rng = np.random.default_rng([s.w.seed, 11, d])
    on = np.flatnonzero(s.present[:, d] & ~late[:, d]).astype(np.int32)
    n_on = len(on)
    bad = _bad(s, d, on)
    at_bad = np.searchsorted(on, bad)  # bad is a sorted subset of on
    rest = np.ones(len(on), bool)
    rest[at_bad] = False
    delta_b, secs_b = _draws(rng, len(bad), "0", wrong=True)
    _, secs_r = _draws(rng, int(rest.sum()), "0")
    # earlier data dates (corrections of yesterday's wrong rows, late back-fills): few rows
    em, ed, es = [], [], []
    if d >= 1:
        prev_on = np.flatnonzero(s.present[:, d - 1] & ~late[:, d - 1])
        fix = _bad(s, d - 1, prev_on)
        if len(fix):
            em.append(fix)
            ed.append(np.full(len(fix), d - 1))
            es.append(_draws(rng, len(fix), "1")[1])
    if d in late_by_file:
        mm, dd = map(np.array, zip(*late_by_file[d], strict=True))
        em.append(mm)
        ed.append(dd)
        es.append(_draws(rng, len(mm), "1")[1])
    em, ed, es = (np.concatenate(x) if x else np.array([], dtype=np.int64) for x in (em, ed, es))
    # the file's order: DATA_DATE, then DATA_ID (fixed-width digits: the order of m). The
    # earlier dates come first (sorted, few); the day's own rows are `on`, already in order
    order = np.lexsort((em, ed))
    secs_on = np.empty(len(on), dtype=np.int32)
    secs_on[rest], secs_on[at_bad] = secs_r, secs_b
    delta_on = np.zeros(len(on), dtype=np.int16)
    delta_on[at_bad] = delta_b
    del rest, secs_r
    rows = _Rows(
        np.concatenate([em[order].astype(np.int32), on]),
        np.concatenate([ed[order], np.full(len(on), d)]).astype(np.int16),
        np.concatenate([es[order].astype(np.int32), secs_on]),
        np.concatenate([np.zeros(len(em), dtype=np.int16), delta_on]),
        np.concatenate([np.ones(len(em), bool), np.zeros(len(on), bool)]),
        d,
    )
    del on, secs_on, delta_on
    n = len(rows.m)
    for k in range(0, n, CHUNK_ROWS):
        yield _columns(s, rows, slice(k, min(n, k + CHUNK_ROWS)))
    # duplicates within the file: identical rows, and the same key twice where the later
    # COL_TIME wins (the stale row comes after the winning one, 0.5 kWh lower, at 00:MM:SS)
    if n_on > 20:
        k = max(1, n // 3000)
        dup = np.sort(rng.choice(n, k, replace=False))
        stale = np.sort(rng.choice(n, k, replace=False))
        yield _columns(s, rows, dup)
        yield _columns(s, rows, stale, stale_secs=rng.integers(0, 3600, k))


def _columns(s: Sim, rows: _Rows, pos, stale_secs=None) -> dict:
    w = s.w
    m, d = rows.m[pos], rows.d[pos]
    t1, t2, t3, t4 = tariffs(s, m, d)
    delta = rows.delta[pos]
    W = s.W[m, d] + delta
    t4 = t4 + delta
    secs = rows.secs[pos] if stale_secs is None else stale_secs
    if stale_secs is not None:
        W, t4 = W - H // 2, t4 - H // 2
    rw = s.RW[m, d].astype(np.float64) / H
    rw[s.rap_null[m]] = np.nan
    dates = _dates(w, s.n)
    return {
        "DATA_ID": w.data_id.pa(m),
        "DATA_DATE": dates.take(pa.array(d)),
        "COL_TIME": pc.binary_join_element_wise(dates[rows.day + 1], HMS.take(pa.array(secs)), " "),
        "PAP_R": hundredths_col(W),
        "PAP_R1": hundredths_col(t1),
        "PAP_R2": hundredths_col(t2),
        "PAP_R3": hundredths_col(t3),
        "PAP_R4": hundredths_col(t4),
        "RAP_R": rw,
        "MARK": MARKS.take(pa.array(rows.mark[pos].astype(np.int8))),
    }


def _dates(w, n: int) -> pa.Array:
    """ISO dates of window days 0 .. n+1 (COL_TIME of the last day is on day n)."""
    cache = w.__dict__.setdefault("_read_dates", {})
    if n not in cache:
        cache[n] = pa.array([w.ds(k) for k in range(n + 2)], type=pa.string())
    return cache[n]
