"""`marts.area_daily_loss` of one day D the way an analyst would write it in pandas:
read_csv of the same landing files as the DuckDB floor (benchmarks/floor_common.py), merges
and a groupby, in float64 (kWh rounded to the mart's 4 decimals at the end). What the
pipeline is compared with when the question is "why not a script?".

    python benchmarks/floor_pandas.py LANDING D [--through D2] [--published FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout without the editable install
    sys.path.insert(0, str(ROOT))

from benchmarks.floor_common import (
    MART_COLUMNS,
    DayFiles,
    LandingFile,
    compare_with_published,
    compare_with_truth,
    day_files,
    loss_settings,
)

# kWh within half a unit of the mart's 4th decimal: this script adds in float64
KWH_TOLERANCE = 5e-5


@dataclass
class PandasResult:
    day: dt.date
    rows: pd.DataFrame
    seconds: float
    files: DayFiles


def read(file: LandingFile, columns: list[str]) -> pd.DataFrame:
    # every column as text: codes keep their leading zeros; only an empty field is missing
    return pd.read_csv(
        file.path,
        dtype=str,
        usecols=columns,
        encoding=file.encoding,
        keep_default_na=False,
        na_values=[""],
        compression="infer",
    )


def read_deliveries(files: list[LandingFile], columns: list[str]) -> pd.DataFrame:
    """Several export days of a delta table, with the export day and the line order."""
    frames = [
        read(f, columns).assign(export_date=f.export_date, line=lambda d: range(len(d)))
        for f in files
    ]
    if not frames:
        return pd.DataFrame(columns=[*columns, "export_date", "line"])
    return pd.concat(frames, ignore_index=True)


def number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def area_daily_loss(landing: Path, day: dt.date, through: dt.date | None = None) -> PandasResult:
    began = time.perf_counter()
    files = day_files(landing, day, through)
    settings = {k: float(v) for k, v in loss_settings().items()}
    previous_day = day - dt.timedelta(days=1)

    # archives as of D (a key twice in one file: the last line)
    areas = read(files.snapshots["G_TG"], ["TG_ID", "ORG_NO", "TG_CAP", "RUN_STATUS_CODE"])
    areas = areas.drop_duplicates("TG_ID", keep="last")
    mps = read(
        files.snapshots["C_MP"], ["MP_ID", "CONS_NO", "TG_ID", "USAGE_TYPE_CODE", "STATUS_CODE"]
    ).drop_duplicates("MP_ID", keep="last")
    mps = mps[mps["STATUS_CODE"] == "1"]
    meters = read(
        files.snapshots["C_METER"], ["METER_ID", "MP_ID", "T_FACTOR", "DIGITS", "INST_DATE"]
    ).drop_duplicates("METER_ID", keep="last")
    # one meter per MP: newest INST_DATE (an empty one last), then highest METER_ID
    meters = meters.sort_values(
        ["INST_DATE", "METER_ID"], ascending=False, na_position="last"
    ).drop_duplicates("MP_ID", keep="first")
    customers = read(files.snapshots["C_CONS"], ["CONS_NO", "GEN_FLAG", "CONTRACT_CAP"])
    customers = customers.drop_duplicates("CONS_NO", keep="last")
    data_points = read(files.snapshots["E_DATA_MP"], ["DATA_ID", "MP_ID"])
    data_points = (
        data_points.drop_duplicates("DATA_ID", keep="last")
        .dropna(subset=["MP_ID"])
        .sort_values("DATA_ID")
        .drop_duplicates("MP_ID", keep="first")
    )

    # readings of D-1 and D in their final state: later export day, later COL_TIME (an
    # empty one loses), later line
    reads = read_deliveries(files.reads, ["DATA_ID", "DATA_DATE", "COL_TIME", "PAP_R", "RAP_R"])
    reads = reads[reads["DATA_DATE"].isin([str(previous_day), str(day)])].copy()
    reads["COL_TIME"] = pd.to_datetime(reads["COL_TIME"], errors="coerce")
    reads = reads.sort_values(
        ["export_date", "COL_TIME", "line"], na_position="first"
    ).drop_duplicates(["DATA_ID", "DATA_DATE"], keep="last")
    reads["PAP_R"], reads["RAP_R"] = number(reads["PAP_R"]), number(reads["RAP_R"])
    current = reads[reads["DATA_DATE"] == str(day)][["DATA_ID", "PAP_R", "RAP_R"]]
    previous = reads[reads["DATA_DATE"] == str(previous_day)][["DATA_ID", "PAP_R", "RAP_R"]]

    # meter changes: final state per CHG_ID, those of D, the highest CHG_ID per MP
    changes = read_deliveries(
        files.changes,
        [
            "CHG_ID",
            "MP_ID",
            "CHG_DATE",
            "OLD_END_READ",
            "NEW_START_READ",
            "OLD_T_FACTOR",
            "NEW_T_FACTOR",
        ],
    )
    changes = changes.sort_values(["export_date", "line"]).drop_duplicates("CHG_ID", keep="last")
    changes = (
        changes[changes["CHG_DATE"] == str(day)]
        .sort_values("CHG_ID")
        .drop_duplicates("MP_ID", keep="last")
        .drop(columns=["export_date", "line"])
    )

    m = (
        mps.merge(meters[["MP_ID", "T_FACTOR", "DIGITS"]], on="MP_ID", how="left")
        .merge(data_points, on="MP_ID", how="left")
        .merge(customers, on="CONS_NO", how="left")
        .merge(areas[["TG_ID", "TG_CAP"]], on="TG_ID", how="left")
        .merge(current, on="DATA_ID", how="left")
        .merge(previous, on="DATA_ID", how="left", suffixes=("", "_PREV"))
        .merge(changes.drop(columns=["CHG_DATE"]), on="MP_ID", how="left")
    )
    for col in (
        "T_FACTOR",
        "DIGITS",
        "CONTRACT_CAP",
        "TG_CAP",
        "OLD_END_READ",
        "NEW_START_READ",
        "OLD_T_FACTOR",
        "NEW_T_FACTOR",
    ):
        m[col] = number(m[col])

    factor, pap, prev = m["T_FACTOR"], m["PAP_R"], m["PAP_R_PREV"]
    exchange = m["CHG_ID"].notna()
    both = pap.notna() & prev.notna()
    full_scale = (10.0 ** m["DIGITS"]).where(m["DIGITS"].between(0, 17))
    check = m["USAGE_TYPE_CODE"] == "02"
    plausible = (
        np.where(check, m["TG_CAP"], m["CONTRACT_CAP"]) * settings["plausible_hours_per_day"]
    )
    share = settings["rollover_min_previous_share"]

    delta = pap - prev
    rollover_kwh = (pap + full_scale - prev) * factor
    rollover = (
        ~exchange
        & both
        & (delta < 0)
        & full_scale.notna()
        & (prev >= share * full_scale)
        & (rollover_kwh <= plausible)
    )
    exchange_kwh = (m["OLD_END_READ"] - prev) * m["OLD_T_FACTOR"] + (pap - m["NEW_START_READ"]) * m[
        "NEW_T_FACTOR"
    ]
    m["forward"] = np.select(
        [~both, exchange, delta >= 0, rollover],
        [np.nan, exchange_kwh, delta * factor, rollover_kwh],
        np.nan,
    )

    rap, rap_prev = m["RAP_R"], m["RAP_R_PREV"]
    rdelta = (rap - rap_prev).where(rap.notna() & rap_prev.notna(), 0.0)  # no register = 0
    reverse_rollover_kwh = (rap + full_scale - rap_prev) * factor
    reverse_rollover = (
        ~exchange
        & (rdelta < 0)
        & full_scale.notna()
        & (rap_prev >= share * full_scale)
        & (reverse_rollover_kwh <= plausible)
    )
    m["reverse"] = np.select(
        [~both, (rdelta < 0) & ~reverse_rollover, rdelta >= 0, reverse_rollover],
        [np.nan, np.nan, rdelta * factor, reverse_rollover_kwh],
        np.nan,
    )

    backwards = both & ~exchange & (delta < 0) & ~rollover
    pv = m["GEN_FLAG"] == "1"
    m["status"] = np.select(
        [
            m["DATA_ID"].isna(),
            ~exchange & factor.isna(),
            pap.isna(),
            prev.isna(),
            exchange & m["forward"].isna(),
            backwards,
            m["forward"].isna(),
            pv & m["reverse"].isna(),
        ],
        [
            "no data point",
            "no meter",
            "reading missing",
            "previous reading missing",
            "change record incomplete",
            "register backwards",
            "energy invalid",
            "reverse register backwards",
        ],
        "",
    )
    m["computable"] = m["status"] == ""

    settlement = m[m["USAGE_TYPE_CODE"] == "01"].assign(
        read=lambda d: d["computable"].astype(int),
        sales=lambda d: d["forward"].where(d["computable"], 0.0),
        pv_export=lambda d: d["reverse"].where(d["computable"] & (d["GEN_FLAG"] == "1"), 0.0),
    )
    per_area = settlement.groupby("TG_ID").agg(
        meter_count=("MP_ID", "size"),
        meter_read_count=("read", "sum"),
        settlement_kwh=("sales", "sum"),
        pv_kwh=("pv_export", "sum"),
    )
    checks = m[check].assign(
        missing=lambda d: d["status"].isin(
            ["no data point", "reading missing", "previous reading missing"]
        ),
        invalid=lambda d: ~d["computable"],
        reverse0=lambda d: d["reverse"].fillna(0.0),
    )
    per_check = checks.groupby("TG_ID").agg(
        missing=("missing", "any"),
        invalid=("invalid", "any"),
        check_kwh=("forward", "sum"),
        check_reverse_kwh=("reverse0", "sum"),
    )

    out = (
        areas[areas["RUN_STATUS_CODE"] == "01"][["TG_ID", "ORG_NO"]]
        .merge(per_area, left_on="TG_ID", right_index=True, how="left")
        .merge(per_check, left_on="TG_ID", right_index=True, how="left")
    )
    has_check = out["missing"].notna()  # the area has an active check meter
    out[["meter_count", "meter_read_count"]] = (
        out[["meter_count", "meter_read_count"]].fillna(0).astype("int64")
    )
    out[["settlement_kwh", "pv_kwh"]] = out[["settlement_kwh", "pv_kwh"]].fillna(0.0)
    check_reason = np.select(
        [
            ~has_check,
            out["missing"].fillna(False).astype(bool),
            out["invalid"].fillna(False).astype(bool),
        ],
        ["no check meter", "check meter reading missing", "check meter register invalid"],
        "",
    )
    check_ok = check_reason == ""
    supply = (out["check_kwh"] + out["pv_kwh"]).where(check_ok).round(4)
    sales = (out["settlement_kwh"] + out["check_reverse_kwh"]).where(check_ok).round(4)
    incomplete = (out["meter_count"] > 0) & (
        out["meter_read_count"] / out["meter_count"].where(out["meter_count"] > 0)
        < settings["completeness_min_share"]
    )
    reason = np.select(
        [~check_ok, incomplete, supply <= 0],
        [check_reason, "meter completeness below threshold", "no supply"],
        "",
    )
    computable = reason == ""
    loss = (supply - sales).where(computable).round(4)
    rate = ((supply - sales) / supply).where(computable)
    status = np.select(
        [
            ~computable,
            rate < settings["loss_rate_negative_below"],
            rate > settings["loss_rate_high_above"],
        ],
        ["uncomputable", "negative", "high"],
        "qualified",
    )
    rows = (
        pd.DataFrame(
            {
                "tg_id": out["TG_ID"],
                "data_date": day,
                "org_no": out["ORG_NO"],
                "supply_kwh": supply,
                "sales_kwh": sales,
                "loss_kwh": loss,
                "loss_rate": rate,
                "loss_status": status,
                "meter_count": out["meter_count"],
                "meter_read_count": out["meter_read_count"],
                "uncomputable_reason": pd.Series(reason, index=out.index).replace("", None),
            },
            columns=MART_COLUMNS,
        )
        .sort_values("tg_id")
        .reset_index(drop=True)
    )
    return PandasResult(day, rows, time.perf_counter() - began, files)


def compare_rows(
    rows: pd.DataFrame,
    published: Path | None = None,
    truth: Path | None = None,
    day: dt.date | None = None,
) -> dict:
    """This script's rows against the published mart and/or the truth (kWh within
    KWH_TOLERANCE, the rate within 1e-9, everything else exactly)."""
    con = duckdb.connect()
    con.register("pandas_rows", rows)
    report = {}
    if published:
        report["vs_published"] = compare_with_published(
            con, "pandas_rows", published, day, exact_kwh=False, kwh_tolerance=KWH_TOLERANCE
        )
    if truth:
        report["vs_truth"] = compare_with_truth(
            con, "pandas_rows", truth, day, exact_kwh=False, kwh_tolerance=KWH_TOLERANCE
        )
    con.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("landing", type=Path)
    parser.add_argument("day", type=dt.date.fromisoformat)
    parser.add_argument("--through", type=dt.date.fromisoformat)
    parser.add_argument("--published", type=Path)
    parser.add_argument("--truth", type=Path)
    args = parser.parse_args()
    result = area_daily_loss(args.landing, args.day, args.through)
    report = {
        "day": str(args.day),
        "rows": len(result.rows),
        "seconds": round(result.seconds, 3),
        "files": result.files.describe(),
        **compare_rows(result.rows, args.published, args.truth, args.day),
    }
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
