"""The grid and its customers: organisation, feeders, areas (台区), transformers,
customers, metering points, meters, contacts, prices, contracts, terminals.

Everything is held as numpy arrays indexed by a global customer index `i` (settlement
metering point i) and area index `a` (check metering point NC + a). Customers created
during the window (from completed applications) are allocated up front with a birth day.
Per-customer text (ids, names, addresses, mobiles, dates, codes) is held as numbers and
formatted on demand (columns.py); the per-customer archive tables are `LazyBase`s built
from these arrays chunk by chunk (archive.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import names
from .archive import LazyBase
from .columns import CodeCol, DateCol, IdCol, MobileCol, Overlay, strings
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

    def apa(self, name: str) -> pa.Array:
        """An area-level (or other small) object array of str as a pyarrow array, cached."""
        cache = self.__dict__.setdefault("_apa", {})
        if name not in cache:
            cache[name] = strings(getattr(self, name))
        return cache[name]


COUNTY_NAMES = ["东湖区", "西山县", "南溪县", "北岭市", "清河县", "柳塘县"]


def county_names(k: int) -> list[str]:
    """The six named counties, then generated names (province-sized presets)."""
    first, second = "安宁平和永丰长兴广德天台仙居临海黄岩", "山江河溪湖源田阳林川"
    more = [f"{a}{b}县" for b in second for a in first]
    return (COUNTY_NAMES + [x for x in more if x not in COUNTY_NAMES])[:k]


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
    county_nm = county_names(p.n_counties)
    stations, st_county = [], []
    st_names = ["城关", "东关", "西关", "南门", "北门", "桥头", "新塘", "石门"]
    for c, cno in enumerate(county_no):
        for s in range(p.stations_per_county):
            stations.append(f"{cno}{s + 1:02d}")
            st_county.append(c)
    w.county_no, w.county_nm = np.array(county_no, dtype=object), np.array(county_nm, dtype=object)
    w.station_no, w.station_county = np.array(stations, dtype=object), np.array(st_county)
    org = [(city, "国网青山供电公司", "", "02")]
    org += [
        (cno, f"国网青山市{nm}供电公司", city, "03")
        for cno, nm in zip(county_no, county_nm, strict=True)
    ]
    org += [
        (sno, f"{county_nm[c]}{st_names[k % len(st_names)]}供电所", county_no[c], "04")
        for k, (sno, c) in enumerate(zip(stations, st_county, strict=True))
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
    by_county = [np.flatnonzero(w.feeder_county == c) for c in range(p.n_counties)]
    w.area_feeder = np.array([rng.choice(by_county[c]) for c in w.area_county])
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
    w.birth = np.full(NC, -1, dtype=np.int32)
    w.death = np.full(NC, NEVER, dtype=np.int32)
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
    et = CodeCol.where(w.cust_urban, "201", "202")
    et[kind == COM] = "301"
    et[kind == AGR] = "401"
    hv302 = rng.random(len(hv_idx)) < 0.6
    et[hv_idx] = np.where(hv302, "302", "301")
    w.elec_type = et
    prc = CodeCol.where(w.cust_urban, "0101", "0102")
    prc[kind == COM] = "0201"
    prc[kind == AGR] = np.where(rng.random((kind == AGR).sum()) < 0.5, "0401", "0402")
    prc[hv_idx] = np.where(hv302, "0301", "0202")
    w.prc = prc
    w.volt = CodeCol.where(kind == RES, "01", "02")
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
    w.gen_flag = CodeCol.where(w.pv, "1", "0")
    w.pv_kwh = np.where(w.pv, rng.uniform(5, 20, NC), 0.0)
    # ids: functions of the index (customer i, metering point m = i or NC + a, meter j)
    w.cons_no = IdCol(NC, lambda i: 600000001 + i, prefix="0")
    w.mp_id = IdCol(NC + NA, lambda m: np.where(m < NC, 5000000001 + m, 5100000001 + m - NC))
    w.data_id = IdCol(NC + NA, lambda m: 7000000001 + m)
    w.tmnl_asset = np.array([f"3331{a + 1:012d}" for a in range(NA)], dtype=object)
    w.terminal_id = np.array([f"{9000000 + a + 1}" for a in range(NA)], dtype=object)
    w.next_meter = NC + NA
    w.meter_id = IdCol(NC + NA, lambda j: 8000000001 + j)
    w.asset_no = IdCol(NC + NA, lambda j: 10**14 + j + 1, prefix="33300010", drop=1)
    person = names.person_names(rng, NC)
    com, hv = np.flatnonzero(kind == COM), np.flatnonzero(kind == HV)
    shops = names.shop_names(rng, len(com))
    firms = names.firm_names(rng, len(hv))
    w.cons_name = Overlay(person, np.concatenate([com, hv]), np.concatenate([shops, firms]))
    w.addr = names.addresses(rng, w.area_county[area_of], w.county_nm, NC)
    # contacts: residential one person for both modes; others two persons
    nums = rng.choice(10**8, 2 * NC, replace=False)
    pref = rng.integers(0, len(MOBILE_PREFIXES), 2 * NC)
    res = kind == RES
    w.mobile1 = MobileCol(pref[:NC], nums[:NC], MOBILE_PREFIXES)
    w.mobile2 = MobileCol(
        np.where(res, pref[:NC], pref[NC:]), np.where(res, nums[:NC], nums[NC:]), MOBILE_PREFIXES
    )
    del nums, pref
    nonres = np.flatnonzero(~res)
    w.contact1 = person.replaced(nonres, names.person_names(rng, len(nonres)))
    resi = np.flatnonzero(res)
    w.contact2 = names.person_names(rng, NC).replaced(resi, w.contact1.take(resi))
    w.sms = CodeCol.where(rng.random(NC) < np.where(w.cust_urban, 0.75, 0.5), "1", "0")
    w.build_date = DateCol.from_offsets(dt.date(2005, 1, 1), rng.integers(0, 7300, NC))
    w.inst_date = w.build_date.copy()
    # small codes as int8 (a province has 25 million customers)
    w.kind = w.kind.astype(np.int8)
    w.digits = w.digits.astype(np.int8)


def years_later(d: dt.date, k: int) -> dt.date:
    """The same day k years later (29 February -> 28 February in a common year)."""
    try:
        return d.replace(year=d.year + k)
    except ValueError:
        return d.replace(year=d.year + k, day=28)


def _asset(j: int) -> str:
    return f"33300010{j + 1:014d}"


def new_meter(w: World) -> tuple[str, str]:
    j = w.next_meter
    w.next_meter += 1
    return f"{8000000000 + j + 1}", _asset(j)


def base_tables(w: World) -> dict[str, pd.DataFrame | LazyBase]:
    """The archive as of day 0 (customers born later are excluded). The per-customer tables
    are built from the world's arrays when read: these arrays do not change afterwards
    (every later archive change is an operation of the Archive)."""
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
                for k, (c, h) in enumerate(zip(w.area_county, w.area_hv, strict=True))
            ],
            "ORG_NO": w.station_no[w.area_station],
            "TG_CAP": w.area_cap.astype(str),
            "PUB_PRIV_FLAG": np.where(w.area_hv, "02", "01"),
            "LINE_ID": w.feeder_id[w.area_feeder],
            "RUN_STATUS_CODE": "01",
        }
    )
    areas = np.arange(NA)
    t["C_CONS"] = LazyBase([(partial(cons_cols, w), i, "cust")])
    t["C_CONTACT"] = LazyBase([(partial(contact_cols, w), i, "cust")], rows_per_index=2)
    t["C_MP"] = LazyBase(
        [(partial(mp_cols, w), i, "cust"), (partial(check_mp_cols, w), areas, "area")]
    )
    t["C_METER"] = LazyBase(
        [(partial(meter_cols, w), i, "cust"), (partial(check_meter_cols, w), areas, "area")]
    )
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
                years_later(sign, 5).isoformat(),
            )
        )
        if k % 3 == 0:
            old = years_later(sign, -5)
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
    t["T_TX_DYYH"] = LazyBase([(partial(gis_cols, w), i[w.kind[i] != HV], "cust")])
    t["R_TMNL_RUN"] = pd.DataFrame(
        {
            "TERMINAL_ID": w.terminal_id,
            "TMNL_ASSET_NO": w.tmnl_asset,
            "TG_ID": w.tg_id,
            "STATUS_CODE": "01",
            "PROTOCOL_CODE": np.where(np.arange(NA) % 3 == 0, "698.45", "376.1"),
        }
    )
    t["E_DATA_MP"] = LazyBase(
        [(partial(edata_cols, w), i, "cust"), (partial(edata_check_cols, w), areas, "area")]
    )
    return t


# ----------------------------------------------------------------------------- row builders
# Each builds {column: pyarrow string array} for world indices `i` (only `cols` when given);
# the *_rows functions give the same as a DataFrame of str (the rows of single inserts).
TRADE = pa.array(["9910", "6500", "0100", "3400"], type=pa.string())


def _const(value: str, n: int) -> pa.Array:
    return pa.array([value], type=pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))


def _ints(a) -> pa.Array:
    return pc.cast(pa.array(np.asarray(a, dtype=np.int64)), pa.string())


def _build(fns: dict, cols) -> dict[str, pa.Array]:
    return {c: fns[c]() for c in (cols or fns)}


def frame_of(cols: dict[str, pa.Array]) -> pd.DataFrame:
    return pd.DataFrame(
        {c: v.to_numpy(zero_copy_only=False) for c, v in cols.items()}, dtype=object
    )


def _area(w: World, name: str, a) -> pa.Array:
    return w.apa(name).take(pa.array(np.asarray(a, dtype=np.int64)))


def cons_cols(w: World, i, cols=None) -> dict[str, pa.Array]:
    a = w.cust_area[i]
    return _build(
        {
            "CONS_NO": lambda: w.cons_no.pa(i),
            "CONS_NAME": lambda: w.cons_name.pa(i),
            "ORG_NO": lambda: _area(w, "station_no", w.area_station[a]),
            "TG_ID": lambda: _area(w, "tg_id", a),
            "ELEC_ADDR": lambda: w.addr.pa(i),
            "ELEC_TYPE_CODE": lambda: w.elec_type.pa(i),
            "TRADE_CODE": lambda: TRADE.take(pa.array(w.kind[i])),
            "VOLT_CODE": lambda: w.volt.pa(i),
            "CONTRACT_CAP": lambda: _ints(w.cap[i]),
            "PRC_CODE": lambda: w.prc.pa(i),
            "URBAN_RURAL_FLAG": lambda: pa.array(["1", "2"]).take(
                pa.array(np.where(w.cust_urban[i], 0, 1))
            ),
            "GEN_FLAG": lambda: w.gen_flag.pa(i),
            "STATUS_CODE": lambda: _const("1", len(i)),
            "BUILD_DATE": lambda: w.build_date.pa(i),
            "CANCEL_DATE": lambda: _const("", len(i)),
        },
        cols,
    )


def cons_rows(w: World, i) -> pd.DataFrame:
    return frame_of(cons_cols(w, np.atleast_1d(i)))


def contact_cols(w: World, i, cols=None) -> dict[str, pa.Array]:
    """Two rows per customer (CONTACT_MODE 01, 02), in the order of CONS_NO (ascending i)."""
    i = np.asarray(i, dtype=np.int64)
    if len(i) > 1 and (np.diff(i) <= 0).any():
        raise ValueError("contact rows need ascending customer indices")
    n = len(i)
    inter = np.empty(2 * n, dtype=np.int64)
    inter[0::2], inter[1::2] = np.arange(n), np.arange(n) + n
    ii = np.repeat(i, 2)

    def both(a, b):
        return lambda: pa.concat_arrays([a.pa(i), b.pa(i)]).take(pa.array(inter))

    return _build(
        {
            "CONS_NO": lambda: w.cons_no.pa(ii),
            "CONTACT_MODE": lambda: pa.array(np.tile(np.array(["01", "02"], dtype=object), n)),
            "CONTACT_NAME": both(w.contact1, w.contact2),
            "MOBILE": both(w.mobile1, w.mobile2),
            "SMS_FLAG": lambda: w.sms.pa(ii),
        },
        cols,
    )


def contact_rows(w: World, i) -> pd.DataFrame:
    return frame_of(contact_cols(w, np.atleast_1d(i)))


def mp_cols(w: World, i, cols=None) -> dict[str, pa.Array]:
    return _build(
        {
            "MP_ID": lambda: w.mp_id.pa(i),
            "CONS_NO": lambda: w.cons_no.pa(i),
            "TG_ID": lambda: _area(w, "tg_id", w.cust_area[i]),
            "USAGE_TYPE_CODE": lambda: _const("01", len(i)),
            "STATUS_CODE": lambda: _const("1", len(i)),
        },
        cols,
    )


def mp_rows(w: World, i) -> pd.DataFrame:
    return frame_of(mp_cols(w, np.atleast_1d(i)))


def _virtual_cons(w: World, a) -> pa.Array:
    """The check meter's virtual account 'T' || TG_NO."""
    return pc.binary_join_element_wise("T", _area(w, "tg_no", a), "")


