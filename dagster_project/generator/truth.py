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
import pyarrow as pa
import pyarrow.compute as pc

from .scenario import H, Sim


@dataclass
class State:
    """Numeric arrays of one snapshot, indexed by global metering point / area index, read
    from the snapshot's tables (streamed: a chunk of rows at a time)."""

    day: int
    tables: dict  # the tables the archive rules read (DataFrames; sampled areas only, or all)
    w: object
    mp_area: np.ndarray  # C_MP.TG_ID as area index, -1 if no C_MP row / unknown
    settle: np.ndarray  # C_MP.USAGE_TYPE_CODE == '01'
    check: np.ndarray  # C_MP.USAGE_TYPE_CODE == '02'
    mp_active: np.ndarray
    mp_cons_i: np.ndarray  # C_MP.CONS_NO as customer index (-1: not a customer number)
    mp_cons_other: dict  # metering point -> C_MP.CONS_NO that is not a customer number
    fac: np.ndarray  # C_METER.T_FACTOR (0 = no meter)
    dig: np.ndarray
    edata: np.ndarray  # has an E_DATA_MP row
    gen: np.ndarray  # GEN_FLAG == '1' of the MP's customer
    cap: np.ndarray  # CONTRACT_CAP (customers) / TG_CAP (check meters), kVA
    cons_active: np.ndarray  # customer STATUS_CODE == '1'
    cons_tg: np.ndarray  # area (index) a finding on the MP names: C_CONS.TG_ID, else -1
    cust_tg: np.ndarray  # per customer index: C_CONS.TG_ID as area index (-1: no C_CONS row)
    area_in_service: np.ndarray
    area_org: np.ndarray
    area_cap: np.ndarray

    def release(self) -> None:
        """Drop the tables built for the archive rules (rebuilt when read again)."""
        if hasattr(self.tables, "release"):
            self.tables.release()
        self.__dict__.pop("_cons_tg_map", None)

    def cons_no_of(self, m) -> np.ndarray:
        """C_MP.CONS_NO of metering points m ('' without a C_MP row)."""
        m = np.atleast_1d(np.asarray(m, dtype=np.int64))
        ci = self.mp_cons_i[m]
        out = np.full(len(m), "", dtype=object)
        if (ci >= 0).any():
            out[ci >= 0] = self.w.cons_no[ci[ci >= 0]]
        for k in np.flatnonzero(ci < 0):
            out[k] = self.mp_cons_other.get(int(m[k]), "")
        return out

    def tg_of(self, m) -> np.ndarray:
        """The area a customer finding on metering points m names (rules.py conventions)."""
        return _tg_strings(self.w, self.cons_tg[np.atleast_1d(np.asarray(m, dtype=np.int64))])

    def tg_of_cons(self, cons_no) -> np.ndarray:
        """C_CONS.TG_ID of customers (by CONS_NO; '' when not in C_CONS)."""
        from .world import cons_index

        cons_no = list(cons_no)
        cache = self.__dict__.setdefault("_tg_of_cons", {})  # B01 asks per receivable and day
        if len(cons_no) == 1 and cons_no[0] in cache:
            return np.array([cache[cons_no[0]]], dtype=object)
        ci = cons_index(self.w, cons_no)
        a = np.where(ci >= 0, self.cust_tg[np.maximum(ci, 0)], -1)
        out = _tg_strings(self.w, a)
        if len(cons_no) == 1:
            cache[cons_no[0]] = out[0]
        return out


def _tg_strings(w, a: np.ndarray) -> np.ndarray:
    out = np.full(len(a), "", dtype=object)
    ok = a >= 0
    out[ok] = w.tg_id[a[ok]]
    return out


def _area_of(w, tg: pa.Array) -> np.ndarray:
    """TG_ID values as area indices (-1 for an empty or unknown TG_ID)."""
    ix = pc.index_in(tg, value_set=w.apa("tg_id"))
    return pc.fill_null(ix, -1).to_numpy(zero_copy_only=False).astype(np.int32)


