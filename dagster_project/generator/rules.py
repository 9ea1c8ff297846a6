"""Reference evaluation of the rule catalogue (audit-rules.md §2) on the generated data,
with the conventions listed in truth/README.md. Produces one row per finding and day;
`runs()` merges them into first/last-date runs for anomalies.csv."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from .scenario import H, Sim
from .truth import Energies, State
from .world import cons_index

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def _cons_tg(st: State, cons: np.ndarray) -> np.ndarray:
    """The customer's area in marketing (C_CONS.TG_ID); 'T'||TG_NO accounts -> C_MP.TG_ID."""
    m = getattr(st, "_cons_tg_map", None)
    if m is None:
        cc = st.tables["C_CONS"].set_index("CONS_NO")["TG_ID"]
        mp = st.tables["C_MP"]
        virt = mp[mp["USAGE_TYPE_CODE"] == "02"].set_index("CONS_NO")["TG_ID"]
        m = pd.concat([cc, virt[~virt.index.isin(cc.index)]])
        st._cons_tg_map = m
    tg = m.reindex(np.asarray(cons, dtype=object)).to_numpy(dtype=object, copy=True)
    return np.where(pd.isna(tg), "", tg)


def archive_findings(
    s: Sim, states: list[State], day_state: list[int], settings: dict, sampled: bool = False
) -> list[tuple]:
    """(code, tg_id, cons_no, app_no, day) for A01..A09 and E01. `sampled`: the states'
    tables hold the sampled areas' rows only (an application of a customer not among them
    is left out; the caller keeps the findings of the sampled areas)."""
    w, n = s.w, s.n
    out = []
    lim_lv = int(float(settings["expansion_limit_days_low_voltage"]))
    lim_hv = int(float(settings["expansion_limit_days_high_voltage"]))
    max_c = int(float(settings["mobile_max_customers"]))
    volt = settings["contract_volt_code"]
    for k, st in enumerate(states):
        days = [d for d in range(n) if day_state[d] == k]
        if not days:
            continue
        t = st.tables
        cons = t["C_CONS"]
        act = cons[cons["STATUS_CODE"] == "1"]
        hits: list[tuple[str, str, str]] = []  # (code, tg, cons) constant over the snapshot
        # A01
        mp = t["C_MP"]
        smp = mp[mp["USAGE_TYPE_CODE"] == "01"].set_index("CONS_NO")["MP_ID"]
        ed = t["E_DATA_MP"].set_index("MP_ID")
        gis = t["T_TX_DYYH"].set_index("YHBH")["SSBYQ"]
        link = t["ST_TQ_BYQ"].set_index("PMS_BYQ_BS")["YX_TQ_BS"]
        c = act["CONS_NO"].to_numpy(dtype=object)
        mk = act["TG_ID"].to_numpy(dtype=object)
        g = link.reindex(gis.reindex(c).to_numpy(dtype=object)).to_numpy(dtype=object)
        acq = ed["TG_ID"].reindex(smp.reindex(c).to_numpy(dtype=object)).to_numpy(dtype=object)
        gn, an = ~pd.isna(g), ~pd.isna(acq)
        with np.errstate(all="ignore"):
            bad = (gn & (g != mk)) | (an & (acq != mk)) | (gn & an & (g != acq))
        hits += [("A01", x, cn) for cn, x in zip(c[bad], mk[bad], strict=True)]
        # A02 / A03
        gt = t["G_TG"]
        tr = t["T_SB_ZNYC_PDBYQ"].set_index("OBJ_ID")
        lk = t["ST_TQ_BYQ"]
        by_tg = lk.groupby("YX_TQ_BS")["PMS_BYQ_BS"].apply(list).to_dict()
        for tg, cap, run in zip(gt["TG_ID"], gt["TG_CAP"], gt["RUN_STATUS_CODE"], strict=True):
            known = [b for b in by_tg.get(tg, []) if b in tr.index]
            if run == "01" and (not known or all(tr.at[b, "YXZT"] == "30" for b in known)):
                hits.append(("A02", tg, ""))
            if known and any(float(tr.at[b, "EDRL"]) != float(cap) for b in known):
                hits.append(("A03", tg, ""))
        # A04 / A05
        me = t["C_METER"].merge(t["E_DATA_MP"], on="MP_ID", suffixes=("_M", "_E"))
        me = me.merge(mp[["MP_ID", "CONS_NO"]].rename(columns={"CONS_NO": "CN"}), on="MP_ID")
        for code, bad in (
            ("A04", me["ASSET_NO_M"] != me["ASSET_NO_E"]),
            ("A05", pd.to_numeric(me["T_FACTOR_M"]) != pd.to_numeric(me["T_FACTOR_E"])),
        ):
            x = me[bad]
            for cn, tg in zip(x["CN"], _cons_tg(st, x["CN"].to_numpy(dtype=object)), strict=True):
                hits.append((code, tg, cn))
        # A06
        a6 = mp[
            (mp["USAGE_TYPE_CODE"] == "01")
            & (mp["STATUS_CODE"] == "1")
            & ~mp["MP_ID"].isin(t["E_DATA_MP"]["MP_ID"])
        ]
        for cn, tg in zip(
            a6["CONS_NO"], _cons_tg(st, a6["CONS_NO"].to_numpy(dtype=object)), strict=True
        ):
            hits.append(("A06", tg, cn))
        # A07
        ct = t["C_CONTACT"]
        ct = ct[ct["CONS_NO"].isin(cons["CONS_NO"])]
        per_mobile = ct[ct["MOBILE"] != ""].groupby("MOBILE", sort=False)["CONS_NO"].nunique()
        shared = per_mobile[per_mobile > max_c].index
        badm = ~ct["MOBILE"].str.fullmatch(r"1[3-9][0-9]{9}") | ct["MOBILE"].isin(shared)
        bad_c = set(ct.loc[badm, "CONS_NO"]) | (set(act["CONS_NO"]) - set(ct["CONS_NO"]))
        a7 = act[act["CONS_NO"].isin(bad_c)]
        hits += [("A07", tg, cn) for cn, tg in zip(a7["CONS_NO"], a7["TG_ID"], strict=True)]
        # A09
        kp = t["K_PRC"].set_index("PRC_CODE")["ELEC_TYPE_CODE"]
        pe = kp.reindex(act["PRC_CODE"]).to_numpy(dtype=object)
        for cn, tg, et, p in zip(
            act["CONS_NO"], act["TG_ID"], act["ELEC_TYPE_CODE"], pe, strict=True
        ):
            if isinstance(p, str) and p != et:
                hits.append(("A09", tg, cn))
        for d in days:
            for code, tg, cn in hits:
                out.append((code, tg, cn, "", d))
        # A08 (day dependent)
        hv = act[act["VOLT_CODE"] == volt]
        con = t["C_CONTRACT"].sort_values(["CONS_NO", "VALID_DATE", "SIGN_DATE", "AGRT_NO"])
        newest = con.groupby("CONS_NO").last()["INVALID_DATE"]
        for cn, tg in zip(hv["CONS_NO"], hv["TG_ID"], strict=True):
            inv = newest.get(cn)
            for d in days:
                if inv is None or (inv != "" and inv < w.ds(d)):
                    out.append(("A08", tg, cn, "", d))
        # E01 (day dependent)
        ab = t["APP_BIZ"]
        ab = ab[ab["STATUS_CODE"] == "01"]
        ctg = cons.set_index("CONS_NO")["TG_ID"]
        for app, bt, ap, cn in zip(
            ab["APP_NO"], ab["BUSI_TYPE"], ab["APPLY_DATE"], ab["CONS_NO"], strict=True
        ):
            lim = lim_lv if bt == "102" else lim_hv
            if sampled and cn and cn not in ctg.index:
                continue
            tg = ctg.get(cn, "") if cn else ""
            a0 = dt.date.fromisoformat(ap)
            for d in days:
                if (w.date(d) - a0).days > lim:
                    out.append(("E01", tg, "", app, d))
        st.release()  # one snapshot's tables in memory at a time
    return out