def check_mp_cols(w: World, a, cols=None) -> dict[str, pa.Array]:
    return _build(
        {
            "MP_ID": lambda: w.mp_id.pa(w.NC + a),
            "CONS_NO": lambda: _virtual_cons(w, a),
            "TG_ID": lambda: _area(w, "tg_id", a),
            "USAGE_TYPE_CODE": lambda: _const("02", len(a)),
            "STATUS_CODE": lambda: _const("1", len(a)),
        },
        cols,
    )


def check_mp_rows(w: World) -> pd.DataFrame:
    return frame_of(check_mp_cols(w, np.arange(w.NA)))


def meter_cols(w: World, i, cols=None) -> dict[str, pa.Array]:
    return _build(
        {
            "METER_ID": lambda: w.meter_id.pa(i),
            "ASSET_NO": lambda: w.asset_no.pa(i),
            "MP_ID": lambda: w.mp_id.pa(i),
            "T_FACTOR": lambda: _ints(w.factor0[i]),
            "DIGITS": lambda: _ints(w.digits[i]),
            "INST_DATE": lambda: w.inst_date.pa(i),
        },
        cols,
    )


def meter_rows(w: World, i) -> pd.DataFrame:
    return frame_of(meter_cols(w, np.atleast_1d(i)))


def check_meter_cols(w: World, a, cols=None) -> dict[str, pa.Array]:
    m = w.NC + a
    return _build(
        {
            "METER_ID": lambda: w.meter_id.pa(m),
            "ASSET_NO": lambda: w.asset_no.pa(m),
            "MP_ID": lambda: w.mp_id.pa(m),
            "T_FACTOR": lambda: _ints(w.check_factor[a]),
            "DIGITS": lambda: _const("6", len(a)),
            "INST_DATE": lambda: _const("2019-06-01", len(a)),
        },
        cols,
    )


