"""Tests of the source data generator (dagster_project/generator).

Runs the small `mini` preset (1,000 customers, 26 days: long enough for every rule) and
checks determinism, the landing contract, the labels and the truth, which is recomputed
for a few area-days from the landing files by a small independent pandas implementation.
A scaled-down `city` (same code path: labels of a sample of areas) is compared with the
same tree labelled in full.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import filecmp
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagster_project.generator import PRESETS, generate
from dagster_project.lib import audit_settings
from dagster_project.lib.landing_contract import DEFAULT_ENCODINGS, TABLES, TABLES_BY_NAME

CODES = [
    "L01",
    "L02",
    "L03",
    "A01",
    "A02",
    "A03",
    "A04",
    "A05",
    "A06",
    "A07",
    "A08",
    "A09",
    "M01",
    "M02",
    "M03",
    "M04",
    "M05",
    "M06",
    "M07",
    "T01",
    "B01",
    "B02",
    "E01",
]
PRESET = "mini"


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("gen") / "a"
    generate(PRESET, d, seed=7)
    return d


def _raw(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def read_table(landing: Path, table: str) -> pd.DataFrame:
    """Every file of a table, all columns as strings (empty = NULL), with _day and _line."""
    t = TABLES_BY_NAME[table]
    frames = []
    for p in sorted((landing / t.system / table).glob("*.csv*")):
        text = _raw(p).decode(DEFAULT_ENCODINGS[t.system])
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        df["_day"] = p.name[:10]
        df["_line"] = np.arange(len(df))
        frames.append(df)
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=t.column_names + ["_day", "_line"])
    )


def test_presets():
    assert (
        PRESETS["tiny"].n_areas == 30
        and PRESETS["tiny"].n_customers == 3000
        and PRESETS["tiny"].days == 14
    )
    assert (
        PRESETS["demo"].n_areas == 1000
        and PRESETS["demo"].n_customers == 100_000
        and PRESETS["demo"].days == 62
    )
    city, province = PRESETS["city"], PRESETS["province"]
    assert (city.n_areas, city.n_customers, city.days) == (20_000, 2_000_000, 23)
    assert (province.n_areas, province.n_customers, province.days) == (250_000, 25_000_000, 3)
    assert city.start.day == 1 and province.start.day == 1
    assert city.label_sample_areas and province.label_sample_areas
    assert not any(PRESETS[p].label_sample_areas for p in ("tiny", "mini", "demo"))


def test_deterministic(out, tmp_path):
    b = tmp_path / "b"
    generate(PRESET, b, seed=7)
    fa, fb = _files(out), _files(b)
    assert fa.keys() == fb.keys()
    diff = [k for k in fa if fa[k] != fb[k]]
    assert not diff, diff[:5]


def test_contract(out):
    landing = out / "landing"
    reordered = False
    for t in TABLES:
        files = sorted((landing / t.system / t.name).glob("*.csv*"))
        assert files, f"no files for {t.name}"
        for p in files:
            data = _raw(p)
            if t.system == "pms":
                assert data.startswith(b"\xef\xbb\xbf"), p
            if t.system == "acquisition":
                data.decode("utf-8")
            text = data.decode(DEFAULT_ENCODINGS[t.system])
            header = text.splitlines()[0].split(",")
            assert sorted(header) == sorted(t.column_names), (p, header)
            assert header != sorted(header) or len(header) < 3
            reordered |= header != t.column_names
            eol = "\r\n" if t.system in ("marketing", "collection") else "\n"
            assert text.endswith(eol)
    assert reordered
    # Chinese text in GBK files
    cons = read_table(landing, "C_CONS")
    assert cons["CONS_NAME"].str.contains("[\u4e00-\u9fff]", regex=True).mean() > 0.9
    assert cons["CONS_NO"].str.startswith("0").all()
    # some gzip, a delta table with no file on a quiet day, snapshots not every day
    assert list(landing.rglob("*.csv.gz"))
    days = {p.name[:10] for p in (landing / "acquisition" / "E_MP_DAY_READ").glob("*")}
    assert days - {p.name[:10] for p in (landing / "acquisition" / "E_EVENT").glob("*")}
    assert len(list((landing / "marketing" / "C_CONS").glob("*"))) < len(days)


def test_labels(out):
    lab = pd.read_csv(out / "truth" / "anomalies.csv", dtype=str, keep_default_na=False)
    assert set(CODES) <= set(lab["rule_code"])
    assert not (lab["description"] == "UNPLANNED").any()
    assert (lab["first_date"] <= lab["last_date"]).all()
    assert (lab.loc[lab["rule_code"] == "E01", "app_no"] != "").all()
    summ = json.loads((out / "truth" / "summary.json").read_text(encoding="utf-8"))
    assert set(CODES) <= set(summ["anomaly_counts"])


def test_b02_compares_the_first_month_and_a_month_with_a_missing_day(tmp_path):
    """A window starting on the 1st (mini from 2026-08-01, 33 days: August's bills are issued
    on 09-01): August is measured from the first day's reading (one day inside the month),
    so its misread bills are B02 labels, among them one whose meter missed the reading of
    08-15 (one unmeasured day in the middle of the month)."""
    out = tmp_path / "first_of_month"
    generate(PRESET, out, seed=3, start=dt.date(2026, 8, 1), days=33)
    lab = pd.read_csv(out / "truth" / "anomalies.csv", dtype=str, keep_default_na=False)
    assert not (lab["description"] == "UNPLANNED").any()
    b02 = lab[(lab["rule_code"] == "B02") & (lab["first_date"] == "2026-09-01")]
    misread = b02[b02["description"].str.contains("receivable 202608 misread")]
    gap = misread[misread["description"].str.contains("reading of 2026-08-15 missing")]
    assert len(misread) >= 1 and len(gap) >= 1, b02
    # the gap is real in the landing files: no reading of 08-15, readings of 08-01 and 08-31
    reads = read_table(out / "landing", "E_MP_DAY_READ")
    points = read_table(out / "landing", "E_DATA_MP")
    meters = read_table(out / "landing", "C_MP")
    settlement = meters[meters["USAGE_TYPE_CODE"] == "01"].drop_duplicates("CONS_NO")
    mp_id = settlement.set_index("CONS_NO").at[gap["cons_no"].iloc[0], "MP_ID"]
    data_id = points.drop_duplicates("MP_ID").set_index("MP_ID").at[mp_id, "DATA_ID"]
    days = set(reads.loc[reads["DATA_ID"] == data_id, "DATA_DATE"])
    assert "2026-08-15" not in days and {"2026-08-01", "2026-08-31"} <= days
    assert min(reads["DATA_DATE"]) == "2026-08-01"


def _check_loss_truth(t: pd.DataFrame) -> None:
    """Loss, rate and status of area_daily_loss.csv agree with supply and sales."""
    s = audit_settings.load()
    lo, hi = float(s["loss_rate_negative_below"]), float(s["loss_rate_high_above"])
    c = t[t["loss_status"] != "uncomputable"]
    assert np.allclose(c["loss_kwh"], c["supply_kwh"] - c["sales_kwh"], atol=1e-6)
    assert np.allclose(c["loss_rate"], c["loss_kwh"] / c["supply_kwh"], rtol=1e-9)
    assert (c["supply_kwh"] > 0).all()
    exp = np.where(
        c["loss_rate"] < lo, "negative", np.where(c["loss_rate"] > hi, "high", "qualified")
    )
    assert (exp == c["loss_status"]).all()
    u = t[t["loss_status"] == "uncomputable"]
    assert u["loss_rate"].isna().all() and (u["uncomputable_reason"].fillna("") != "").all()


def test_truth_consistent(out):
    t = pd.read_csv(out / "truth" / "area_daily_loss.csv", dtype={"tg_id": str, "org_no": str})
    _check_loss_truth(t)
    assert (
        t["loss_status"] == "qualified"
    ).mean() > 0.3  # mini is dense with anomalies; tiny/demo are mostly qualified
    assert set(t["loss_status"]) == {"qualified", "high", "negative", "uncomputable"}


def _asof(df: pd.DataFrame, day: str) -> pd.DataFrame:
    snap = max(d for d in df["_day"].unique() if d <= day)
    return df[df["_day"] == snap]


def test_truth_recomputed_from_landing(out):
    """A small independent implementation of the line-loss conventions over the landing files."""
    landing = out / "landing"
    s = audit_settings.load()
    share = float(s["completeness_min_share"])
    roll_share = float(s["rollover_min_previous_share"])
    hours = float(s["plausible_hours_per_day"])
    reads = read_table(landing, "E_MP_DAY_READ")
    reads = reads.sort_values(["_day", "COL_TIME", "_line"]).drop_duplicates(
        ["DATA_ID", "DATA_DATE"], keep="last"
    )
    reads = reads.set_index(["DATA_ID", "DATA_DATE"])
    chg = (
        read_table(landing, "C_METER_CHG")
        .drop_duplicates("CHG_ID", keep="last")
        .set_index(["MP_ID", "CHG_DATE"])
    )
    tabs = {t: read_table(landing, t) for t in ("C_MP", "C_METER", "E_DATA_MP", "C_CONS", "G_TG")}
    truth = pd.read_csv(out / "truth" / "area_daily_loss.csv", dtype={"tg_id": str, "org_no": str})
    days = sorted(truth["data_date"].unique())
    checked = 0
    for day in [days[0], days[len(days) // 2], days[-1]] + list(
        chg.index.get_level_values(1).unique()
    ):
        prev = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
        st = {t: _asof(df, day) for t, df in tabs.items()}
        mp = st["C_MP"][st["C_MP"]["STATUS_CODE"] == "1"]
        met = st["C_METER"].set_index("MP_ID")
        ed = st["E_DATA_MP"].set_index("MP_ID")["DATA_ID"]
        cons = st["C_CONS"].set_index("CONS_NO")
        tg = st["G_TG"].set_index("TG_ID")

        def energy(mp_id, cap, day=day, prev=prev, ed=ed, met=met):
            """(forward, reverse) energy in kWh or None if not computable."""
            if mp_id not in ed.index or mp_id not in met.index:
                return None
            did = ed[mp_id]
            if (did, day) not in reads.index or (did, prev) not in reads.index:
                return None
            r1, r0 = reads.loc[(did, day)], reads.loc[(did, prev)]
            if r1["PAP_R"] == "" or r0["PAP_R"] == "":
                return None
            f = float(met.at[mp_id, "T_FACTOR"])
            a, b = float(r0["PAP_R"]), float(r1["PAP_R"])
            full = 10.0 ** int(met.at[mp_id, "DIGITS"])
            if (mp_id, day) in chg.index:
                c = chg.loc[(mp_id, day)]
                e = (float(c["OLD_END_READ"]) - a) * float(c["OLD_T_FACTOR"]) + (
                    b - float(c["NEW_START_READ"])
                ) * float(c["NEW_T_FACTOR"])
            elif b >= a:
                e = (b - a) * f
            elif a >= roll_share * full and (b + full - a) * f <= cap * hours:
                e = (b + full - a) * f
            else:
                return None
            ra = float(r0["RAP_R"]) if r0["RAP_R"] != "" else None
            rb = float(r1["RAP_R"]) if r1["RAP_R"] != "" else None
            rev = 0.0 if ra is None or rb is None else (rb - ra) * f
            return e, rev

        t_day = truth[truth["data_date"] == day].set_index("tg_id")
        for tg_id, row in t_day.iterrows():
            ms = mp[mp["TG_ID"] == tg_id]
            chk = ms[ms["USAGE_TYPE_CODE"] == "02"]
            settle = ms[ms["USAGE_TYPE_CODE"] == "01"]
            ce = energy(chk["MP_ID"].iloc[0], float(tg.at[tg_id, "TG_CAP"])) if len(chk) else None
            supply = sales = 0.0
            n_read = 0
            for mp_id, cn in zip(settle["MP_ID"], settle["CONS_NO"], strict=True):
                gen = cons.at[cn, "GEN_FLAG"] == "1"
                e = energy(mp_id, float(cons.at[cn, "CONTRACT_CAP"]))
                if e is None or (gen and e[1] < 0):
                    continue
                n_read += 1
                sales += e[0]
                if gen:
                    supply += e[1]
            assert row["meter_count"] == len(settle) and row["meter_read_count"] == n_read, (
                tg_id,
                day,
            )
            if ce is None:
                assert row["loss_status"] == "uncomputable", (tg_id, day)
                continue
            supply += ce[0]
            sales += ce[1]
            if n_read < share * len(settle) or supply <= 0:
                assert row["loss_status"] == "uncomputable", (tg_id, day)
                continue
            rate = (supply - sales) / supply
            assert row["loss_rate"] == pytest.approx(rate, abs=1e-9), (tg_id, day)
            assert abs(row["supply_kwh"] - supply) < 1e-6 and abs(row["sales_kwh"] - sales) < 1e-6
            checked += 1
    assert checked > 20


# a city-like preset at 1/100 of the city: the sampled-labels code path in seconds
CITY_LIKE = {"n_areas": 200, "n_customers": 20_000, "per_code": 6, "label_sample_areas": 15}


def test_sampled_labels_are_the_full_labels_of_the_sampled_areas(tmp_path, monkeypatch):
    """The city preset labels a sample of areas (every area an injection touches plus random
    ones). Scaled down, the sampled tree equals the tree labelled in full (same landing files,
    same area_daily_loss.csv for every area-day), and its labels are exactly the full labels
    of the sampled areas: none UNPLANNED, every catalogue code, none outside the sample."""
    city = dataclasses.replace(PRESETS["city"], name="city_like", **CITY_LIKE)
    monkeypatch.setitem(PRESETS, "city_like", city)
    monkeypatch.setitem(
        PRESETS, "city_like_full", dataclasses.replace(city, name="full", label_sample_areas=0)
    )
    from dagster_project.generator import core

    read = []  # customers the archive rules read per snapshot (sampled code path only)

    def spy(w, t, sample):
        tables = sampled_tables(w, t, sample)
        read.append((len(tables["C_CONS"]), len(t["C_CONS"])))
        if len(read) == 1:
            _check_mobile_closure(w, t, sampled_tables)
        return tables

    sampled_tables = core.sampled_tables
    monkeypatch.setattr(core, "sampled_tables", spy)
    a, b = tmp_path / "sampled", tmp_path / "full"
    generate("city_like", a, seed=11)
    assert read and all(0 < k < n for k, n in read), read
    generate("city_like_full", b, seed=11)
    files = sorted(str(p.relative_to(a)) for p in (a / "landing").rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(b)) for p in (b / "landing").rglob("*") if p.is_file())
    assert all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)
    loss = a / "truth" / "area_daily_loss.csv"
    assert filecmp.cmp(loss, b / "truth" / "area_daily_loss.csv", shallow=False)
    t = pd.read_csv(loss, dtype={"tg_id": str, "org_no": str})
    _check_loss_truth(t)
    assert len(t) == city.n_areas * (city.days - 1)  # every area-day (no area leaves service)

    summ = json.loads((a / "truth" / "summary.json").read_text(encoding="utf-8"))
    sample = set(summ["label_sample"]["tg_ids"])
    assert summ["label_sample"]["random_areas"] == CITY_LIKE["label_sample_areas"]
    assert len(sample) == summ["label_sample"]["areas"] < city.n_areas
    assert "label_sample" not in json.loads((b / "truth" / "summary.json").read_text())
    assert "sample of areas" in (a / "truth" / "README.md").read_text(encoding="utf-8")

    lab = pd.read_csv(a / "truth" / "anomalies.csv", dtype=str, keep_default_na=False)
    full = pd.read_csv(b / "truth" / "anomalies.csv", dtype=str, keep_default_na=False)
    no_customer_e01 = (full["rule_code"] == "E01") & (full["tg_id"] == "")
    of_sample = full[full["tg_id"].isin(sample) | no_customer_e01].reset_index(drop=True)
    pd.testing.assert_frame_equal(lab, of_sample)
    assert set(CODES) <= set(lab["rule_code"])
    assert not (lab["description"] == "UNPLANNED").any()


def test_three_day_window(tmp_path):
    """The province preset's window (3 days): every injection that fits is labelled."""
    generate("tiny", tmp_path, seed=5, days=3)
    lab = pd.read_csv(tmp_path / "truth" / "anomalies.csv", dtype=str, keep_default_na=False)
    assert not (lab["description"] == "UNPLANNED").any()
    assert {"A01", "L03", "M03", "M04"} <= set(lab["rule_code"])
    _check_loss_truth(
        pd.read_csv(tmp_path / "truth" / "area_daily_loss.csv", dtype={"tg_id": str, "org_no": str})
    )