def meter_findings(
    s: Sim,
    states: list[State],
    day_state: list[int],
    en: Energies,
    settings: dict,
    sample: np.ndarray | None = None,
) -> list[tuple]:
    """M01..M07, T01 on settlement metering points of active customers (`sample`: a mask of
    areas; only customers whose findings name one of them)."""
    w, n = s.w, s.n
    NC = w.NC
    out = []
    fail_days = int(float(settings["read_failure_days"]))
    zero_days = int(float(settings["zero_energy_days"]))
    bmin, bshare = (
        float(settings["register_balance_min_kwh"]),
        float(settings["register_balance_share"]),
    )
    jb, jr = (
        int(float(settings["energy_jump_baseline_days"])),
        int(float(settings["energy_jump_recent_days"])),
    )
    jmin, jlo, jhi = (
        float(settings["energy_jump_min_baseline_kwh"]),
        float(settings["energy_jump_low_share"]),
        float(settings["energy_jump_high_share"]),
    )
    hours = float(settings["plausible_hours_per_day"])
    ev_days, th_days = (
        int(float(settings["metering_event_days"])),
        int(float(settings["theft_event_days"])),
    )
    th_before, th_after, th_share = (
        int(float(settings["theft_before_days"])),
        int(float(settings["theft_after_days"])),
        float(settings["theft_drop_share"]),
    )
    OK = en.ok

    def energy(rows, days) -> np.ndarray:
        """Daily energies where computable, else 0 (whole hundredths: exact float sums)."""
        return np.where(OK[rows, days], en.fwd[rows, days], 0).astype(np.float64)

    from .readings import tariffs

    for d in range(n):
        st = states[day_state[d]]
        elig = st.settle & st.mp_active & st.cons_active
        elig[NC:] = False
        if sample is not None:
            elig &= (st.cons_tg >= 0) & sample[np.maximum(st.cons_tg, 0)]
        ix = np.flatnonzero(elig)  # the codes are evaluated on these rows only
        codes = {}
        # M01
        if d >= fail_days - 1:
            codes["M01"] = ~s.present[ix, d - fail_days + 1 : d + 1].any(axis=1)
        if d >= 1:
            codes["M03"] = en.backwards[ix, d]
            codes["M04"] = OK[ix, d] & (en.fwd[ix, d] > st.cap[ix] * hours * H)
        if d - zero_days + 1 >= 1:
            win = slice(d - zero_days + 1, d + 1)
            codes["M02"] = OK[ix, win].all(axis=1) & (en.fwd[ix, win] == 0).all(axis=1)
        if d - jb >= 1:
            bw, rw = slice(d - jb, d), slice(d - jr + 1, d + 1)
            bn, rn = OK[ix, bw].sum(axis=1), OK[ix, rw].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                bm = energy(ix, bw).sum(axis=1) / bn / H
                rm = energy(ix, rw).sum(axis=1) / rn / H
            codes["M06"] = (bn > 0) & (rn > 0) & (bm >= jmin) & ((rm < jlo * bm) | (rm > jhi * bm))
        # M05
        here = s.present[ix, d]
        pm = ix[here]
        t1, t2, t3, t4 = tariffs(s, pm, np.full(len(pm), d))
        Wv = s.W[pm, d]
        m5 = np.zeros(len(ix), bool)
        m5[here] = np.abs(Wv - (t1 + t2 + t3 + t4)) > np.maximum(bmin * H, bshare * Wv)
        codes["M05"] = m5
        for code, mask in codes.items():
            idx = ix[mask]
            if len(idx):
                for cn, tg in zip(st.cons_no_of(idx), st.tg_of(idx), strict=True):
                    out.append((code, tg, cn, "", d))
    # events: M07 and T01
    m07 = {"ERC12", "ERC27", "ERC29", "ERC30"}
    t01 = {"ERC9", "ERC10", "ERC37", "ERC38"}
    for ev in s.events:
        m = ev.get("mp")
        if m is None:
            continue
        e0 = ev["day"]
        if ev["code"] in m07:
            for d in range(e0, min(n, e0 + ev_days)):
                st = states[day_state[d]]
                if _eligible(st, m, sample):
                    out.append(("M07", st.tg_of(m)[0], st.cons_no_of(m)[0], "", d))
        if ev["code"] in t01:
            if e0 - th_before < 1 or e0 + th_after > n - 1:
                continue
            bw, aw = slice(e0 - th_before, e0), slice(e0 + 1, e0 + th_after + 1)
            if OK[m, bw].sum() == 0 or OK[m, aw].sum() == 0:
                continue
            before = energy(m, bw).sum() / OK[m, bw].sum()
            after = energy(m, aw).sum() / OK[m, aw].sum()
            if before > 0 and after < th_share * before:
                for d in range(e0 + th_after, min(n, e0 + th_days)):
                    st = states[day_state[d]]
                    if _eligible(st, m, sample):
                        out.append(("T01", st.tg_of(m)[0], st.cons_no_of(m)[0], "", d))
    return out


