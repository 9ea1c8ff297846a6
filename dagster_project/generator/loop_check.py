"""The work-order loop as published against the generator's truth (docs/work-orders.md):
`marts.work_orders` against truth/work_orders.csv and the loop KPIs (`wo_*`) of
`marts.unit_kpis` against truth/work_order_kpis.csv. Used by tests/test_work_order_loop.py
on tiny and, for a whole preset such as demo, from the command line:

    python -m dagster_project.generator.loop_check \
        --published data/work/published/gridaudit.duckdb --truth data/truth

Each comparison returns its differences as readable lines (empty: equal) and a summary.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.generator.work_orders import KPI_CODES

# the columns of marts.work_orders the generator's simulation predicts
ORDER_FIELDS = (
    "problem_code",
    "org_no",
    "dispatch_date",
    "answer_deadline",
    "status",
    "is_overdue",
    "first_answer_date",
    "rectified_date",
    "verified_date",
    "archived_date",
    "archive_reason",
    "ineffective_date",
    "previous_work_order_no",
    "is_recurrence",
)
LOOP_INDICATORS = KPI_CODES  # the generator's truth holds exactly these
SHOWN = 10  # differing rows shown per field


def query(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value as text, so a CSV and a DuckDB table compare cell by cell (dates as
    YYYY-MM-DD, booleans as true/false, missing as '')."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values):
            values = values.map({True: "true", False: "false"})
        elif pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%d")
        out[column] = (
            values.astype(object)
            .where(values.notna(), "")
            .astype(str)
            .str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1", regex=True)
            .replace({"True": "true", "False": "false", "nan": "", "None": "", "<NA>": ""})
        )
    return out


def compare_orders(published: Path, truth_dir: Path) -> tuple[list[str], pd.DataFrame]:
    """Differences between marts.work_orders and truth/work_orders.csv, and the published
    orders as text."""
    got = as_text(query(published, "select * from marts.work_orders"))
    truth = as_text(pd.read_csv(truth_dir / "work_orders.csv", dtype=str).fillna(""))
    merged = truth.merge(
        got, on="work_order_no", how="outer", suffixes=("_truth", "_got"), indicator=True
    )
    problems = [
        f"order {r.work_order_no}: only in the {'truth' if r._merge == 'left_only' else 'mart'}"
        for r in merged[merged["_merge"] != "both"].head(SHOWN * 2).itertuples()
    ]
    both = merged[merged["_merge"] == "both"]
    for field in ORDER_FIELDS:
        differ = both[both[f"{field}_truth"] != both[f"{field}_got"]]
        problems += [
            f"order {r['work_order_no']} {field}: truth {r[f'{field}_truth']!r}, "
            f"published {r[f'{field}_got']!r}"
            for _, r in differ.head(SHOWN).iterrows()
        ]
        if len(differ) > SHOWN:
            problems.append(f"... {field} differs on {len(differ)} orders")
    return problems, got


def compare_kpis(published: Path, truth_dir: Path) -> tuple[list[str], pd.DataFrame]:
    """Differences between the wo_* rows of marts.unit_kpis and truth/work_order_kpis.csv
    (numerator and denominator, day and month, every unit), and the truth table.

    marts.unit_kpis gives every unit a row (0 / 0 when it has no order) for an indicator
    with objects on that day or month anywhere, and no row when it has none anywhere; the
    truth lists every unit, period and indicator."""
    got = query(
        published,
        "select org_no, period_type, cast(period_start as varchar) as period_start,"
        " indicator_code, numerator_value as numerator, denominator_value as denominator"
        " from marts.unit_kpis where indicator_code like 'wo\\_%' escape '\\'",
    )
    truth = pd.read_csv(
        truth_dir / "work_order_kpis.csv", dtype={"org_no": str, "period_start": str}
    )
    problems = []
    if set(truth["indicator_code"]) != set(LOOP_INDICATORS):
        problems.append(f"truth indicators {sorted(set(truth['indicator_code']))}")
    key = ["org_no", "period_type", "period_start", "indicator_code"]
    period = ["period_type", "period_start", "indicator_code"]
    has_objects = truth.groupby(period)["denominator"].transform(lambda d: d.fillna(0).sum() > 0)
    if truth.loc[~has_objects, "numerator"].fillna(0).any():
        problems.append("truth: a numerator without a denominator")
    merged = truth[has_objects].merge(
        got, on=key, how="outer", suffixes=("_truth", "_got"), indicator=True
    )
    for r in merged[merged["_merge"] != "both"].head(SHOWN * 2).itertuples():
        where = "truth" if r._merge == "left_only" else "mart"
        problems.append(
            f"{r.indicator_code} {r.org_no} {r.period_type} {r.period_start}: only in the {where}"
        )
    for part in ("numerator", "denominator"):
        t = merged[f"{part}_truth"].fillna(-1).astype(float)
        g = merged[f"{part}_got"].fillna(-1).astype(float)
        differ = merged[((t - g).abs() > 1e-9) & (merged["_merge"] == "both")]
        problems += [
            f"{r.indicator_code} {r.org_no} {r.period_type} {r.period_start} {part}: truth "
            f"{getattr(r, part + '_truth')}, published {getattr(r, part + '_got')}"
            for r in differ.head(SHOWN).itertuples()
        ]
        if len(differ) > SHOWN:
            problems.append(f"... {part} differs on {len(differ)} rows")
    return problems, truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--published", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    args = parser.parse_args(argv)
    order_problems, orders = compare_orders(args.published, args.truth)
    kpi_problems, kpis = compare_kpis(args.published, args.truth)
    statuses = orders["status"].value_counts().to_dict()
    print(f"marts.work_orders: {len(orders)} orders, {statuses}")
    print(
        f"  overdue {(orders['is_overdue'] == 'true').sum()}, re-dispatched "
        f"{(orders['previous_work_order_no'] != '').sum()}, recurrences "
        f"{(orders['is_recurrence'] == 'true').sum()}"
    )
    print(f"loop KPIs: {len(kpis)} truth rows, nonzero numerators per indicator:")
    for code, n in (kpis["numerator"].fillna(0) > 0).groupby(kpis["indicator_code"]).sum().items():
        print(f"  {code:20} {n}")
    for line in order_problems + kpi_problems:
        print("DIFFERS", line)
    verdict = "equal" if not (order_problems or kpi_problems) else "DIFFERENT"
    print(f"orders and loop KPIs vs truth: {verdict}")
    return 0 if verdict == "equal" else 1


if __name__ == "__main__":
    sys.exit(main())
