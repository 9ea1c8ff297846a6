"""Benchmark: how well marts.theft_suspects ranks the generator's injected thefts (issue 13).

    python -m benchmarks.theft_ranking --published FILE --truth DIR [--day YYYY-MM-DD]

Reads the published DuckDB file read-only and the generator's truth next to its landing
tree. The thieves are the thefts of truth/thefts.csv (kind theft) that last on the day
(drop_start <= day, no drop_end or drop_end >= day), with or without an event; a theft
that has ended is outside the AUC's pool. The negatives reported are the legitimate drops
of thefts.csv (vacancy, shop_closed, short_drop). A truth without thefts.csv (generated
before issue 13) is read as before: the thieves are the customers of its T01 finding runs
(anomalies.csv) with the event day their description names, the legitimate drops the M02
vacancies and M06's x0.12 drops.

Active customers of an area: marts.area_daily_loss.meter_count on the day (active
settlement metering points of the area). The published file lists no customer that has
no suspicion score, and a customer has one settlement metering point in the generated
data, so this count stands for the customers. A customer absent from theft_suspects has
score 0 and ranks last in its area (rank = the area's count).

Prints one row per thief (area, theft start, listed, area rank, in the area's top 5 %)
and the totals: share of thieves in their area's top 5 %, precision at 10 per 供电所
(the station of the customer's org_no, from marts.area_problem_list / bi.units_daily when
there, else org_no itself) and ROC AUC over every active customer of the day (rank
formula with average ranks for ties). Numbers, not asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

TOP_SHARE = 0.05
PRECISION_AT = 10


def read_theft_labels(truth: Path) -> pd.DataFrame | None:
    """truth/thefts.csv (generators from issue 13 on), dates parsed; None when absent."""
    path = truth / "thefts.csv"
    if not path.exists():
        return None
    lab = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("event_date", "drop_start", "drop_end"):
        lab[col] = pd.to_datetime(lab[col].replace("", None)).dt.date
    return lab


def read_thieves(truth: Path, day: dt.date) -> pd.DataFrame:
    """The thefts that last on `day`: from truth/thefts.csv (kind theft, drop_start <= day
    <= drop_end or no end; with or without an event) when there, else the T01 customers of
    anomalies.csv with the event day that started the theft (<= day)."""
    lab = read_theft_labels(truth)
    if lab is not None:
        t = lab[(lab["kind"] == "theft") & (lab["drop_start"] <= day)]
        t = t[t["drop_end"].isna() | (t["drop_end"].fillna(day) >= day)]
        t = t.assign(theft_start=t["drop_start"])
        return t[["cons_no", "tg_id", "event_code", "theft_start"]].reset_index(drop=True)
    lab = pd.read_csv(truth / "anomalies.csv", dtype=str, keep_default_na=False)
    t01 = lab[lab["rule_code"] == "T01"].copy()
    found = t01["description"].str.extract(r"(?P<event_code>ERC\d+) on (?P<theft_start>[\d-]{10})")
    t01 = pd.concat([t01, found], axis=1)
    t01["theft_start"] = pd.to_datetime(t01["theft_start"]).dt.date
    # one row per firing run: a thief whose finding pauses has several runs, one theft
    thieves = (
        t01.sort_values("theft_start")
        .groupby("cons_no", as_index=False)
        .agg(
            tg_id=("tg_id", "first"),
            event_code=("event_code", "first"),
            theft_start=("theft_start", "first"),
        )
    )
    return thieves[thieves["theft_start"] <= day].reset_index(drop=True)


def read_legitimate_drops(truth: Path, day: dt.date) -> pd.DataFrame:
    """The generator's legitimate drops, the negative cases a theft ranking must not put
    on top: vacancies ("no consumption from D (vacant)", M02, also where only the M06 it
    implies has fired yet) and M06's short drops ("consumption x0.12 from D for up to 6
    days"). From truth/thefts.csv when there (kinds vacancy, shop_closed, short_drop), else
    from the customer rows of anomalies.csv (cons_no set)."""
    labels = read_theft_labels(truth)
    if labels is not None:
        d = labels[labels["kind"].isin(["vacancy", "shop_closed", "short_drop"])]
        d = d[d["drop_start"] <= day].rename(columns={"kind": "drop_kind"})
        return d[["cons_no", "tg_id", "drop_kind", "drop_start"]].reset_index(drop=True)
    lab = pd.read_csv(truth / "anomalies.csv", dtype=str, keep_default_na=False)
    lab = lab[lab["cons_no"] != ""]
    found = lab["description"].str.extract(
        r"(?:(?P<vacant>no consumption) from (?P<v_start>[\d-]{10}) \(vacant\))"
        r"|(?:consumption x0\.12 from (?P<m_start>[\d-]{10}))"
    )
    lab = lab.assign(
        drop_kind=np.where(found["vacant"].notna(), "vacant", "M06 x0.12 (<= 6 days)"),
        drop_start=pd.to_datetime(found["v_start"].fillna(found["m_start"])).dt.date,
    )
    drops = lab[lab["drop_start"].notna()].sort_values("drop_start")
    drops = drops.groupby("cons_no", as_index=False).first()
    return drops.loc[drops["drop_start"] <= day, ["cons_no", "tg_id", "drop_kind", "drop_start"]]


def ended_thefts(truth: Path, day: dt.date) -> set[str]:
    """Customers whose theft ended before `day` (thefts.csv drop_end < day): no longer
    stealing, not a legitimate customer either, so outside the AUC's pool."""
    lab = read_theft_labels(truth)
    if lab is None:
        return set()
    ended = lab[(lab["kind"] == "theft") & lab["drop_end"].notna()]
    return set(ended.loc[ended["drop_end"].fillna(day) < day, "cons_no"])


