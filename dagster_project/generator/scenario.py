"""What happens during the window: consumption, baseline churn (new, cancelled and moved
customers, meter exchanges, multiplier changes, roll-overs, acquisition failures) and the
injected anomalies of every rule code.

All archive changes are dated on snapshot days (see archive.py). Injections are recorded
in `Sim.plan` (rule code, tg, cons, app, description); the labels themselves are computed
afterwards by evaluating the catalogue on the generated data (rules.py), so a code that an
injection implies (M01 for A06, M06 for theft, L01 for an area with unmetered load ...) is
labelled with its exact days too. `plan` explains each label.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .archive import Archive
from .world import (
    COM,
    HV,
    NEVER,
    RES,
    World,
    cons_rows,
    contact_rows,
    edata_rows,
    gis_rows,
    meter_rows,
    mp_rows,
    new_meter,
)

H = 100  # hundredths


@dataclass
class Sim:
    w: World
    arc: Archive
    n: int
    inc: np.ndarray = None  # register increments [NC, n] (register hundredths)
    phys: np.ndarray = None  # physical energy through the area [NC, n] (kWh hundredths)
    phys_area: np.ndarray = None  # [NC, n]
    factor: np.ndarray = None  # true factor [NC, n]
    rap_inc: np.ndarray = None  # reverse register increments [NC, n]
    alive: np.ndarray = None  # meter installed and read [NC, n]
    has_edata: np.ndarray = None  # E_DATA_MP record exists [NC+NA, n]
    fail: np.ndarray = None  # acquisition failed, never delivered [NC+NA, n]
    late: dict = field(default_factory=dict)  # (mp, d) -> file day
    extra_load: np.ndarray = None  # unmetered load per area [NA, n]
    pv_heavy: np.ndarray = None
    check_factor_true: np.ndarray = None
    shifts: list = field(default_factory=list)  # (i, day, delta) register shifts (M03)
    exchanges: list = field(default_factory=list)  # dicts
    tariff_err: list = field(default_factory=list)  # (i, d0, d1)
    events: list = field(default_factory=list)  # dicts: day, mp, code, desc, close_day
    plan: list = field(default_factory=list)  # dicts: code, tg, cons, app, desc
    thefts: list = field(default_factory=list)  # labels of truth/thefts.csv (anomalies.py)
    used: set = field(default_factory=set)
    used_areas: set = field(default_factory=set)
    apps: list = field(default_factory=list)  # APP_BIZ rows with (first_snapshot, versions)
    old_rcvbl: list = field(default_factory=list)  # B01 instances
    rcvbl_override: dict = field(default_factory=dict)  # (i, ym) -> dict(READ_SRC, T_PQ factor)
    no_bill: set = field(default_factory=set)


def mid_snaps(w: World) -> list[int]:
    return [s for s in w.snap_days if 0 < s < w.n - 1]


def init(w: World, arc: Archive) -> Sim:
    n, NC, NA, rng = w.n, w.NC, w.NA, w.rng
    s = Sim(w, arc, n)
    # area and multiplier per customer and day: int32 (their values are small), the model's
    # [customers x days] arrays dominate the memory at a province's size
    s.phys_area = np.broadcast_to(w.cust_area[:, None], (NC, n)).astype(np.int32)
    s.factor = np.broadcast_to(w.factor0[:, None], (NC, n)).astype(np.int32)
    s.alive = np.ones((NC, n), bool)
    s.has_edata = np.ones((NC + NA, n), bool)
    s.fail = np.zeros((NC + NA, n), bool)
    s.extra_load = np.zeros((NA, n))
    s.check_factor_true = w.check_factor.copy()
    s.pv_heavy = (~w.area_hv) & (rng.random(NA) < 0.05)
    # consumption: weekday pattern x noise
    dow = np.array([(w.start + dt.timedelta(days=d)).weekday() for d in range(n)])
    pat = np.ones((4, n))
    pat[RES, dow >= 5] = 1.08
    pat[COM, dow == 6] = 0.85
    # in place, in the order of the expression mu * H * pat * noise (the same floats)
    noise = rng.normal(0, 0.12, (NC, n))
    np.clip(noise, -0.3, 0.3, out=noise)
    np.exp(noise, out=noise)
    e = pat[w.kind]
    e *= (w.mu_kwh * H)[:, None]
    e *= noise
    del noise
    e /= s.factor
    np.rint(e, out=e)
    np.maximum(e, 1, out=e)
    s.inc = e.astype(np.int64)
    del e
    weather = rng.uniform(0.25, 1.0, n)
    pv_e = rng.normal(0, 0.1, (NC, n))
    np.exp(pv_e, out=pv_e)
    x = (w.pv_kwh * H)[:, None] * weather[None, :]
    x *= pv_e
    del pv_e
    np.rint(x, out=x)
    np.maximum(x, 1, out=x)
    x[~w.pv] = 0
    s.rap_inc = x.astype(np.int32)  # a day's export in hundredths (int32 halves 600 MB)
    del x
    s.used_areas |= set()
    return s


class RowPatch:
    """A [customers x days] int64 array that is zero but for a few customers' rows (a
    runaway meter's excess, theft): the rows only, not 600 MB of zeros at a province."""

    def __init__(self, n: int):
        self.n = n
        self.rows: dict[int, np.ndarray] = {}

    def __setitem__(self, key, value) -> None:
        i, days = key
        self.rows.setdefault(int(i), np.zeros(self.n, dtype=np.int64))[days] = value

    def add_to(self, a: np.ndarray, sign: int = 1) -> None:
        for i, row in self.rows.items():
            a[i] += sign * row


