"""The grid and its customers: organisation, feeders, areas (台区), transformers,
customers, metering points, meters, contacts, prices, contracts, terminals.

Everything is held as numpy arrays indexed by a global customer index `i` (settlement
metering point i) and area index `a` (check metering point NC + a). Customers created
during the window (from completed applications) are allocated up front with a birth day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import names
from .presets import Preset

RES, COM, AGR, HV = 0, 1, 2, 3
NEVER = 10**6

PRICES = [  # PRC_CODE, PRC_NAME, ELEC_TYPE_CODE, UNIT_PRICE
    ("0101", "城镇居民生活用电(不满1千伏)", "201", "0.5380"),
    ("0102", "乡村居民生活用电(不满1千伏)", "202", "0.5380"),
    ("0201", "一般工商业用电(不满1千伏)", "301", "0.6245"),
    ("0202", "一般工商业用电(1-10千伏)", "301", "0.6045"),
    ("0301", "大工业用电(1-10千伏)", "302", "0.5120"),
    ("0401", "农业生产用电(不满1千伏)", "401", "0.4850"),
    ("0402", "农业排灌用电(不满1千伏)", "401", "0.4650"),
]
PRICE_OF = {p[0]: float(p[3]) for p in PRICES}
CHECK_FACTOR = {200: 40, 315: 60, 400: 80, 500: 120, 630: 120}
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "153",
    "155",
    "156",
    "158",
    "159",
    "177",
    "180",
    "186",
    "187",
    "188",
    "189",
    "199",
]


@dataclass
class World:
    p: Preset
    seed: int
    start: dt.date
    n: int  # days
    rng: np.random.Generator
    snap_days: list[int] = field(default_factory=list)

    def date(self, d: int) -> dt.date:
        return self.start + dt.timedelta(days=int(d))

    def ds(self, d: int) -> str:
        return self.date(d).isoformat()


def snapshot_days(n: int) -> list[int]:
    """Roughly weekly plus a few extra days; day 0 always."""
    extra = (3, 11) if n <= 28 else (3, 31)
    days = set(range(0, n, 7)) | {d for d in extra if d < n}
    return sorted(days)


def build(w: World, n_new: int) -> None:
    """Create the static world (as of day 0) plus `n_new` customers born later."""
    p, rng = w.p, w.rng
    # ---------------------------------------------------------------- orgs
    city = "33401"
    county_no = [f"{city}{k + 1:02d}" for k in range(p.n_counties)]
    county_nm = ["东湖区", "西山县", "南溪县", "北岭市", "清河县", "柳塘县"][: p.n_counties]
    stations, st_county = [], []
    st_names = ["城关", "东关", "西关", "南门", "北门", "桥头", "新塘", "石门"]
    for c, cno in enumerate(county_no):
        for s in range(p.stations_per_county):
            stations.append(f"{cno}{s + 1:02d}")
            st_county.append(c)
    w.county_no, w.county_nm = np.array(county_no, dtype=object), np.array(county_nm, dtype=object)
    w.station_no, w.station_county = np.array(stations, dtype=object), np.array(st_county)
    org = [(city, "国网青山供电公司", "", "02")]
    org += [(cno, f"国网青山市{nm}供电公司", city, "03") for cno, nm in zip(county_no, county_nm)]
    org += [
        (sno, f"{county_nm[c]}{st_names[k % len(st_names)]}供电所", county_no[c], "04")
        for k, (sno, c) in enumerate(zip(stations, st_county))
    ]
    w.orgs = pd.DataFrame(org, columns=["ORG_NO", "ORG_NAME", "P_ORG_NO", "ORG_TYPE"])

    # ---------------------------------------------------------------- areas
    NA = p.n_areas
    n_hv = max(3, round(NA * p.hv_share))
    hv_area = np.zeros(NA, bool)
    hv_area[rng.choice(NA, n_hv, replace=False)] = True
    w.NA = NA
    w.area_hv = hv_area
    w.area_station = rng.integers(0, len(stations), NA)
    w.area_station[: len(stations)] = np.arange(min(NA, len(stations)))  # every station has an area
    w.area_county = np.array(st_county)[w.area_station]
    w.area_urban = rng.random(NA) < 0.5
    caps = np.array([200, 315, 400, 500, 630])
    w.area_cap = np.where(hv_area, 0, caps[rng.integers(0, 5, NA)])
    w.tg_id = np.array([f"21{a + 1:08d}" for a in range(NA)], dtype=object)
    w.tg_no = np.array([f"0{3300000 + a + 1:07d}" for a in range(NA)], dtype=object)
    n_feeders = max(2, NA // 20)
    w.feeder_county = np.arange(n_feeders) % p.n_counties
    w.feeder_id = np.array([f"XL{10000000 + f:08d}" for f in range(n_feeders)], dtype=object)
    # each area on a feeder of its county
    w.area_feeder = np.array(
        [rng.choice(np.flatnonzero(w.feeder_county == c)) for c in w.area_county]
    )
    w.byq_id = np.array([f"BYQ{80000000 + a:08d}" for a in range(NA)], dtype=object)
    w.byq_code = np.array([f"0{5400000 + a:08d}" for a in range(NA)], dtype=object)
    w.area_tl = np.where(hv_area, rng.uniform(0.01, 0.025, NA), rng.uniform(0.02, 0.06, NA))

    # ---------------------------------------------------------------- customers
    pub = np.flatnonzero(~hv_area)
    n_lv = p.n_customers - n_hv
    weights = rng.uniform(0.6, 1.6, len(pub))
    sizes = np.maximum(60, np.floor(weights / weights.sum() * n_lv)).astype(int)
    area_of = np.concatenate([np.repeat(pub, sizes), np.flatnonzero(hv_area)])
    N0 = len(area_of)
    NC = N0 + n_new
    w.N0, w.NC = N0, NC
    # new customers (from completed 102 applications) go to public areas
    area_of = np.concatenate([area_of, rng.choice(pub, n_new)])
    w.cust_area = area_of.astype(int)  # marketing area at the start (or at birth)
    kind = np.full(NC, RES)
    r = rng.random(NC)
    rural = ~w.area_urban[area_of]
    kind[(r < 0.08)] = COM
    kind[(r >= 0.08) & (r < 0.12) & rural] = AGR
    kind[np.flatnonzero(hv_area[area_of])] = HV
    kind[N0:] = RES
    w.kind = kind
    w.birth = np.full(NC, -1)
    w.death = np.full(NC, NEVER)
    # contract capacity, price, factor
    cap = np.zeros(NC, int)
    cap[kind == RES] = rng.choice([4, 6, 8, 10], (kind == RES).sum(), p=[0.2, 0.4, 0.3, 0.1])
    cap[kind == COM] = rng.choice([20, 30, 50, 80, 100], (kind == COM).sum())
    cap[kind == AGR] = rng.choice([10, 15, 20, 30], (kind == AGR).sum())
    hv_idx = np.flatnonzero(kind == HV)
    cap[hv_idx] = rng.choice([315, 400, 630, 800, 1000, 1250], len(hv_idx))
    w.cap = cap
    # the 专变 area capacity is the customer's
    w.area_cap[area_of[hv_idx]] = cap[hv_idx]
    w.check_factor = np.array([CHECK_FACTOR.get(int(c), 0) for c in w.area_cap])
    w.check_factor[hv_area] = rng.choice([200, 300, 500], hv_area.sum())
    w.cust_urban = w.area_urban[area_of]
    et = np.where(w.cust_urban, "201", "202").astype(object)
    et[kind == COM] = "301"
    et[kind == AGR] = "401"
    hv302 = rng.random(len(hv_idx)) < 0.6
    et[hv_idx] = np.where(hv302, "302", "301")
    w.elec_type = et
    prc = np.where(w.cust_urban, "0101", "0102").astype(object)
    prc[kind == COM] = "0201"
    prc[kind == AGR] = np.where(rng.random((kind == AGR).sum()) < 0.5, "0401", "0402")
    prc[hv_idx] = np.where(hv302, "0301", "0202")
    w.prc = prc
    w.volt = np.where(kind == RES, "01", "02").astype(object)
    w.volt[hv_idx] = "03"
    factor = np.ones(NC, int)
    big_com = (kind == COM) & (cap >= 50)
    factor[big_com] = rng.choice([20, 30, 40], big_com.sum())
    factor[hv_idx] = rng.choice([500, 1000], len(hv_idx))
    w.factor0 = factor
    digits = np.full(NC, 6)
    w.digits = digits
    # base energy per day in hundredths of kWh
    e = np.zeros(NC)
    e[kind == RES] = np.clip(rng.lognormal(np.log(7.0), 0.45, (kind == RES).sum()), 3.2, 25)
    e[kind == COM] = rng.uniform(30, 250, (kind == COM).sum())
    e[kind == AGR] = rng.uniform(6, 25, (kind == AGR).sum())
    e[hv_idx] = np.minimum(cap[hv_idx] * 24 * 0.35, rng.uniform(1500, 6000, len(hv_idx)))
    w.mu_kwh = e
    # PV: some rural/urban residential customers with GEN_FLAG 1
    w.pv = (kind == RES) & (rng.random(NC) < 0.04)
    w.pv[N0:] = False
    w.gen_flag = np.where(w.pv, "1", "0").astype(object)
    w.pv_kwh = np.where(w.pv, rng.uniform(5, 20, NC), 0.0)
    w.cons_no = np.array([f"0{600000000 + i + 1:09d}" for i in range(NC)], dtype=object)
    w.mp_id = np.array(
        [f"{5000000000 + i + 1}" for i in range(NC)] + [f"{5100000000 + a + 1}" for a in range(NA)],
        dtype=object,
    )
    w.data_id = np.array([f"{7000000000 + i + 1}" for i in range(NC + NA)], dtype=object)
    w.tmnl_asset = np.array([f"3331{a + 1:012d}" for a in range(NA)], dtype=object)
    w.terminal_id = np.array([f"{9000000 + a + 1}" for a in range(NA)], dtype=object)
    w.next_meter = NC + NA
    w.meter_id = np.array([f"{8000000000 + j + 1}" for j in range(NC + NA)], dtype=object)
    w.asset_no = np.array([_asset(j) for j in range(NC + NA)], dtype=object)
    county_names = w.county_nm[w.area_county[area_of]]
    w.cons_name = names.person_names(rng, NC)
    w.cons_name[kind == COM] = names.shop_names(rng, (kind == COM).sum())
    w.cons_name[kind == HV] = names.firm_names(rng, (kind == HV).sum())
    w.addr = names.addresses(rng, county_names, NC)
    # contacts: residential one person for both modes; others two persons
    nums = rng.choice(10**8, 2 * NC, replace=False)
    pref = np.array(MOBILE_PREFIXES, dtype=object)[rng.integers(0, len(MOBILE_PREFIXES), 2 * NC)]
    mob = np.array([f"{a}{b:08d}" for a, b in zip(pref, nums)], dtype=object)
    w.mobile1 = mob[:NC]
    w.mobile2 = np.where(kind == RES, mob[:NC], mob[NC:])
    w.contact1 = w.cons_name.copy()
    w.contact1[kind != RES] = names.person_names(rng, (kind != RES).sum())
    w.contact2 = np.where(kind == RES, w.contact1, names.person_names(rng, NC))
    w.sms = np.where(rng.random(NC) < np.where(w.cust_urban, 0.75, 0.5), "1", "0").astype(object)
    w.build_date = np.array(
        [
            (dt.date(2005, 1, 1) + dt.timedelta(days=int(x))).isoformat()
            for x in rng.integers(0, 7300, NC)
        ],
        dtype=object,
    )
    w.inst_date = w.build_date.copy()


def _asset(j: int) -> str:
    return f"33300010{j + 1:014d}"


def new_meter(w: World) -> tuple[str, str]:
    j = w.next_meter
    w.next_meter += 1
    return f"{8000000000 + j + 1}", _asset(j)


def base_tables(w: World) -> dict[str, pd.DataFrame]:
    """The archive as of day 0 (customers born later are excluded)."""
    NC, NA, N0 = w.NC, w.NA, w.N0
    alive = np.arange(NC) < N0
    i = np.flatnonzero(alive)
    t: dict[str, pd.DataFrame] = {}
    t["O_ORG"] = w.orgs
    t["G_TG"] = pd.DataFrame(
        {
            "TG_ID": w.tg_id,
            "TG_NO": w.tg_no,
            "TG_NAME": [
                f"{w.county_nm[c]}{'专变' if h else '公变'}{k + 1:04d}号台区"
                for k, (c, h) in enumerate(zip(w.area_county, w.area_hv))
            ],
            "ORG_NO": w.station_no[w.area_station],
            "TG_CAP": w.area_cap.astype(str),
            "PUB_PRIV_FLAG": np.where(w.area_hv, "02", "01"),
            "LINE_ID": w.feeder_id[w.area_feeder],
            "RUN_STATUS_CODE": "01",
        }
    )
    t["C_CONS"] = cons_rows(w, i)
    t["C_CONTACT"] = contact_rows(w, i)
    t["C_MP"] = pd.concat([mp_rows(w, i), check_mp_rows(w)])
    t["C_METER"] = pd.concat([meter_rows(w, i), check_meter_rows(w)])
    t["K_PRC"] = pd.DataFrame(
        PRICES, columns=["PRC_CODE", "PRC_NAME", "ELEC_TYPE_CODE", "UNIT_PRICE"]
    )
    hv = i[w.kind[i] == HV]
    rows = []
    for k, c in enumerate(hv):  # some have an older expired contract too
        sign = dt.date(2022, 1, 1) + dt.timedelta(days=int(w.rng.integers(0, 900)))
        rows.append(
            (
                f"HT{c + 1:08d}02",
                w.cons_no[c],
                sign.isoformat(),
                sign.isoformat(),
                (sign.replace(year=sign.year + 5)).isoformat(),
            )
        )
        if k % 3 == 0:
            old = sign.replace(year=sign.year - 5)
            rows.append(
                (
                    f"HT{c + 1:08d}01",
                    w.cons_no[c],
                    old.isoformat(),
                    old.isoformat(),
                    sign.isoformat(),
                )
            )
    t["C_CONTRACT"] = pd.DataFrame(
        rows, columns=["AGRT_NO", "CONS_NO", "SIGN_DATE", "VALID_DATE", "INVALID_DATE"]
    )
    # pms
    t["T_SB_ZWYC_XL"] = pd.DataFrame(
        {
            "OBJ_ID": w.feeder_id,
            "SBMC": [f"10kV{w.county_nm[c][:2]}{k + 1}线" for k, c in enumerate(w.feeder_county)],
            "YWDW": w.county_no[w.feeder_county],
            "DYDJ": "10kV",
            "YXZT": "20",
        }
    )
    t["T_SB_ZNYC_PDBYQ"] = pd.DataFrame(
        {
            "OBJ_ID": w.byq_id,
            "SBBM": w.byq_code,
            "SBMC": [f"{nm}配变" for nm in t["G_TG"]["TG_NAME"].str.replace("台区", "")],
            "SSXL": w.feeder_id[w.area_feeder],
            "EDRL": w.area_cap.astype(str),
            "SYXZ": np.where(w.area_hv, "02", "01"),
            "YXZT": "20",
            "YWDW": w.county_no[w.area_county],
            "TYRQ": [
                (dt.date(2008, 1, 1) + dt.timedelta(days=int(x))).isoformat()
                for x in w.rng.integers(0, 6000, NA)
            ],
        }
    )
    t["ST_TQ_BYQ"] = pd.DataFrame({"PMS_BYQ_BS": w.byq_id, "YX_TQ_BS": w.tg_id})
    t["T_TX_DYYH"] = gis_rows(w, i)
    t["R_TMNL_RUN"] = pd.DataFrame(
        {
            "TERMINAL_ID": w.terminal_id,
            "TMNL_ASSET_NO": w.tmnl_asset,
            "TG_ID": w.tg_id,
            "STATUS_CODE": "01",
            "PROTOCOL_CODE": np.where(np.arange(NA) % 3 == 0, "698.45", "376.1"),
        }
    )
    t["E_DATA_MP"] = pd.concat([edata_rows(w, i), edata_rows(w, NC + np.arange(NA))])
    return t


def cons_rows(w: World, i) -> pd.DataFrame:
    i = np.atleast_1d(i)
    a = w.cust_area[i]
    return pd.DataFrame(
        {
            "CONS_NO": w.cons_no[i],
            "CONS_NAME": w.cons_name[i],
            "ORG_NO": w.station_no[w.area_station[a]],
            "TG_ID": w.tg_id[a],
            "ELEC_ADDR": w.addr[i],
            "ELEC_TYPE_CODE": w.elec_type[i],
            "TRADE_CODE": np.array(["9910", "6500", "0100", "3400"], dtype=object)[w.kind[i]],
            "VOLT_CODE": w.volt[i],
            "CONTRACT_CAP": w.cap[i].astype(str),
            "PRC_CODE": w.prc[i],
            "URBAN_RURAL_FLAG": np.where(w.cust_urban[i], "1", "2"),
            "GEN_FLAG": w.gen_flag[i],
            "STATUS_CODE": "1",
            "BUILD_DATE": w.build_date[i],
            "CANCEL_DATE": "",
        }
    )


def contact_rows(w: World, i) -> pd.DataFrame:
    i = np.atleast_1d(i)
    a = pd.DataFrame(
        {
            "CONS_NO": w.cons_no[i],
            "CONTACT_MODE": "01",
            "CONTACT_NAME": w.contact1[i],
            "MOBILE": w.mobile1[i],
            "SMS_FLAG": w.sms[i],
        }
    )
    b = pd.DataFrame(
        {
            "CONS_NO": w.cons_no[i],
            "CONTACT_MODE": "02",
            "CONTACT_NAME": w.contact2[i],
            "MOBILE": w.mobile2[i],
            "SMS_FLAG": w.sms[i],
        }
    )
    return pd.concat([a, b]).sort_values(["CONS_NO", "CONTACT_MODE"], kind="stable")


def mp_rows(w: World, i) -> pd.DataFrame:
    i = np.atleast_1d(i)
    return pd.DataFrame(
        {
            "MP_ID": w.mp_id[i],
            "CONS_NO": w.cons_no[i],
            "TG_ID": w.tg_id[w.cust_area[i]],
            "USAGE_TYPE_CODE": "01",
            "STATUS_CODE": "1",
        }
    )


def check_mp_rows(w: World) -> pd.DataFrame:
    a = np.arange(w.NA)
    return pd.DataFrame(
        {
            "MP_ID": w.mp_id[w.NC + a],
            "CONS_NO": ["T" + x for x in w.tg_no],
            "TG_ID": w.tg_id,
            "USAGE_TYPE_CODE": "02",
            "STATUS_CODE": "1",
        }
    )


def meter_rows(w: World, i) -> pd.DataFrame:
    i = np.atleast_1d(i)
    return pd.DataFrame(
        {
            "METER_ID": w.meter_id[i],
            "ASSET_NO": w.asset_no[i],
            "MP_ID": w.mp_id[i],
            "T_FACTOR": w.factor0[i].astype(str),
            "DIGITS": w.digits[i].astype(str),
            "INST_DATE": w.inst_date[i],
        }
    )


def check_meter_rows(w: World) -> pd.DataFrame:
    m = w.NC + np.arange(w.NA)
    return pd.DataFrame(
        {
            "METER_ID": w.meter_id[m],
            "ASSET_NO": w.asset_no[m],
            "MP_ID": w.mp_id[m],
            "T_FACTOR": w.check_factor.astype(str),
            "DIGITS": "6",
            "INST_DATE": "2019-06-01",
        }
    )


def gis_rows(w: World, i) -> pd.DataFrame:
    i = np.atleast_1d(i)
    i = i[w.kind[i] != HV]
    return pd.DataFrame(
        {
            "YHBH": w.cons_no[i],
            "SSBYQ": w.byq_id[w.cust_area[i]],
            "JRD": [f"JRD{x + 1:09d}" for x in i],
        }
    )


def edata_rows(w: World, m) -> pd.DataFrame:
    """E_DATA_MP rows for metering point indices m (customers < NC, check meters >= NC)."""
    m = np.atleast_1d(m)
    is_chk = m >= w.NC
    a = np.where(is_chk, m - w.NC, w.cust_area[np.minimum(m, w.NC - 1)])
    cons = np.where(
        is_chk,
        np.array(["T" + x for x in w.tg_no[a]], dtype=object),
        w.cons_no[np.minimum(m, w.NC - 1)],
    )
    fac = np.where(is_chk, w.check_factor[a], w.factor0[np.minimum(m, w.NC - 1)])
    return pd.DataFrame(
        {
            "DATA_ID": w.data_id[m],
            "MP_ID": w.mp_id[m],
            "ASSET_NO": w.asset_no[m],
            "TMNL_ASSET_NO": w.tmnl_asset[a],
            "CONS_NO": cons,
            "TG_ID": w.tg_id[a],
            "T_FACTOR": fac.astype(str),
        }
    )