def _check_mobile_closure(w, t, sampled_tables) -> None:
    """A sample of one area holding one of the customers that share a mobile (the A07
    injection): the sampled contacts and customers are the area's plus every customer sharing
    a mobile with them (A07 counts a mobile's customers over the whole table)."""
    cons, ct = t["C_CONS"].frame(), t["C_CONTACT"].frame()
    per_mobile = ct[ct["MOBILE"] != ""].groupby("MOBILE")["CONS_NO"].nunique()
    group = set(ct.loc[ct["MOBILE"] == per_mobile.idxmax(), "CONS_NO"])
    tg = cons.set_index("CONS_NO").at[min(group), "TG_ID"]
    in_area = set(cons.loc[cons["TG_ID"] == tg, "CONS_NO"])
    assert group - in_area  # the mobile is shared beyond the area
    mobiles = set(ct.loc[ct["CONS_NO"].isin(in_area), "MOBILE"]) - {""}
    expect = in_area | set(ct.loc[ct["MOBILE"].isin(mobiles), "CONS_NO"])
    got = sampled_tables(w, t, np.asarray(w.tg_id == tg, dtype=bool))
    assert set(got["C_CONTACT"]["CONS_NO"]) == expect
    assert set(got["C_CONS"]["CONS_NO"]) == expect