# ----------------------------------------------------------------------------- helpers
def _cands(s: Sim, kinds=(RES,), public=True, pv=False, exclude_used=True, min_mu=0.0):
    w = s.w
    key = (tuple(kinds), public, pv, min_mu)
    cache = s.__dict__.setdefault("_cands_static", {})
    if key not in cache:  # the world does not change: the same mask for every pick
        ok = np.isin(w.kind, kinds)
        ok[w.N0 :] = False
        if public:
            ok &= ~w.area_hv[w.cust_area]
        if not pv:
            ok &= ~w.pv
        ok &= w.mu_kwh >= min_mu
        ok &= w.digits == 6
        cache[key] = ok
    ok = cache[key]
    if exclude_used:
        ok = ok & ~used_mask(s.used, w.NC)
    # int32 where it fits: the same permutation (the draws depend on the length only) of half
    # the memory, a province's 20 million candidates shuffle faster
    return np.flatnonzero(ok).astype(np.int32 if w.NC < 2**31 else np.int64)


def used_mask(used: set, n: int) -> np.ndarray:
    m = np.zeros(n, bool)
    if used:
        m[np.fromiter(used, dtype=np.int64, count=len(used))] = True
    return m


def pick(s: Sim, k: int, spread=True, **kw) -> list[int]:
    """k distinct unused customers, preferably in distinct unused areas."""
    c = _cands(s, **kw)
    c = s.w.rng.permutation(c)
    out, areas = [], set()
    for i in c:
        a = int(s.w.cust_area[i])
        if spread and (a in areas or a in s.used_areas):
            continue
        out.append(int(i))
        areas.add(a)
        if len(out) == k:
            break
    if len(out) < k:  # relax
        for i in c:
            if int(i) not in out:
                out.append(int(i))
            if len(out) == k:
                break
    for i in out:
        s.used.add(i)
    return out


def pick_areas(s: Sim, k: int, hv=False, min_size=0) -> list[int]:
    w = s.w
    sizes = np.bincount(w.cust_area[: w.N0], minlength=w.NA)
    perm = w.rng.permutation(w.NA)
    ok = (w.area_hv[perm] == hv) & ~used_mask(s.used_areas, w.NA)[perm] & (sizes[perm] >= min_size)
    out = [int(a) for a in perm[ok][:k]]
    if len(out) < k and not hv:  # small presets: share areas rather than skip the anomaly
        perm = w.rng.permutation(w.NA)
        more = perm[~w.area_hv[perm] & ~np.isin(perm, out)]
        out += [int(a) for a in more[: k - len(out)]]
    s.used_areas |= set(out)
    return out


def note(
    s: Sim,
    code: str,
    desc: str,
    tg: int | None = None,
    cons: int | None = None,
    app: str = "",
    wo: tuple | None = None,
) -> None:
    """Record an injection in the plan. `wo`: the field's plan for its work order
    (work_orders.py): ("stops", day) when the anomaly is corrected from that day (the
    answer 属实 已整改 comes the day before), ("continues", None) when it is answered
    已整改 and goes on."""
    w = s.w
    s.plan.append(
        {
            "code": code,
            "tg": w.tg_id[tg] if tg is not None else "",
            "cons": w.cons_no[cons] if cons is not None else "",
            "app": app,
            "desc": desc,
            "i": cons,
            "a": tg,
            "wo": wo,
        }
    )