def check_meter_rows(w: World) -> pd.DataFrame:
    return frame_of(check_meter_cols(w, np.arange(w.NA)))


def gis_cols(w: World, i, cols=None) -> dict[str, pa.Array]:
    """GIS rows of customers `i` (the caller leaves out 10 kV customers)."""
    return _build(
        {
            "YHBH": lambda: w.cons_no.pa(i),
            "SSBYQ": lambda: _area(w, "byq_id", w.cust_area[i]),
            "JRD": lambda: pc.binary_join_element_wise(
                "JRD", pc.utf8_slice_codeunits(_ints(10**9 + i + 1), 1), ""
            ),
        },
        cols,
    )


def gis_rows(w: World, i) -> pd.DataFrame:
    i = np.atleast_1d(i)
    return frame_of(gis_cols(w, i[w.kind[i] != HV]))


def edata_cols(w: World, i, cols=None) -> dict[str, pa.Array]:
    """E_DATA_MP rows of customer metering points i (< NC)."""
    a = w.cust_area[i]
    return _build(
        {
            "DATA_ID": lambda: w.data_id.pa(i),
            "MP_ID": lambda: w.mp_id.pa(i),
            "ASSET_NO": lambda: w.asset_no.pa(i),
            "TMNL_ASSET_NO": lambda: _area(w, "tmnl_asset", a),
            "CONS_NO": lambda: w.cons_no.pa(i),
            "TG_ID": lambda: _area(w, "tg_id", a),
            "T_FACTOR": lambda: _ints(w.factor0[i]),
        },
        cols,
    )