def _eligible(st: State, m: int, sample) -> bool:
    ok = bool(st.settle[m] and st.mp_active[m] and st.cons_active[m])
    return ok and (sample is None or (st.cons_tg[m] >= 0 and bool(sample[st.cons_tg[m]])))


def billing_findings(
    s: Sim,
    states: list[State],
    day_state: list[int],
    en: Energies,
    deliveries: pd.DataFrame,
    settings: dict,
) -> list[tuple]:
    """B01 (as of D: the latest delivery on or before D) and B02 (on each delivery day)."""
    w, n = s.w, s.n
    grace = int(float(settings["overdue_grace_days"]))
    share, mink = (
        float(settings["billing_mismatch_share"]),
        float(settings["billing_mismatch_min_kwh"]),
    )
    out = []
    dl = deliveries.sort_values(["file_day", "seq"]).reset_index(drop=True)
    start = w.start
    due_day = (pd.to_datetime(dl["DUE_DATE"]) - pd.Timestamp(start)).dt.days.to_numpy()
    # B01: per receivable, the days D with latest delivery <= D unsettled and D - DUE > grace
    dl["_due"] = due_day
    dl["_settled_day"] = np.where(dl["SETTLE_FLAG"] == "03", dl["file_day"], n)
    agg = dl.groupby("RCVBL_ID", sort=True).agg(
        cons=("CONS_NO", "first"),
        f0=("file_day", "min"),
        due=("_due", "first"),
        settled=("_settled_day", "min"),
    )
    # a receivable never goes back from settled to unsettled in these data
    agg["from"] = np.maximum(agg["f0"], agg["due"] + grace + 1)
    for cn, a, b in zip(agg["cons"], agg["from"], agg["settled"], strict=True):
        for d in range(int(a), int(min(b, n))):
            out.append(("B01", states[day_state[d]].tg_of_cons([cn])[0], cn, "", d))
    # B02: on every delivery day
    meas = month_measured_kwh(s, states, day_state, en, dl, settings)
    tpq = dl["T_PQ"].to_numpy(dtype=float)
    diff = np.abs(tpq - meas)
    with np.errstate(invalid="ignore"):
        fire = (dl["READ_SRC"].to_numpy() == "03") | (
            ~np.isnan(meas) & (diff > share * meas) & (diff > mink)
        )
    for cn, d in zip(dl.loc[fire, "CONS_NO"], dl.loc[fire, "file_day"], strict=True):
        out.append(("B02", states[day_state[d]].tg_of_cons([cn])[0], cn, "", int(d)))
    return out


