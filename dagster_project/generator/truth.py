"""The pipeline's view of the generated data, computed from the generator's own values by
the conventions of docs/architecture.md ("Line loss: conventions"): archive as of the
newest snapshot <= D, final state of every reading, the marketing multiplier, exchange
formula, roll-over, PV export in supply, check-meter reverse energy in sales, and the
completeness over active settlement metering points (including those without E_DATA_MP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .scenario import H, Sim


@dataclass
class State:
    """Numeric arrays of one snapshot, indexed by global metering point / area index."""

    day: int
    tables: dict
    mp_area: np.ndarray  # C_MP.TG_ID as area index, -1 if no C_MP row / unknown
    mp_usage: np.ndarray  # '01' / '02' / ''
    mp_active: np.ndarray
    mp_cons: np.ndarray  # C_MP.CONS_NO
    fac: np.ndarray  # C_METER.T_FACTOR (0 = no meter)
    dig: np.ndarray
    edata: np.ndarray  # has an E_DATA_MP row
    gen: np.ndarray  # GEN_FLAG == '1' of the MP's customer
    cap: np.ndarray  # CONTRACT_CAP (customers) / TG_CAP (check meters), kVA
    cons_active: np.ndarray  # customer STATUS_CODE == '1'
    area_in_service: np.ndarray
    area_org: np.ndarray
    area_cap: np.ndarray


def build_state(s: Sim, day: int, t: dict) -> State:
    w = s.w
    NM = w.NC + w.NA
    mp_ix = pd.Index(w.mp_id)
    tg_ix = pd.Index(w.tg_id)
    g = t["G_TG"]
    gi = tg_ix.get_indexer(g["TG_ID"])
    area_in_service = np.zeros(w.NA, bool)
    area_in_service[gi] = (g["RUN_STATUS_CODE"] == "01").to_numpy()
    area_org = np.full(w.NA, "", dtype=object)
    area_org[gi] = g["ORG_NO"].to_numpy(dtype=object)
    area_cap = np.zeros(w.NA)
    area_cap[gi] = pd.to_numeric(g["TG_CAP"]).to_numpy()
    mp = t["C_MP"]
    mi = mp_ix.get_indexer(mp["MP_ID"])
    mp_area = np.full(NM, -1)
    mp_area[mi] = tg_ix.get_indexer(mp["TG_ID"])
    mp_usage = np.full(NM, "", dtype=object)
    mp_usage[mi] = mp["USAGE_TYPE_CODE"].to_numpy(dtype=object)
    mp_active = np.zeros(NM, bool)
    mp_active[mi] = (mp["STATUS_CODE"] == "1").to_numpy()
    mp_cons = np.full(NM, "", dtype=object)
    mp_cons[mi] = mp["CONS_NO"].to_numpy(dtype=object)
    me = t["C_METER"]
    ki = mp_ix.get_indexer(me["MP_ID"])
    fac = np.zeros(NM, np.int64)
    fac[ki] = pd.to_numeric(me["T_FACTOR"]).to_numpy().astype(np.int64)
    dig = np.full(NM, 6)
    dig[ki] = pd.to_numeric(me["DIGITS"]).to_numpy().astype(int)
    ed = t["E_DATA_MP"]
    edata = np.zeros(NM, bool)
    edata[mp_ix.get_indexer(ed["MP_ID"])] = True
    cc = t["C_CONS"].set_index("CONS_NO")
    gen = (cc["GEN_FLAG"].reindex(mp_cons).fillna("0") == "1").to_numpy(copy=True)
    cap = pd.to_numeric(cc["CONTRACT_CAP"].reindex(mp_cons), errors="coerce").to_numpy(
        dtype=np.float64, copy=True
    )
    cons_active = (cc["STATUS_CODE"].reindex(mp_cons).fillna("") == "1").to_numpy()
    chk = mp_usage == "02"
    cap[chk] = area_cap[np.maximum(mp_area[chk], 0)]
    return State(
        day,
        t,
        mp_area,
        mp_usage,
        mp_active,
        mp_cons,
        fac,
        dig,
        edata,
        gen,
        np.nan_to_num(cap),
        cons_active,
        area_in_service,
        area_org,
        area_cap,
    )


@dataclass
class Energies:
    fwd: np.ndarray  # [NM, n] int64 hundredths kWh (valid where ok)
    ok: np.ndarray  # forward energy computable
    rev: np.ndarray
    rev_ok: np.ndarray
    backwards: np.ndarray  # register went backwards (no exchange, no roll-over): M03
    chg: dict


def energies(s: Sim, states: list[State], day_state: list[int], settings: dict) -> Energies:
    w, n = s.w, s.n
    NM = w.NC + w.NA
    roll_share = float(settings["rollover_min_previous_share"])
    hours = float(settings["plausible_hours_per_day"])
    chg = {(ex["i"], ex["day"]): ex for ex in s.exchanges}
    fwd = np.zeros((NM, n), np.int64)
    ok = np.zeros((NM, n), bool)
    rev = np.zeros((NM, n), np.int64)
    rev_ok = np.zeros((NM, n), bool)
    back = np.zeros((NM, n), bool)
    for d in range(1, n):
        st = states[day_state[d]]
        pres = s.present[:, d] & s.present[:, d - 1] & st.edata
        delta = s.W[:, d] - s.W[:, d - 1]
        fs = (10.0**st.dig) * H
        wrap = s.W[:, d] + fs.astype(np.int64) - s.W[:, d - 1]
        roll = (
            (delta < 0) & (s.W[:, d - 1] >= roll_share * fs) & (wrap * st.fac <= st.cap * hours * H)
        )
        e = np.where(delta >= 0, delta, wrap) * st.fac
        good = pres & ((delta >= 0) | roll) & (st.fac > 0)
        back[:, d] = pres & (delta < 0) & ~roll
        for (m, dd), ex in chg.items():
            if dd == d and pres[m]:
                e[m] = (ex["old_end"] - s.W[m, d - 1]) * ex["f_old"] + (
                    s.W[m, d] - ex["new_start"]
                ) * ex["f_new"]
                good[m] = True
                back[m, d] = False
        fwd[:, d] = np.where(good, e, 0)
        ok[:, d] = good
        rd = s.RW[:, d] - s.RW[:, d - 1]
        rnull = s.rap_null
        rev_ok[:, d] = pres & ((rd >= 0) | rnull)
        rev[:, d] = np.where(rev_ok[:, d] & ~rnull, rd * st.fac, 0)
    return Energies(fwd, ok, rev, rev_ok, back, chg)


def area_daily_loss(
    s: Sim, states: list[State], day_state: list[int], en: Energies, settings: dict
) -> pd.DataFrame:
    w, n, NA = s.w, s.n, s.w.NA
    share = float(settings["completeness_min_share"])
    hi = float(settings["loss_rate_high_above"])
    lo = float(settings["loss_rate_negative_below"])
    out = []
    for d in range(1, n):
        st = states[day_state[d]]
        a = st.mp_area
        inarea = a >= 0
        settle = inarea & (st.mp_usage == "01") & st.mp_active
        valid = en.ok[:, d] & (~st.gen | en.rev_ok[:, d])
        sv = settle & valid
        cnt = np.bincount(a[settle], minlength=NA)
        rcnt = np.bincount(a[sv], minlength=NA)
        sales = np.bincount(a[sv], weights=en.fwd[sv, d].astype(np.float64), minlength=NA)
        pvx = sv & st.gen
        pv = np.bincount(a[pvx], weights=en.rev[pvx, d].astype(np.float64), minlength=NA)
        chk = inarea & (st.mp_usage == "02") & st.mp_active
        has_chk = np.bincount(a[chk], minlength=NA) > 0
        cm = np.flatnonzero(chk)
        c_read = np.zeros(NA, bool)
        c_ok = np.zeros(NA, bool)
        c_fwd = np.zeros(NA)
        c_rev = np.zeros(NA)
        ca = a[cm]
        c_read[ca] = s.present[cm, d] & s.present[cm, d - 1] & st.edata[cm]
        c_ok[ca] = en.ok[cm, d]
        c_fwd[ca] = en.fwd[cm, d]
        c_rev[ca] = np.where(en.rev_ok[cm, d], en.rev[cm, d], 0)
        for k in np.flatnonzero(st.area_in_service):
            supply = sales_v = None
            reason = ""
            if not has_chk[k]:
                reason = "no check meter"
            elif not c_read[k]:
                reason = "check meter reading missing"
            elif not c_ok[k]:
                reason = "check meter register invalid"
            if not reason:
                supply = int(c_fwd[k] + pv[k])
                sales_v = int(sales[k] + c_rev[k])
                if rcnt[k] < share * cnt[k]:
                    reason = "meter completeness below threshold"
                elif supply <= 0:
                    reason = "no supply"
            if reason:
                status, loss, rate = "uncomputable", None, None
            else:
                loss = supply - sales_v
                rate = loss / supply
                status = "negative" if rate < lo else ("high" if rate > hi else "qualified")
            out.append(
                (
                    w.tg_id[k],
                    w.ds(d),
                    st.area_org[k],
                    None if supply is None else supply / H,
                    None if sales_v is None else sales_v / H,
                    None if loss is None else loss / H,
                    rate,
                    status,
                    int(cnt[k]),
                    int(rcnt[k]),
                    reason,
                )
            )
    return pd.DataFrame(
        out,
        columns=[
            "tg_id",
            "data_date",
            "org_no",
            "supply_kwh",
            "sales_kwh",
            "loss_kwh",
            "loss_rate",
            "loss_status",
            "meter_count",
            "meter_read_count",
            "uncomputable_reason",
        ],
    )
