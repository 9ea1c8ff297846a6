"""Injection of every rule code of audit-rules.md §2 (and of area loss problems).

Each injector changes the generator's model (consumption, registers, acquisition,
archive operations) and records what it did in `sim.plan`. The label days are not
computed here: rules.py evaluates the catalogue on the generated data.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from . import work_orders
from .scenario import H, RowPatch, Sim, _cands, event, mid_snaps, note, pick, pick_areas
from .world import AGR, COM, HV, RES, edata_rows, years_later

MOBILE_FIX_PREFIX = "166"


def _base_set(s: Sim, table: str, key: str, **vals) -> None:
    s.arc.base_set(table, key, **vals)


def _base_drop(s: Sim, table: str, keys) -> None:
    s.arc.base_drop(table, keys)


def _fix_day(s: Sim, code: str, k: int) -> int | None:
    """The mid-window snapshot day from which the k-th fixed instance of `code` is corrected
    (None if there is none): the day after the field's planned answer 属实 已整改 to its work
    order (work_orders.rectified_day), so that verification archives the order."""
    return work_orders.rectified_day(s.w, code, k)


def _wo(fix: int | None) -> tuple:
    """The field's plan for the instance's work order (work_orders.py): rectified for real
    from `fix`, or answered 已整改 while the anomaly continues (整改无效)."""
    return ("stops", fix) if fix else ("continues", None)


def _other_area(s: Sim, a: int) -> int:
    w = s.w
    other = np.arange(w.NA) != a
    same = np.flatnonzero(other & (w.area_station == w.area_station[a]) & ~w.area_hv)
    if not len(same):
        same = np.flatnonzero(other & ~w.area_hv)
    return int(w.rng.choice(same))


def _area_load(s: Sim, a: int) -> float:
    w = s.w
    return float(w.mu_kwh[: w.N0][w.cust_area[: w.N0] == a].sum()) * H


def inject(s: Sim) -> RowPatch:
    """Inject everything; returns the stolen energy per customer and day (theft)."""
    w, n, rng, K = s.w, s.n, s.w.rng, s.w.p.per_code
    theft_extra = RowPatch(n)
    kl = max(3, K)
    # ------------------------------------------------------------ L01 unmetered load
    for k, a in enumerate(pick_areas(s, kl, min_size=60)):
        d0 = 0 if k % 2 == 0 else max(1, n // 2)
        u = rng.uniform(0.15, 0.3)
        s.extra_load[a, d0:] = u * _area_load(s, a)
        note(
            s,
            "L01",
            f"unmetered load (illegal connection) of {u:.0%} of the area's consumption"
            f" from {w.ds(d0)}",
            tg=a,
        )
    # ------------------------------------------------------------ L02 check meter multiplier
    # error in marketing (A05)
    for k, a in enumerate(pick_areas(s, max(2, kl // 2), min_size=40)):
        true_f = int(s.check_factor_true[a])
        wrong = {40: 30, 60: 40, 80: 60, 120: 80}.get(true_f, true_f // 2)
        key = w.meter_id[w.NC + a]
        _base_set(s, "C_METER", key, T_FACTOR=str(wrong))
        fix = _fix_day(s, "A05", k) if k % 2 == 0 else None
        if fix:
            s.arc.upd(fix, "C_METER", key, T_FACTOR=str(true_f))
        desc = (
            f"check meter multiplier {wrong} in marketing, {true_f} on site and in acquisition"
            + (f"; corrected {w.ds(fix)}" if fix else "")
        )
        note(s, "L02", desc, tg=a)
        s.plan.append(
            {
                "code": "A05",
                "tg": w.tg_id[a],
                "cons": "T" + w.tg_no[a],
                "app": "",
                "desc": desc,
                "i": None,
                "a": a,
                "wo": _wo(fix),
            }
        )
    # ------------------------------------------------------------ L02 unrecorded PV
    # (GEN_FLAG 0 but exporting)
    for a in pick_areas(s, max(1, kl // 2 - 1), min_size=40):
        c = [
            i
            for i in np.flatnonzero(
                (w.cust_area == a) & (np.arange(w.NC) < w.N0) & ~w.pv & (w.digits == 6)
            )
            if i not in s.used
        ]
        com = [i for i in c if w.kind[i] == COM]
        i = int((com or c)[0])
        s.used.add(i)
        x = 0.22 * _area_load(s, a)
        s.rap_inc[i] = np.maximum(1, np.rint(x * rng.uniform(0.8, 1.0, n) / s.factor[i])).astype(
            np.int64
        )
        note(
            s,
            "L02",
            f"customer {w.cons_no[i]} exports PV energy (~{x / H:.0f} kWh/day) but GEN_FLAG is 0",
            tg=a,
            cons=i,
        )
    # ------------------------------------------------------------ L03 check meter
    # acquisition failure
    for k, a in enumerate(pick_areas(s, max(2, kl // 2))):
        d = int(rng.integers(1, n - 1))
        ln = 1 + k % 2
        s.fail[w.NC + a, d : d + ln] = True
        note(s, "L03", f"check meter reading missing {w.ds(d)} ({ln} day(s))", tg=a)
    # ------------------------------------------------------------ L03 mass acquisition
    # failure (terminal down)
    for k, a in enumerate(pick_areas(s, max(2, kl // 2))):
        ln = 3 if (k == 0 and n >= 30) else 2
        d = int(rng.integers(2, max(3, n - ln)))
        d = min(d, n - ln)
        if d == 1:
            d = 2
        members = np.flatnonzero(s.phys_area[:, d] == a)
        # meters installed just before or during the outage are read (no M01 on a brand-new MP)
        members = members[w.birth[members] < d - 2]
        # no random lost read right before or after (it would make a 3-day gap)
        s.fail[members, max(0, d - 2) : d] = False
        s.fail[members, d + ln : d + ln + 2] = False
        s.fail[members, d : d + ln] = True
        s.fail[w.NC + a, d : d + ln] = True
        s.events.append(
            {
                "day": d,
                "mp": None,
                "area": a,
                "code": "ERC14",
                "desc": "终端停电(集中器掉线)",
                "close": d + ln - 1,
            }
        )
        note(
            s,
            "L03",
            f"terminal down {w.ds(d)} for {ln} days: no reading of any meter of the area",
            tg=a,
        )
        if ln >= 3:
            for i in members:
                s.plan.append(
                    {
                        "code": "M01",
                        "tg": w.tg_id[a],
                        "cons": w.cons_no[i],
                        "app": "",
                        "desc": "terminal down 3 days (mass acquisition failure)",
                        "i": int(i),
                        "a": a,
                    }
                )
    # ------------------------------------------------------------ A01
    for k, i in enumerate(pick(s, K, kinds=(RES, COM))):
        a = w.cust_area[i]
        b = _other_area(s, a)
        fix = _fix_day(s, "A01", k) if k % 2 == 0 else None
        if k % 2 == 0:
            _base_set(s, "T_TX_DYYH", w.cons_no[i], SSBYQ=w.byq_id[b])
            if fix:
                s.arc.upd(fix, "T_TX_DYYH", w.cons_no[i], SSBYQ=w.byq_id[a])
            what = "GIS connects the customer to another area's transformer"
        else:
            _base_set(s, "E_DATA_MP", w.data_id[i], TG_ID=w.tg_id[b])
            what = "acquisition archive has another area"
        note(
            s, "A01", what + (f"; corrected {w.ds(fix)}" if fix else ""), tg=a, cons=i, wo=_wo(fix)
        )
    for k, i in enumerate(pick(s, max(1, K // 2 - 1), kinds=(COM,), min_mu=60)):
        a = int(w.cust_area[i])
        b = pick_areas(s, 1, min_size=0)
        b = b[0] if b else _other_area(s, a)
        d = 0 if k % 2 == 0 else (mid_snaps(w) or [0])[0]
        if d == 0:
            _base_set(
                s, "C_CONS", w.cons_no[i], TG_ID=w.tg_id[b], ORG_NO=w.station_no[w.area_station[b]]
            )
            _base_set(s, "C_MP", w.mp_id[i], TG_ID=w.tg_id[b])
        else:
            s.arc.upd(
                d, "C_CONS", w.cons_no[i], TG_ID=w.tg_id[b], ORG_NO=w.station_no[w.area_station[b]]
            )
            s.arc.upd(d, "C_MP", w.mp_id[i], TG_ID=w.tg_id[b])
        s.plan.append(
            {
                "code": "A01",
                "tg": w.tg_id[b],
                "cons": w.cons_no[i],
                "app": "",
                "i": i,
                "a": b,
                "desc": f"marketing moved the customer to area {w.tg_id[b]} on {w.ds(d)};"
                f" still connected to {w.tg_id[a]} (GIS, acquisition, on site)",
            }
        )
        note(
            s,
            "L01",
            f"customer {w.cons_no[i]} is supplied here but billed in area {w.tg_id[b]}"
            " (wrong 户变关系 in marketing)",
            tg=a,
        )
        note(
            s,
            "L02",
            f"customer {w.cons_no[i]} of area {w.tg_id[a]} counted in this area's sales"
            " (wrong 户变关系 in marketing)",
            tg=b,
        )
    # ------------------------------------------------------------ A02
    for k, a in enumerate(pick_areas(s, K)):
        if k % 2 == 0:
            _base_drop(s, "ST_TQ_BYQ", [w.byq_id[a]])
            fix = _fix_day(s, "A02", k) if k % 4 == 0 else None
            if fix:
                s.arc.ins(fix, "ST_TQ_BYQ", {"PMS_BYQ_BS": w.byq_id[a], "YX_TQ_BS": w.tg_id[a]})
            note(
                s,
                "A02",
                "no PMS transformer mapped to the area (ST_TQ_BYQ)"
                + (f"; mapped {w.ds(fix)}" if fix else ""),
                tg=a,
                wo=_wo(fix),
            )
        else:
            _base_set(s, "T_SB_ZNYC_PDBYQ", w.byq_id[a], YXZT="30")
            note(s, "A02", "the area's PMS transformer is retired (YXZT 30)", tg=a, wo=_wo(None))
    # ------------------------------------------------------------ A03
    for k, a in enumerate(pick_areas(s, K)):
        cap = int(w.area_cap[a])
        wrong = {200: 250, 315: 400, 400: 315, 500: 630, 630: 500}.get(cap, cap + 100)
        _base_set(s, "G_TG", w.tg_id[a], TG_CAP=str(wrong))
        fix = _fix_day(s, "A03", k) if k % 2 == 0 else None
        if fix:
            s.arc.upd(fix, "G_TG", w.tg_id[a], TG_CAP=str(cap))
        note(
            s,
            "A03",
            f"G_TG.TG_CAP {wrong} vs PMS EDRL {cap}" + (f"; corrected {w.ds(fix)}" if fix else ""),
            tg=a,
            wo=_wo(fix),
        )
    # ------------------------------------------------------------ A04
    for k, i in enumerate(pick(s, K, kinds=(RES, COM))):
        wrong = w.asset_no[i][:-4] + f"{(int(w.asset_no[i][-4:]) + 5000) % 10000:04d}"
        _base_set(s, "E_DATA_MP", w.data_id[i], ASSET_NO=wrong)
        fix = _fix_day(s, "A04", k) if k % 2 == 0 else None
        if fix:
            s.arc.upd(fix, "E_DATA_MP", w.data_id[i], ASSET_NO=w.asset_no[i])
        note(
            s,
            "A04",
            f"acquisition asset no {wrong} vs marketing {w.asset_no[i]}"
            + (f"; corrected {w.ds(fix)}" if fix else ""),
            tg=w.cust_area[i],
            cons=i,
            wo=_wo(fix),
        )
    # ------------------------------------------------------------ A05 (customer meters)
    cands = [
        i for i in np.flatnonzero((w.kind == COM) & (w.factor0 > 1)) if i not in s.used and i < w.N0
    ]
    for k, i in enumerate(list(rng.permutation(cands))[:K]):
        i = int(i)
        s.used.add(i)
        wrong = {20: 30, 30: 40, 40: 30}.get(int(w.factor0[i]), 50)
        _base_set(s, "E_DATA_MP", w.data_id[i], T_FACTOR=str(wrong))
        fix = _fix_day(s, "A05", k) if k % 2 == 0 else None
        if fix:
            s.arc.upd(fix, "E_DATA_MP", w.data_id[i], T_FACTOR=str(w.factor0[i]))
        note(
            s,
            "A05",
            f"acquisition multiplier {wrong} vs marketing {w.factor0[i]}"
            + (f"; corrected {w.ds(fix)}" if fix else ""),
            tg=w.cust_area[i],
            cons=i,
            wo=_wo(fix),
        )
    # ------------------------------------------------------------ A06 (implies M01)
    for k, i in enumerate(pick(s, K)):
        _base_drop(s, "E_DATA_MP", [w.data_id[i]])
        fix = _fix_day(s, "A06", k) if k % 2 == 0 else None
        end = fix if fix else n
        s.has_edata[i, :end] = False
        if fix:
            s.arc.ins(fix, "E_DATA_MP", edata_rows(w, i).iloc[0].to_dict())
        note(
            s,
            "A06",
            "settlement metering point without acquisition record"
            + (f"; created {w.ds(fix)}" if fix else ""),
            tg=w.cust_area[i],
            cons=i,
            wo=_wo(fix),
        )
    # ------------------------------------------------------------ A07
    bad = ["", "1391234567", "12812345678", "0571-8765432", "1381234567a"]
    fixn = 0
    for k, i in enumerate(pick(s, K, kinds=(RES, COM, AGR))):
        m = bad[k % len(bad)]
        for mode in ("01", "02"):
            _base_set(s, "C_CONTACT", f"{w.cons_no[i]}|{mode}", MOBILE=m)
        fix = _fix_day(s, "A07", k) if k % 2 == 1 else None
        if fix:
            fixn += 1
            good = f"{MOBILE_FIX_PREFIX}{fixn:08d}"
            for mode in ("01", "02"):
                s.arc.upd(fix, "C_CONTACT", f"{w.cons_no[i]}|{mode}", MOBILE=good)
        note(
            s,
            "A07",
            f"mobile {m!r} invalid" + (f"; corrected {w.ds(fix)}" if fix else ""),
            tg=w.cust_area[i],
            cons=i,
            wo=_wo(fix),
        )
    group = pick(s, 6, spread=False)
    shared = w.mobile1[group[0]]
    for i in group:
        for mode in ("01", "02"):
            _base_set(s, "C_CONTACT", f"{w.cons_no[i]}|{mode}", MOBILE=shared)
        note(s, "A07", f"mobile {shared} shared by 6 customers", tg=w.cust_area[i], cons=i)
    # ------------------------------------------------------------ A08
    hv = [
        int(i)
        for i in rng.permutation(np.flatnonzero((w.kind == HV) & (np.arange(w.NC) < w.N0)))
        if i not in s.used
    ]
    ct = s.arc.base["C_CONTRACT"]
    for k, i in enumerate(hv[:K]):
        s.used.add(i)
        keys = list(ct.index[ct["CONS_NO"] == w.cons_no[i]])
        newest = max(keys)
        if k % 3 == 0:
            _base_drop(s, "C_CONTRACT", keys)
            ct = s.arc.base["C_CONTRACT"]
            note(
                s,
                "A08",
                "10 kV customer without a supply contract",
                tg=w.cust_area[i],
                cons=i,
                wo=_wo(None),
            )
        elif k % 3 == 1:
            x = int(rng.integers(1, max(2, n - 2)))
            _base_set(s, "C_CONTRACT", newest, INVALID_DATE=w.ds(x))
            note(
                s,
                "A08",
                f"contract expires {w.ds(x)} and is not renewed",
                tg=w.cust_area[i],
                cons=i,
            )
        else:
            _base_set(
                s, "C_CONTRACT", newest, INVALID_DATE=(w.start - dt.timedelta(days=20)).isoformat()
            )
            fix = _fix_day(s, "A08", k)
            if fix:
                s.arc.ins(
                    fix,
                    "C_CONTRACT",
                    {
                        "AGRT_NO": f"HT{i + 1:08d}03",
                        "CONS_NO": w.cons_no[i],
                        "SIGN_DATE": w.ds(fix - 1),
                        "VALID_DATE": w.ds(fix - 1),
                        "INVALID_DATE": years_later(
                            w.date(fix - 1), w.date(fix).year + 5 - w.date(fix - 1).year
                        ).isoformat(),
                    },
                )
            note(
                s,
                "A08",
                "contract expired before the window" + (f"; renewed {w.ds(fix)}" if fix else ""),
                tg=w.cust_area[i],
                cons=i,
                wo=_wo(fix),
            )
    # ------------------------------------------------------------ A09
    for k, i in enumerate(pick(s, K, kinds=(RES, COM, AGR))):
        wrong = {RES: "0201", COM: "0101", AGR: "0201"}[int(w.kind[i])]
        _base_set(s, "C_CONS", w.cons_no[i], PRC_CODE=wrong)
        fix = _fix_day(s, "A09", k) if k % 2 == 0 else None
        if fix:
            s.arc.upd(fix, "C_CONS", w.cons_no[i], PRC_CODE=w.prc[i])
        note(
            s,
            "A09",
            f"price code {wrong} of another 用电类别 (customer {w.elec_type[i]})"
            + (f"; corrected {w.ds(fix)}" if fix else ""),
            tg=w.cust_area[i],
            cons=i,
            wo=_wo(fix),
        )
    # ------------------------------------------------------------ M01
    for k, i in enumerate(pick(s, K)):
        ln = 3 + k % 3
        d0 = int(rng.integers(1, max(2, n - ln)))
        s.fail[i, d0 : d0 + ln] = True
        note(s, "M01", f"meter not read {w.ds(d0)} .. {ln} days", tg=w.cust_area[i], cons=i)
    # ------------------------------------------------------------ M02 (vacant; implies M06)
    if n >= 17:
        for i in pick(s, K, min_mu=4):
            v = int(rng.integers(1, n - 15))
            s.inc[i, v:] = 0
            note(s, "M02", f"no consumption from {w.ds(v)} (vacant)", tg=w.cust_area[i], cons=i)
            _label_theft(s, i, "vacancy", None, None, v, None, 0.0)
    # ------------------------------------------------------------ M03
    for i in pick(s, K):
        x = int(rng.integers(2, max(3, n - 1)))  # a 3-day window: day 2
        s.shifts.append((i, x, int(s.inc[i, x] + rng.integers(2000, 8000))))
        note(s, "M03", f"register goes backwards on {w.ds(x)}", tg=w.cust_area[i], cons=i)
    # ------------------------------------------------------------ M04 (with ERC29; implies M07)
    flying = RowPatch(n)
    for i in pick(s, K):
        x = int(rng.integers(2, n - 2)) if n > 4 else 1
        if x == 1:
            x = 2
        extra = int(np.ceil(w.cap[i] * 24 * H * 2.5 / s.factor[i, x]))
        flying[i, x : x + 2] = extra
        event(s, x, i, "ERC29", "电能表飞走", close_after=1)
        note(
            s,
            "M04",
            f"meter runs away {w.ds(x)} (+{extra / H:.0f} kWh/day for 2 days), ERC29",
            tg=w.cust_area[i],
            cons=i,
        )
    flying.add_to(s.inc)
    # ------------------------------------------------------------ M05
    for k, i in enumerate(pick(s, K)):
        x = int(rng.integers(1, n - 1))
        ln = 1 + k % 3
        s.tariff_err.append((i, x, min(n, x + ln)))
        note(
            s,
            "M05",
            f"tariff registers do not add up {w.ds(x)} ({ln} day(s))",
            tg=w.cust_area[i],
            cons=i,
        )
    # ------------------------------------------------------------ M06
    if n >= 19:
        for k, i in enumerate(pick(s, K, min_mu=5)):
            j = int(rng.integers(15, n - 3))
            f = 5.0 if k % 2 == 0 else 0.12
            s.inc[i, j : j + 6] = np.maximum(1, np.rint(s.inc[i, j : j + 6] * f)).astype(np.int64)
            if f < 1:
                _label_theft(s, i, "short_drop", None, None, j, min(n - 1, j + 5), f)
            note(
                s,
                "M06",
                f"consumption x{f} from {w.ds(j)} for up to 6 days",
                tg=w.cust_area[i],
                cons=i,
            )
    # ------------------------------------------------------------ M07
    for k, i in enumerate(pick(s, K)):
        code = ["ERC12", "ERC27", "ERC30"][k % 3]
        x = int(rng.integers(2, n))
        event(
            s,
            x,
            i,
            code,
            {"ERC12": "电能表时间超差", "ERC27": "电能表示度下降", "ERC30": "电能表停走"}[code],
            close_after=None if k % 2 else 0,
        )
        note(s, "M07", f"event {code} on {w.ds(x)}", tg=w.cust_area[i], cons=i)
    # ------------------------------------------------------------ T01 (theft; implies M06,
    # often L01)
    if n >= 23:
        for k, i in enumerate(pick(s, K, kinds=(COM,), min_mu=60)):
            e = int(rng.integers(15, n - 7))
            code = ["ERC37", "ERC38", "ERC9", "ERC10"][k % 4]
            old = s.inc[i, e + 1 :].copy()
            s.inc[i, e + 1 :] = np.maximum(1, np.rint(old * 0.25)).astype(np.int64)
            theft_extra[i, e + 1 :] = (old - s.inc[i, e + 1 :]) * s.factor[i, e + 1 :]
            event(
                s,
                e,
                i,
                code,
                {
                    "ERC37": "电能表开表盖",
                    "ERC38": "电能表开端钮盒",
                    "ERC9": "电流回路异常",
                    "ERC10": "电压回路异常",
                }[code],
                close_after=0,
            )
            note(
                s,
                "T01",
                f"{code} on {w.ds(e)} then metered consumption down to 25% (bypass)",
                tg=w.cust_area[i],
                cons=i,
            )
            _label_theft(s, i, "theft", code, e, e + 1, None, 0.25)
    # decoys: cover-open events without any drop (must NOT be T01)
    for i in pick(s, 2):
        x = int(rng.integers(2, n))
        event(s, x, i, "ERC37", "电能表开表盖(现场校验)", close_after=0)
        _label_theft(s, i, "event_decoy", "ERC37", x, None, None, 1.0)
    s.flying = flying
    if n >= 23:
        _theft_ranking_cases(s, theft_extra)
    return theft_extra


def _label_theft(s: Sim, i: int, kind: str, event_code, event_day, start, end, share) -> None:
    """One row of truth/thefts.csv (the labels of the theft ranking, issue 13): day indexes,
    `end` the last day of the drop (None: it lasts to the end of the window)."""
    s.thefts.append(
        {
            "i": i,
            "kind": kind,
            "event_code": event_code or "",
            "event_day": event_day,
            "drop_start": start,
            "drop_end": end,
            "metered_share": share,
        }
    )


def _theft_ranking_cases(s: Sim, theft_extra: RowPatch) -> None:
    """The cases the theft ranking is measured on besides T01's event thefts: thefts without
    any event (a bypass before the meter: no ERC is raised), a third of them ending (the
    meter repaired), and shops closing (a legitimate drop: the consumption itself falls, so
    the area's supply falls with it and its loss does not rise — no theft_extra).

    Own random stream and own picking, drawn after every other injection: every other
    instance, hence every other label of the catalogue, stays as it was."""
    w, n, K = s.w, s.n, s.w.p.per_code
    rng = np.random.default_rng([w.seed, 23])

    def take(k: int, min_mu: float) -> list[int]:
        c = rng.permutation(_cands(s, kinds=(COM,), min_mu=min_mu))
        out, areas = [], set()
        for i in c:
            a = int(w.cust_area[i])
            if a not in areas:
                out.append(int(i))
                areas.add(a)
            if len(out) == k:
                break
        s.used.update(out)
        return out

    for k, i in enumerate(take(K, 60)):
        e = int(rng.integers(15, n - 7))  # the bypass is set up on e, metered less from e + 1
        share = float(rng.uniform(0.1, 0.5))
        end = min(n - 1, e + int(rng.integers(10, 21))) if k % 3 == 2 else None
        stop = n if end is None else end + 1
        old = s.inc[i, e + 1 : stop].copy()
        s.inc[i, e + 1 : stop] = np.maximum(1, np.rint(old * share)).astype(np.int64)
        theft_extra[i, e + 1 : stop] = (old - s.inc[i, e + 1 : stop]) * s.factor[i, e + 1 : stop]
        if end is not None and end >= n - 1:
            end = None
        # the plan names the injection: the rule findings it causes (M06, L01 ...) are
        # labelled "implied by theft (...)"
        until = f" until {w.ds(end)}" if end is not None else ""
        desc = f"bypass before the meter, no event: metered {share:.0%} from {w.ds(e + 1)}{until}"
        note(s, "theft", desc, tg=w.cust_area[i], cons=i)
        _label_theft(s, i, "theft", None, None, e + 1, end, share)
    for i in take(K, 20):
        c = int(rng.integers(15, n - 7))
        share = float(rng.uniform(0.05, 0.1))
        s.inc[i, c:] = np.maximum(0, np.rint(s.inc[i, c:] * share)).astype(np.int64)
        desc = f"shop closing (legitimate): consumption down to {share:.0%} from {w.ds(c)}"
        note(s, "shop_closed", desc, tg=w.cust_area[i], cons=i)
        _label_theft(s, i, "shop_closed", None, None, c, None, share)


def inject_apps(s: Sim) -> None:
    """E01: applications in flight beyond their limit (some completed mid-window)."""
    from .scenario import _app_row

    w, K = s.w, s.w.p.per_code
    for k in range(K):
        bt = ["102", "101", "111"][k % 3]
        i = pick(s, 1, kinds=(COM,) if bt == "111" else (RES,))[0]
        st = w.area_station[w.cust_area[i]]
        apply_d = {"102": -3, "101": -58, "111": -57}[bt]
        no = f"2026E{k + 1:06d}"
        cons = i if bt == "111" else None
        versions = [(0, _app_row(w, no, bt, "01", st, apply_d, cons=cons, upto=0))]
        fix = s.w.snap_days[-1] if (k % 3 == 0 and len(s.w.snap_days) > 2) else None
        if fix:
            versions.append(
                (
                    fix,
                    _app_row(
                        w,
                        no,
                        bt,
                        "02",
                        st,
                        apply_d,
                        done_day=fix - 1,
                        cons=cons if bt == "111" else None,
                    ),
                )
            )
        s.apps.append(versions)
        s.plan.append(
            {
                "code": "E01",
                "tg": w.tg_id[w.cust_area[i]] if cons is not None else "",
                "cons": "",
                "app": no,
                "i": None,
                "a": None,
                "desc": f"{bt} application since {w.ds(apply_d)} still in flight"
                + (f"; completed {w.ds(fix - 1)}" if fix else ""),
            }
        )