def _num(v: pa.Array) -> np.ndarray:
    """Numbers of str values (NaN where not a number), as pd.to_numeric(errors='coerce')."""
    try:
        return pc.cast(v, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        pass
    return pd.to_numeric(pd.Series(v.to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(
        dtype=np.float64
    )


def build_state(s: Sim, day: int, t: dict, rule_tables: dict | None = None) -> State:
    """The numeric state of snapshot tables `t` (archive.TableState per table).
    `rule_tables`: the DataFrames the archive rules read (default: every table in full)."""
    from .world import cons_index, mp_index

    w = s.w
    NM = w.NC + w.NA
    g = t["G_TG"].frame()
    gi = pd.Index(w.tg_id).get_indexer(g["TG_ID"])
    area_in_service = np.zeros(w.NA, bool)
    area_in_service[gi] = (g["RUN_STATUS_CODE"] == "01").to_numpy()
    area_org = np.full(w.NA, "", dtype=object)
    area_org[gi] = g["ORG_NO"].to_numpy(dtype=object)
    area_cap = np.zeros(w.NA)
    area_cap[gi] = pd.to_numeric(g["TG_CAP"]).to_numpy()
    # customers (C_CONS), per customer index
    cust_tg = np.full(w.NC, -1, dtype=np.int32)
    c_gen = np.zeros(w.NC, bool)
    c_cap = np.full(w.NC, np.nan)
    c_active = np.zeros(w.NC, bool)
    for ch in t["C_CONS"].chunks(["CONS_NO", "TG_ID", "GEN_FLAG", "CONTRACT_CAP", "STATUS_CODE"]):
        ci = cons_index(w, ch["CONS_NO"])
        if (ci < 0).any():
            raise ValueError("C_CONS: a CONS_NO that is no customer number of the generator")
        cust_tg[ci] = _area_of(w, ch["TG_ID"])
        c_gen[ci] = _eq(ch["GEN_FLAG"], "1")
        c_cap[ci] = _num(ch["CONTRACT_CAP"])
        c_active[ci] = _eq(ch["STATUS_CODE"], "1")
    # metering points (C_MP)
    mp_area = np.full(NM, -1, dtype=np.int32)
    settle = np.zeros(NM, bool)
    check = np.zeros(NM, bool)
    mp_active = np.zeros(NM, bool)
    mp_cons_i = np.full(NM, -1, dtype=np.int32)
    mp_cons_other: dict[int, str] = {}
    for ch in t["C_MP"].chunks(["MP_ID", "CONS_NO", "TG_ID", "USAGE_TYPE_CODE", "STATUS_CODE"]):
        mi = _known(mp_index(w, ch["MP_ID"]), "C_MP")
        mp_area[mi] = _area_of(w, ch["TG_ID"])
        settle[mi] = _eq(ch["USAGE_TYPE_CODE"], "01")
        check[mi] = _eq(ch["USAGE_TYPE_CODE"], "02")
        mp_active[mi] = _eq(ch["STATUS_CODE"], "1")
        ci = cons_index(w, ch["CONS_NO"])
        mp_cons_i[mi] = ci
        if (ci < 0).any():
            other = ch["CONS_NO"].to_numpy(zero_copy_only=False)
            mp_cons_other.update({int(mi[k]): other[k] for k in np.flatnonzero(ci < 0)})
    fac = np.zeros(NM, np.int64)
    dig = np.full(NM, 6, dtype=np.int8)
    for ch in t["C_METER"].chunks(["MP_ID", "T_FACTOR", "DIGITS"]):
        ki = _known(mp_index(w, ch["MP_ID"]), "C_METER")
        fac[ki] = _num(ch["T_FACTOR"]).astype(np.int64)
        dig[ki] = _num(ch["DIGITS"]).astype(np.int8)
    edata = np.zeros(NM, bool)
    for ch in t["E_DATA_MP"].chunks(["MP_ID"]):
        edata[_known(mp_index(w, ch["MP_ID"]), "E_DATA_MP")] = True
    has_c = mp_cons_i >= 0
    cix = np.maximum(mp_cons_i, 0)
    gen = has_c & c_gen[cix]
    cap = np.where(has_c, c_cap[cix], np.nan)
    cons_active = has_c & c_active[cix]
    cons_tg = np.where(has_c, cust_tg[cix], -1).astype(np.int32)
    # a virtual 'T'||TG_NO account names the area of the check metering point with that CONS_NO
    virt = {cn: int(mp_area[m]) for m, cn in mp_cons_other.items() if check[m]}
    for m, cn in mp_cons_other.items():
        cons_tg[m] = virt.get(cn, -1)
    cap[check] = area_cap[np.maximum(mp_area[check], 0)]
    if rule_tables is None:
        rule_tables = {name: ts.frame() for name, ts in t.items()}
    return State(
        day,
        rule_tables,
        w,
        mp_area,
        settle,
        check,
        mp_active,
        mp_cons_i,
        mp_cons_other,
        fac,
        dig,
        edata,
        gen,
        np.nan_to_num(cap),
        cons_active,
        cons_tg,
        cust_tg,
        area_in_service,
        area_org,
        area_cap,
    )


def _eq(v: pa.Array, x: str) -> np.ndarray:
    return pc.fill_null(pc.equal(v, x), False).to_numpy(zero_copy_only=False)


def _known(m: np.ndarray, table: str) -> np.ndarray:
    if (m < 0).any():
        raise ValueError(f"{table}: an MP_ID that is no metering point of the generator")
    return m


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
        settle = inarea & st.settle & st.mp_active
        valid = en.ok[:, d] & (~st.gen | en.rev_ok[:, d])
        sv = settle & valid
        cnt = np.bincount(a[settle], minlength=NA)
        rcnt = np.bincount(a[sv], minlength=NA)
        sales = np.bincount(a[sv], weights=en.fwd[sv, d].astype(np.float64), minlength=NA)
        pvx = sv & st.gen
        pv = np.bincount(a[pvx], weights=en.rev[pvx, d].astype(np.float64), minlength=NA)
        chk = inarea & st.check & st.mp_active
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
        k = np.flatnonzero(st.area_in_service)
        # the reasons in order: check meter, then completeness, then no supply
        no_chk = ~has_chk[k]
        missing = ~no_chk & ~c_read[k]
        invalid = ~no_chk & ~missing & ~c_ok[k]
        measured = ~(no_chk | missing | invalid)
        supply = (c_fwd[k] + pv[k]).astype(np.int64)  # int(), as the sums are whole hundredths
        sales_v = (sales[k] + c_rev[k]).astype(np.int64)
        incomplete = measured & (rcnt[k] < share * cnt[k])
        no_supply = measured & ~incomplete & (supply <= 0)
        ok = measured & ~incomplete & ~no_supply
        reason = np.select(
            [no_chk, missing, invalid, incomplete, no_supply],
            [
                "no check meter",
                "check meter reading missing",
                "check meter register invalid",
                "meter completeness below threshold",
                "no supply",
            ],
            "",
        ).astype(object)
        loss = supply - sales_v
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(ok, loss / np.where(ok, supply, 1), np.nan)
        status = np.where(
            ok, np.where(rate < lo, "negative", np.where(rate > hi, "high", "qualified")), ""
        ).astype(object)
        status[~ok] = "uncomputable"
        out.append(
            pd.DataFrame(
                {
                    "tg_id": w.tg_id[k],
                    "data_date": w.ds(d),
                    "org_no": st.area_org[k],
                    "supply_kwh": np.where(measured, supply / H, np.nan),
                    "sales_kwh": np.where(measured, sales_v / H, np.nan),
                    "loss_kwh": np.where(ok, loss / H, np.nan),
                    "loss_rate": rate,
                    "loss_status": status,
                    "meter_count": cnt[k].astype(np.int64),
                    "meter_read_count": rcnt[k].astype(np.int64),
                    "uncomputable_reason": reason,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def write_csv(df: pd.DataFrame, path) -> None:
    """`df.to_csv(path, index=False, lineterminator="\\n", float_format="%.15g")`, the same
    bytes, with the lines joined by pyarrow (pandas formats every field in Python: 10 s
    for the 460,000 area-days of the city preset)."""
    from .writer import lines_bytes

    cols = []
    for c in df.columns:
        v = df[c]
        if pd.api.types.is_float_dtype(v.dtype):
            x = v.to_numpy(dtype=np.float64)
            txt = np.char.mod("%.15g", np.where(np.isnan(x), 0, x)).astype(object)
            txt[np.isnan(x)] = ""
            cols.append(pa.array(txt, type=pa.string()))
        elif pd.api.types.is_integer_dtype(v.dtype):
            cols.append(pc.cast(pa.array(v.to_numpy()), pa.string()))
        else:
            cols.append(pa.array(v.to_numpy(dtype=object, na_value=""), type=pa.string()))
    with open(path, "wb") as f:
        f.write((",".join(df.columns) + "\n").encode())
        for k in range(0, len(df), 500_000):
            _, blob = lines_bytes([c[k : k + 500_000] for c in cols], "\n", [True] * len(cols))
            f.write(blob)