def area_ranks(
    customers: pd.DataFrame, suspects: pd.DataFrame, area_count: pd.Series
) -> pd.DataFrame:
    """Listed, score, area rank (absent = last of the area) and top-5 % flag of customers."""
    t = customers.merge(suspects[["cons_no", "theft_score", "area_rank"]], on="cons_no", how="left")
    t["area_customers"] = t["tg_id"].map(area_count).astype("Int64")
    t["listed"] = t["theft_score"].notna()
    t["theft_score"] = t["theft_score"].fillna(0.0)
    t["area_rank"] = t["area_rank"].astype("Int64").where(t["listed"], t["area_customers"])
    t["top_cut"] = np.ceil(t["area_customers"].astype(float) * TOP_SHARE).astype("Int64")
    t["in_top_5pct"] = t["listed"] & (t["area_rank"] <= t["top_cut"])
    return t


def average_rank_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney rank formula (ties get the average rank)."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def station_of_orgs(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """org_no -> 供电所 number: the 供电所 of bi.units_daily (C_CONS.ORG_NO is the 供电所 in
    the generated data; an org below a 供电所 maps to its parent that is one)."""
    units = con.execute(
        "select distinct org_no, unit_level, parent_org_no from bi.units_daily"
    ).df()
    stations = set(units.loc[units["unit_level"] == "station", "org_no"])
    own = {o: o for o in stations}
    below = units[~units["org_no"].isin(stations) & units["parent_org_no"].isin(stations)]
    return own | dict(zip(below["org_no"], below["parent_org_no"], strict=True))


def measure(published: Path, truth: Path, day: dt.date | None) -> dict:
    con = duckdb.connect(str(published), read_only=True)
    try:
        last_day = con.execute("select max(data_date) from marts.area_daily_loss").fetchone()[0]
        day = day or last_day
        suspects = con.execute("select * from marts.theft_suspects").df()
        as_of = set(pd.to_datetime(suspects["as_of_date"]).dt.date)
        if as_of and as_of != {day}:
            raise SystemExit(
                f"marts.theft_suspects is scored as of {sorted(as_of)}, not {day}: the mart "
                "holds the newest day only; run the pipeline up to --day"
            )
        areas = con.execute(
            "select tg_id, org_no, meter_count from marts.area_daily_loss where data_date = ?",
            [day],
        ).df()
        stations = station_of_orgs(con)
    finally:
        con.close()

    thieves = read_thieves(truth, day)
    thief_set = set(thieves["cons_no"])
    area_count = areas.set_index("tg_id")["meter_count"].astype(int)

    # per thief: listed, score and area rank (absent = last of the area)
    t = area_ranks(thieves, suspects, area_count)
    t["days_since_start"] = (pd.Timestamp(day) - pd.to_datetime(t["theft_start"])).dt.days

    # precision at 10 per 供电所: the 10 best scores of the station's listed customers
    s = suspects.copy()
    s["station_no"] = s["org_no"].map(stations).fillna(s["org_no"])
    s["is_thief"] = s["cons_no"].isin(thief_set)
    s = s.sort_values(["station_no", "theft_score", "cons_no"], ascending=[True, False, True])
    s["station_pos"] = s.groupby("station_no").cumcount() + 1
    top = s[s["station_pos"] <= PRECISION_AT]
    areas["station_no"] = areas["org_no"].map(stations).fillna(areas["org_no"])
    all_stations = pd.Index(sorted(areas["station_no"].dropna().unique()), name="station_no")
    thieves["station_no"] = thieves["tg_id"].map(areas.set_index("tg_id")["station_no"]).fillna("?")
    per_station = (
        pd.DataFrame(
            {
                "listed": s.groupby("station_no").size(),
                "thieves": thieves.groupby("station_no").size(),
                "hits_at_10": top.groupby("station_no")["is_thief"].sum(),
            }
        )
        .reindex(all_stations.union(thieves["station_no"].unique()))
        .fillna(0)
        .astype(int)
    )
    per_station["precision_at_10"] = per_station["hits_at_10"] / PRECISION_AT
    # the same among the listed ones only (a station with 2 listed customers can reach 1.0)
    per_station["precision_of_listed"] = per_station["hits_at_10"] / per_station["listed"].clip(
        upper=PRECISION_AT
    ).where(per_station["listed"] > 0)

    # ROC AUC over every active customer of the day: the listed ones with their score, the
    # unlisted ones (area count minus listed of the area) with 0
    ended = ended_thefts(truth, day)
    pool = suspects[~suspects["cons_no"].isin(ended)]
    listed_scores = pool["theft_score"].to_numpy(dtype=float)
    listed_labels = pool["cons_no"].isin(thief_set).to_numpy()
    n_active = int(area_count.sum())
    n_unlisted = max(0, n_active - len(suspects) - (len(ended) - (len(suspects) - len(pool))))
    unlisted_thieves = int((~t["listed"]).sum())
    scores = np.concatenate([listed_scores, np.zeros(n_unlisted)])
    labels = np.concatenate(
        [listed_labels, np.arange(n_unlisted) < unlisted_thieves]  # which zeros: irrelevant
    )
    auc = average_rank_auc(scores, labels)

    legit = area_ranks(read_legitimate_drops(truth, day), suspects, area_count)
    events = suspects.set_index("cons_no")["event_count"] if "event_count" in suspects else None
    legit["has_theft_event"] = (
        legit["cons_no"].map(events).fillna(0).astype(int) > 0 if events is not None else False
    )
    return {
        "day": day,
        "legit": legit,
        "thieves": t,
        "per_station": per_station,
        "n_active": n_active,
        "n_listed": len(suspects),
        "auc": auc,
        "top_share": float(t["in_top_5pct"].mean()) if len(t) else float("nan"),
        "precision_at_10": float(per_station["precision_at_10"].mean())
        if len(per_station)
        else float("nan"),
    }


def print_report(m: dict) -> None:
    t = m["thieves"]
    print(
        f"marts.theft_suspects as of {m['day']}: {m['n_listed']} listed of {m['n_active']} "
        f"active customers; {len(t)} thefts lasting on the day (truth)"
    )
    cols = [
        "cons_no",
        "tg_id",
        "event_code",
        "theft_start",
        "days_since_start",
        "listed",
        "theft_score",
        "area_rank",
        "area_customers",
        "top_cut",
        "in_top_5pct",
    ]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(t[cols].to_string(index=False) if len(t) else "(no thief)")
        print()
        print(f"per 供电所 (precision at {PRECISION_AT} = thieves among the 10 best scores / 10):")
        print(m["per_station"].to_string())
    print()
    top_n = int(t["in_top_5pct"].sum())
    print(f"thieves in their area's top 5 %: {top_n}/{len(t)} = {m['top_share']:.2f}")
    print(f"precision at {PRECISION_AT}, mean over 供电所: {m['precision_at_10']:.3f}")
    v = m["legit"]
    print()
    print("legitimate drops (truth: vacancies, shops closing, M06's short drops), not thieves:")
    legit_cols = ["cons_no", "tg_id", "drop_kind", "drop_start", "listed", "theft_score"]
    legit_cols += ["area_rank", "area_customers", "in_top_5pct", "has_theft_event"]
    print(v[legit_cols].to_string(index=False) if len(v) else "(none)")
    print(
        f"legitimate drops in their area's top 5 %: {int(v['in_top_5pct'].sum())}/{len(v)} "
        f"(listed {int(v['listed'].sum())})"
    )
    auc = m["auc"]
    print(f"ROC AUC over all active customers: {'n/a' if math.isnan(auc) else f'{auc:.3f}'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--published", required=True, type=Path, help="published gridaudit.duckdb")
    ap.add_argument("--truth", required=True, type=Path, help="the generator's truth/ folder")
    ap.add_argument("--day", type=dt.date.fromisoformat, help="default: the newest day")
    args = ap.parse_args(argv)
    print_report(measure(args.published, args.truth, args.day))
    return 0


if __name__ == "__main__":
    sys.exit(main())