def event(s: Sim, day: int, mp: int, code: str, desc: str, close_after: int | None = 0) -> None:
    s.events.append(
        {
            "day": day,
            "mp": mp,
            "code": code,
            "desc": desc,
            "close": None if close_after is None else day + close_after,
        }
    )


# ----------------------------------------------------------------------------- baseline
def baseline(s: Sim, n_new: int) -> None:
    w, arc, rng, n = s.w, s.arc, s.w.rng, s.n
    mids = mid_snaps(w)
    # new customers, born on snapshot days (from completed 低压新装 applications)
    new = np.arange(w.N0, w.NC)
    born = np.array([mids[k % len(mids)] if mids else NEVER for k in range(len(new))], dtype=int)
    w.birth[new] = born
    s.used |= {int(i) for i in new}
    for k, i in enumerate(new):
        s.alive[i, : born[k]] = False
        s.has_edata[i, : born[k]] = False
        s.inc[i, : born[k] + 1] = 0
    live = new[born < n]
    for i in live:
        w.inst_date[i] = w.ds(w.birth[i])
        w.build_date[i] = w.ds(w.birth[i])
    # the rows of every new customer at once (one table at a time), then the inserts in the
    # order of the customers
    rows = {
        "C_CONS": cons_rows(w, live).to_dict("records"),
        "C_CONTACT": contact_rows(w, live).to_dict("records"),
        "C_MP": mp_rows(w, live).to_dict("records"),
        "C_METER": meter_rows(w, live).to_dict("records"),
        "E_DATA_MP": edata_rows(w, live).to_dict("records") if len(live) else [],
        "T_TX_DYYH": gis_rows(w, live).to_dict("records"),
    }
    row_of = {int(i): k for k, i in enumerate(live)}
    for k, i in enumerate(new):
        b = int(born[k])
        if b >= n:
            continue
        r = row_of[int(i)]
        arc.ins(b, "C_CONS", rows["C_CONS"][r])
        for c in rows["C_CONTACT"][2 * r : 2 * r + 2]:
            arc.ins(b, "C_CONTACT", c)
        arc.ins(b, "C_MP", rows["C_MP"][r])
        arc.ins(b, "C_METER", rows["C_METER"][r])
        arc.ins(b, "E_DATA_MP", rows["E_DATA_MP"][r])
        arc.ins(b, "T_TX_DYYH", rows["T_TX_DYYH"][r])
        # the application, in flight on the previous snapshot when the gap allows it
        prev = max([x for x in w.snap_days if x < b], default=0)
        app_no = f"{w.date(b):%Y%m}{5000 + k:05d}"
        apply_d = b - 1 - 5 if b - prev <= 5 else b - 3
        row = _app_row(
            w, app_no, "102", "02", w.area_station[w.cust_area[i]], apply_d, done_day=b, cons=i
        )
        versions = [(b, row)]
        if b - prev <= 5 and apply_d <= prev:
            versions = [
                (
                    prev,
                    _app_row(
                        w,
                        app_no,
                        "102",
                        "01",
                        w.area_station[w.cust_area[i]],
                        apply_d,
                        done_day=None,
                        upto=prev,
                    ),
                ),
                (b, row),
            ]
        s.apps.append(versions)
    # cancelled customers
    k_cancel = max(1, w.N0 // 2000)
    for i in pick(s, k_cancel, spread=True):
        d = int(rng.choice(mids)) if mids else None
        if d is None:
            continue
        w.death[i] = d
        s.alive[i, d:] = False
        s.has_edata[i, d:] = False
        s.inc[i, d:] = 0
        arc.upd(d, "C_CONS", w.cons_no[i], STATUS_CODE="9", CANCEL_DATE=w.ds(d - 1))
        arc.upd(d, "C_MP", w.mp_id[i], STATUS_CODE="9")
        arc.delete(d, "C_METER", w.meter_id[i])
        arc.delete(d, "E_DATA_MP", w.data_id[i])
        arc.delete(d, "T_TX_DYYH", w.cons_no[i])
        s.no_bill.add(i)
    # legit moves (all systems updated together, physically moved)
    public_of_station = _public_areas_by_station(w)
    for i in pick(s, max(1, w.N0 // 3000), spread=True):
        if not mids:
            break
        d = int(rng.choice(mids))
        a0 = w.cust_area[i]
        same = public_of_station[w.area_station[a0]]
        same = same[same != a0]
        if not len(same):
            continue
        a1 = int(rng.choice(same))
        _move_all(s, i, a1, d)
    # meter exchanges (same factor) and multiplier-only changes
    for i in pick(s, max(2, w.N0 // 1500), spread=True, kinds=(RES, COM)):
        if not mids:
            break
        d = int(rng.choice(mids))
        exchange(s, i, d)
    for i in pick(s, max(2, w.N0 // 3000), spread=True, kinds=(COM,), min_mu=0):
        if not mids or w.factor0[i] == 1:
            continue
        d = int(rng.choice(mids))
        new_f = int(rng.choice([f for f in (20, 30, 40, 60) if f != w.factor0[i]]))
        multiplier_change(s, i, d, new_f)
    # random acquisition failures: late back-fills and (isolated) lost reads
    NCA = w.NC + w.NA
    lat = rng.random((NCA, n)) < 0.004
    for m, d in zip(*np.nonzero(lat), strict=True):
        lag = int(rng.integers(1, 4))
        if d + lag < n:
            s.late[(int(m), int(d))] = int(d + lag)
    lost = rng.random((w.NC, n)) < 0.0003
    lost &= (w.mu_kwh < 6)[:, None] & (w.kind == RES)[:, None]
    lost[:, 0] = False
    for i, d in zip(*np.nonzero(lost), strict=True):
        if i in s.used or s.fail[i].any():
            continue
        s.fail[i, d] = True
    # terminal power-off events (ERC14, not a rule code), none on day 1 (a quiet day)
    for d in range(n):
        if d == 1:
            continue
        for a in rng.choice(w.NA, int(rng.poisson(max(1, w.NA / 40))), replace=True):
            s.events.append(
                {
                    "day": d,
                    "mp": None,
                    "area": int(a),
                    "code": "ERC14",
                    "desc": "终端停/上电",
                    "close": d,
                }
            )
    # applications: archived history and in-flight ones that stay within their limit
    for k in range(max(4, w.N0 // 500)):
        i = int(rng.integers(0, w.N0))
        bt = {HV: "101", COM: "111"}.get(int(w.kind[i]), "102")
        apply_d = -int(rng.integers(60, 900))
        s.apps.append(
            [
                (
                    0,
                    _app_row(
                        w,
                        f"2024{k + 1:07d}",
                        bt,
                        "02",
                        w.area_station[w.cust_area[i]],
                        apply_d,
                        done_day=apply_d + 20,
                        cons=i,
                    ),
                )
            ]
        )
    for k in range(max(3, w.N0 // 1000)):
        i = int(rng.integers(0, w.N0))
        bt = "111" if k % 2 else "101"
        st = w.area_station[w.cust_area[i]]
        r = int(rng.integers(0, 20))
        cons = i if bt == "111" else None
        no = f"2026{8000 + k:07d}"
        versions = [(0, _app_row(w, no, bt, "01", st, -r, cons=cons, upto=0))]
        if n - 1 + r > 60:  # archive it on a snapshot day before it gets older than 60 days
            done = max(x for x in w.snap_days if x <= 61 - r)
            if done == 0:
                continue
            versions.append((done, _app_row(w, no, bt, "02", st, -r, done_day=done - 1, cons=cons)))
        elif len(w.snap_days) > 2:
            u = w.snap_days[2]
            versions.append((u, _app_row(w, no, bt, "01", st, -r, cons=cons, upto=u)))
        s.apps.append(versions)


def _public_areas_by_station(w: World) -> dict[int, np.ndarray]:
    """The public (公变) areas of every station, ascending."""
    pub = np.flatnonzero(~w.area_hv)
    st = w.area_station[pub]
    order = np.argsort(st, kind="stable")
    keys, start = np.unique(st[order], return_index=True)
    groups = np.split(pub[order], start[1:])
    out = {int(k): g for k, g in zip(keys, groups, strict=True)}
    return {k: out.get(k, np.array([], dtype=int)) for k in range(len(w.station_no))}


def _app_row(
    w: World, app_no, bt, status, station, apply_d, done_day=None, cons=None, upto=None
) -> dict:
    """An APP_BIZ row: archived (status 02, every milestone up to POWER_ON_DATE = done_day)
    or in flight as seen on day `upto` (milestones reached by then)."""
    names = [
        "APPLY_DATE",
        "SURVEY_DATE",
        "PLAN_REPLY_DATE",
        "DESIGN_REVIEW_DATE",
        "MID_CHECK_DATE",
        "COMPLETE_CHECK_DATE",
        "POWER_ON_DATE",
    ]
    steps = [0, 1, 2, 3, 3, 4, 5] if bt == "102" else [0, 4, 12, 20, 30, 40, 48]
    has_cons = cons is not None and (status == "02" or bt == "111")
    row = {
        "APP_NO": app_no,
        "CONS_NO": w.cons_no[cons] if has_cons else "",
        "ORG_NO": w.station_no[station],
        "BUSI_TYPE": bt,
        "VOLT_CODE": {"101": "03", "102": "01", "111": "02"}[bt],
        "STATUS_CODE": status,
    }
    for k, nm in enumerate(names):
        if bt == "102" and nm in ("DESIGN_REVIEW_DATE", "MID_CHECK_DATE"):
            row[nm] = ""
        elif status == "02":
            row[nm] = w.ds(apply_d + round(steps[k] / steps[-1] * (done_day - apply_d)))
        else:
            day = apply_d + steps[k]
            row[nm] = w.ds(day) if (nm != "POWER_ON_DATE" and day <= upto) else ""
    return row


def _move_all(s: Sim, i: int, a1: int, d: int) -> None:
    w, arc = s.w, s.arc
    arc.upd(d, "C_CONS", w.cons_no[i], TG_ID=w.tg_id[a1], ORG_NO=w.station_no[w.area_station[a1]])
    arc.upd(d, "C_MP", w.mp_id[i], TG_ID=w.tg_id[a1])
    arc.upd(d, "E_DATA_MP", w.data_id[i], TG_ID=w.tg_id[a1], TMNL_ASSET_NO=w.tmnl_asset[a1])
    if w.kind[i] != HV:
        arc.upd(d, "T_TX_DYYH", w.cons_no[i], SSBYQ=w.byq_id[a1])
    s.phys_area[i, d:] = a1


def exchange(s: Sim, i: int, d: int) -> None:
    w, arc = s.w, s.arc
    mid, asset = new_meter(w)
    s.exchanges.append(
        {
            "i": i,
            "day": d,
            "new_start": int(w.rng.integers(0, 500)),
            "f_old": int(w.factor0[i]),
            "f_new": int(w.factor0[i]),
            "old_asset": w.asset_no[i],
            "new_asset": asset,
            "kind": "exchange",
        }
    )
    arc.delete(d, "C_METER", w.meter_id[i])
    arc.ins(
        d,
        "C_METER",
        {
            "METER_ID": mid,
            "ASSET_NO": asset,
            "MP_ID": w.mp_id[i],
            "T_FACTOR": str(w.factor0[i]),
            "DIGITS": "6",
            "INST_DATE": w.ds(d),
        },
    )
    arc.upd(d, "E_DATA_MP", w.data_id[i], ASSET_NO=asset)


def multiplier_change(s: Sim, i: int, d: int, new_f: int) -> None:
    w, arc = s.w, s.arc
    f_old = int(w.factor0[i])
    a = s.inc[i, d] // 2
    b = s.inc[i, d] - a
    s.inc[i, d] = a + max(1, round(b * f_old / new_f))
    s.inc[i, d + 1 :] = np.maximum(1, np.rint(s.inc[i, d + 1 :] * f_old / new_f)).astype(np.int64)
    s.factor[i, d + 1 :] = new_f
    s.exchanges.append(
        {
            "i": i,
            "day": d,
            "a": int(a),
            "f_old": f_old,
            "f_new": new_f,
            "old_asset": w.asset_no[i],
            "new_asset": w.asset_no[i],
            "kind": "factor",
            "b_new": int(s.inc[i, d] - a),
        }
    )
    arc.upd(d, "C_METER", w.meter_id[i], T_FACTOR=str(new_f))
    arc.upd(d, "E_DATA_MP", w.data_id[i], T_FACTOR=str(new_f))