def edata_check_cols(w: World, a, cols=None) -> dict[str, pa.Array]:
    """E_DATA_MP rows of the check meters of areas a (metering points NC + a)."""
    m = w.NC + a
    return _build(
        {
            "DATA_ID": lambda: w.data_id.pa(m),
            "MP_ID": lambda: w.mp_id.pa(m),
            "ASSET_NO": lambda: w.asset_no.pa(m),
            "TMNL_ASSET_NO": lambda: _area(w, "tmnl_asset", a),
            "CONS_NO": lambda: _virtual_cons(w, a),
            "TG_ID": lambda: _area(w, "tg_id", a),
            "T_FACTOR": lambda: _ints(w.check_factor[a]),
        },
        cols,
    )


def edata_rows(w: World, m) -> pd.DataFrame:
    """E_DATA_MP rows for metering point indices m (customers < NC, check meters >= NC)."""
    m = np.atleast_1d(m)
    parts = []
    if (m < w.NC).any():
        parts.append(frame_of(edata_cols(w, m[m < w.NC])))
    if (m >= w.NC).any():
        parts.append(frame_of(edata_check_cols(w, m[m >= w.NC] - w.NC)))
    return pd.concat(parts) if len(parts) > 1 else parts[0]


# ----------------------------------------------------------------------------- id lookups
def cons_index(w: World, cons_no) -> np.ndarray:
    """Customer index of CONS_NO values (-1 for anything else, e.g. a virtual 'T...')."""
    v = (
        pa.array(np.asarray(cons_no, dtype=object), type=pa.string())
        if not isinstance(cons_no, (pa.Array, pa.ChunkedArray))
        else cons_no
    )
    return _parse(v, 600000001, w.NC, width=10, lead="0")