def month_bounds(ym: str, start: dt.date) -> tuple[int, int]:
    """Window day indices of the two boundaries of month `ym` (YYYYMM): the end of M-1 (the
    day before M's 1st) and the end of M (M's last day)."""
    first = dt.date(int(ym[:4]), int(ym[4:]), 1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (first - start).days - 1, (nxt - start).days - 1


def month_measured_kwh(
    s: Sim,
    states: list[State],
    day_state: list[int],
    en: Energies,
    dl: pd.DataFrame,
    settings: dict,
) -> np.ndarray:
    """B02's acquisition-measured energy of the billed month, per delivery row (NaN: not
    comparable), as rule_b02_billing_mismatch.sql: the customer's settlement MP (active, as
    of M's last day, with its data point, multiplier, DIGITS and CONTRACT_CAP then); per
    boundary the reading nearest within billing_boundary_read_max_days, dated on or before
    the delivery day, a tie going to the reading inside M; the register difference x
    T_FACTOR (one meter change in between: the exchange formula; several: not computed; a
    lower end register: a roll-over by the daily rule over the span, else not computed; a
    day in between whose daily energy found the register backwards, M03: not computed);
    comparable when the span covers >= billing_min_covered_share of M's days; pro rata to
    M's days."""
    w, n = s.w, s.n
    k = int(float(settings["billing_boundary_read_max_days"]))
    min_share = float(settings["billing_min_covered_share"])
    roll_share = float(settings["rollover_min_previous_share"])
    hours = float(settings["plausible_hours_per_day"])
    # meter changes per MP and day (the generator makes at most one per MP and day)
    changes: dict[int, dict[int, dict]] = {}
    for ex in s.exchanges:
        changes.setdefault(int(ex["i"]), {})[int(ex["day"])] = ex
    meas = np.full(len(dl), np.nan)
    ym = dl["RCVBL_YM"].to_numpy()
    deliv = dl["file_day"].to_numpy()
    mps = cons_index(w, dl["CONS_NO"].to_numpy(dtype=object))  # the customer's settlement MP
    for m_ym in np.unique(ym):
        b0, b1 = month_bounds(m_ym, w.start)
        month_days = b1 - b0
        if b1 < 1:  # the metering-point archive starts on the first computable day
            continue
        st = states[day_state[b1]]
        for day in np.unique(deliv[ym == m_ym]):
            if b1 >= day:  # M has not ended before the delivery day
                continue
            rows = np.flatnonzero((ym == m_ym) & (deliv == day))
            m = mps[rows]
            known = m >= 0
            rows, m = rows[known], m[known].astype(np.int64)
            ok = st.settle[m] & st.mp_active[m] & st.edata[m]
            rows, m = rows[ok], m[ok]
            last_read = min(int(day), n - 1)

            def nearest(boundary: int, inside: int, m=m, last_read=last_read) -> np.ndarray:
                """Day of the nearest reading (-1: none); at equal distance the one inside M
                (`inside` = +1: later, -1: earlier)."""
                got = np.full(len(m), -1)
                for dist in range(k + 1):
                    for c in dict.fromkeys((boundary + inside * dist, boundary - inside * dist)):
                        if 0 <= c <= last_read:
                            take = (got < 0) & s.present[m, c]
                            got[take] = c
                return got

            r0, r1 = nearest(b0, +1), nearest(b1, -1)
            span = r1 - r0
            covered = np.minimum(r1, b1) - np.maximum(r0, b0)
            good = (r0 >= 0) & (r1 >= 0) & (span > 0) & (covered / month_days >= min_share)
            rows, m, r0, r1, span = rows[good], m[good], r0[good], r1[good], span[good]
            wa, wb = s.W[m, r0], s.W[m, r1]
            fac = st.fac[m].astype(np.float64)
            full = (10.0 ** st.dig[m]) * H
            wrap = (wb + full - wa) * fac
            is_roll = (wb < wa) & (wa >= roll_share * full) & (wrap <= st.cap[m] * hours * H * span)
            e = np.where(wb >= wa, (wb - wa) * fac, np.where(is_roll, wrap, np.nan))
            e[fac <= 0] = np.nan
            # meter changes between the two readings: one is the exchange formula, more are
            # not computed
            for j in np.flatnonzero(np.isin(m, list(changes))):
                inside = [x for x in changes[int(m[j])] if r0[j] < x <= r1[j]]
                if len(inside) > 1:
                    e[j] = np.nan
                elif inside:
                    ex = changes[int(m[j])][inside[0]]
                    e[j] = (ex["old_end"] - wa[j]) * ex["f_old"] + (wb[j] - ex["new_start"]) * ex[
                        "f_new"
                    ]
            # a register that went backwards on a day in between does not measure the month
            after_start = np.arange(n)[None, :] > r0[:, None]
            up_to_end = np.arange(n)[None, :] <= r1[:, None]
            e[(en.backwards[m] & after_start & up_to_end).any(axis=1)] = np.nan
            meas[rows] = e / H * month_days / span
    return meas


def loss_findings(truth: pd.DataFrame, start: dt.date) -> list[tuple]:
    code = {"high": "L01", "negative": "L02", "uncomputable": "L03"}
    t = truth[truth["loss_status"] != "qualified"]
    return [
        (code[st], tg, "", "", (dt.date.fromisoformat(ds) - start).days)
        for tg, ds, st in zip(t["tg_id"], t["data_date"], t["loss_status"], strict=True)
    ]


def runs(findings: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(
        findings, columns=["rule_code", "tg_id", "cons_no", "app_no", "day"]
    ).drop_duplicates()
    df = df.sort_values(["rule_code", "tg_id", "cons_no", "app_no", "day"])
    brk = (
        df[["rule_code", "tg_id", "cons_no", "app_no"]]
        != df[["rule_code", "tg_id", "cons_no", "app_no"]].shift()
    ).any(axis=1) | (df["day"].diff() != 1)
    df["run"] = brk.cumsum()
    return (
        df.groupby("run")
        .agg(
            rule_code=("rule_code", "first"),
            tg_id=("tg_id", "first"),
            cons_no=("cons_no", "first"),
            app_no=("app_no", "first"),
            first_day=("day", "min"),
            last_day=("day", "max"),
        )
        .reset_index(drop=True)
    )