def test_work_order_loop(out):
    """The generated answers close the loop: an archive injection corrected on day S is
    answered 属实 已整改 on S - 1, its finding really stops from S (the labels, computed from
    the data) and its order is archived by verification when the window allows; the truth
    of the loop is complete (docs/work-orders.md; the state machine itself is tested in
    tests/test_work_order_truth.py)."""
    import re

    from dagster_project.generator import work_orders
    from dagster_project.lib import work_order_layout as layout

    truth = out / "truth"
    lab = pd.read_csv(truth / "anomalies.csv", dtype=str, keep_default_na=False)
    wo = pd.read_csv(truth / "work_orders.csv", dtype=str, keep_default_na=False)
    summ = json.loads((truth / "summary.json").read_text(encoding="utf-8"))
    end = dt.date.fromisoformat(summ["end"])
    assert set(wo["status"]) <= set(layout.STATUSES) and wo["work_order_no"].is_unique
    lab["finding_key"] = [
        work_orders.finding_key(*x)
        for x in zip(
            lab["rule_code"],
            lab["app_no"],
            lab["cons_no"],
            lab["tg_id"],
            lab["org_no"],
            strict=True,
        )
    ]
    fixed = lab[
        lab["rule_code"].isin(work_orders.RECTIFIABLE)
        & lab["description"].str.contains(r"; (?:corrected|mapped|created|renewed) \d", regex=True)
    ]
    checked = 0
    for r in fixed.itertuples():
        fix = dt.date.fromisoformat(re.search(r"(\d{4}-\d\d-\d\d)$", r.description).group(1))
        runs = lab[lab["finding_key"] == r.finding_key]
        first = wo[wo["finding_key"] == r.finding_key].sort_values("dispatch_date").iloc[0]
        answer = fix - dt.timedelta(days=1)
        assert runs["last_date"].max() == answer.isoformat(), r  # stops from the answer on
        assert first["rectified_date"] == answer.isoformat(), (r, first)
        if answer + dt.timedelta(days=7) <= end:
            assert (first["status"], first["archive_reason"]) == ("已归档", "verified")
            checked += 1
    assert checked >= 5
    assert (wo["status"] == "整改无效").any() and (wo["archive_reason"] == "false_positive").any()
    k = pd.read_csv(truth / "work_order_kpis.csv", dtype={"org_no": str})
    day = k[(k["period_type"] == "day") & (k["indicator_code"] == "wo_dispatched")]
    assert day.groupby("org_no")["numerator"].sum()["33401"] == len(wo)  # the 地市公司: all
    assert (truth / "feedback_dirt.csv").exists()
    assert "work_orders.csv" in (truth / "README.md").read_text(encoding="utf-8")
    assert summ["work_orders"]["orders"] == len(wo)