def mp_index(w: World, mp_id) -> np.ndarray:
    """Metering point index m of MP_ID values (-1 for unknown ones)."""
    v = (
        mp_id
        if isinstance(mp_id, (pa.Array, pa.ChunkedArray))
        else pa.array(np.asarray(mp_id, dtype=object), type=pa.string())
    )
    x = _parse(v, 0, 10**10, width=10)  # the number itself (-1: not 10 digits)
    cust = np.where((x >= 5000000001) & (x < 5000000001 + w.NC), x - 5000000001, -1)
    chk = np.where((x >= 5100000001) & (x < 5100000001 + w.NA), x - 5100000001, -1)
    return np.where(cust >= 0, cust, np.where(chk >= 0, w.NC + chk, -1))


def mobile_codes(mobiles) -> np.ndarray:
    """MobileCol.codes() of the values that a MobileCol can hold (others are left out)."""
    pos = {p: k for k, p in enumerate(MOBILE_PREFIXES)}
    out = [
        pos[m[:3]] * 10**8 + int(m[3:])
        for m in mobiles
        if len(m) == 11 and m[:3] in pos and m[3:].isascii() and m[3:].isdigit()
    ]
    return np.array(out, dtype=np.int64)


def key_rows(w: World, table: str, keys) -> dict[str, np.ndarray]:
    """Masks {'cust': [NC], 'area': [NA]} of the base rows (LazyBase segments) that archive
    keys of `table` name (keys of rows inserted later name none)."""
    keys = list(keys)
    cust, area = np.zeros(w.NC, bool), np.zeros(w.NA, bool)
    if not keys:
        return {"cust": cust, "area": area}
    if table == "C_CONTACT":
        keys = [k.split("|")[0] for k in keys]
    v = pa.array(keys, type=pa.string())
    if table in ("C_CONS", "C_CONTACT", "T_TX_DYYH"):
        m = cons_index(w, v)
    elif table == "C_MP":
        m = mp_index(w, v)
    else:  # C_METER: METER_ID, E_DATA_MP: DATA_ID (both numbered by metering point)
        first = {"C_METER": 8000000001, "E_DATA_MP": 7000000001}[table]
        m = _parse(v, first, w.NC + w.NA, width=10)
    cust[m[(m >= 0) & (m < w.NC)]] = True
    area[m[m >= w.NC] - w.NC] = True
    return {"cust": cust, "area": area}


def _parse(v: pa.Array, first: int, count: int, width: int, lead: str = "") -> np.ndarray:
    """x - first for the strings that are `lead` + the digits of x (first <= x < first+count)."""
    ok = pc.equal(pc.utf8_length(v), width)
    if lead:
        ok = pc.and_(ok, pc.starts_with(v, lead))
    ok = pc.and_(ok, pc.ascii_is_decimal(v))
    ok = pc.fill_null(ok, False).to_numpy(zero_copy_only=False)
    out = np.full(len(v), -1, dtype=np.int64)
    if ok.any():
        num = pc.cast(pc.filter(v, pa.array(ok)), pa.int64()).to_numpy() - first
        num[(num < 0) | (num >= count)] = -1
        out[ok] = num
    return out
