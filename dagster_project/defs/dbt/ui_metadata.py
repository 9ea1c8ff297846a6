"""What the materializations of the dbt assets show in the Dagster UI beyond dbt's duration.

Read from the warehouse after the dbt process has ended (DuckDB admits one writing process
per file, and dbt's is it while it runs), on one read-only connection for the whole run:
* every table model and seed: `dagster/row_count` (the table's rows after the run; views
  are not counted: counting one re-runs its query over the whole raw history, which is
  also why dagster-dbt's fetch_row_counts skips them);
* marts.area_daily_loss: the areas per 线损状态, each day's on its own partition;
* marts.area_problem_list: the open findings per problem code, new today and closed today,
  each day's on its own partition (from marts.problem_history), and per 供电所 on the
  newest day.
A run over several days (a backfill) records one materialization per day: each day shows
its own numbers, so Dagster's plots of the numeric ones show the trend over the days.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb

AREA_DAILY_LOSS = dg.AssetKey(["marts", "area_daily_loss"])
AREA_PROBLEM_LIST = dg.AssetKey(["marts", "area_problem_list"])

# marts.area_daily_loss.loss_status (its accepted values) -> metadata key and Chinese name,
# in the order the table shows them.
LOSS_STATUSES = {
    "qualified": ("areas_qualified", "合格"),
    "high": ("areas_high_loss", "高损"),
    "negative": ("areas_negative_loss", "负损"),
    "uncomputable": ("areas_uncomputable", "不可算"),
}


def row_counts(
    con: duckdb.DuckDBPyConnection, relations: Mapping[dg.AssetKey, str]
) -> dict[dg.AssetKey, int]:
    """count(*) of each asset's relation (dbt's relation_name: "db"."schema"."table")."""
    return {
        key: con.execute(f"select count(*) from {relation}").fetchone()[0]
        for key, relation in relations.items()
    }


def area_daily_loss_by_day(
    con: duckdb.DuckDBPyConnection, run_days: list[dt.date]
) -> dict[dt.date, dict[str, Any]]:
    """The areas per 线损状态 of every day of the run that has rows (the first loaded day has
    none: its loss needs the day before's readings), each for its own partition."""
    counts: dict[dt.date, dict[str, int]] = {}
    for day, status, n in con.execute(
        "select data_date, loss_status, count(*) from marts.area_daily_loss"
        " where data_date between ? and ? group by all",
        [run_days[0], run_days[-1]],
    ).fetchall():
        counts.setdefault(day, {})[status] = n
    return {day: _loss_status_metadata(day, day_counts) for day, day_counts in counts.items()}


def _loss_status_metadata(day: dt.date, counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.values())
    lines = ["| 线损状态 | 台区数 | 占比 |", "|---|---:|---:|"]
    for status, (_, name) in LOSS_STATUSES.items():
        n = counts.get(status, 0)
        share = f"{n / total:.1%}" if total else "-"
        lines.append(f"| {name} ({status}) | {n} | {share} |")
    lines.append(f"| 合计 | {total} | |")
    return {
        "status_day": dg.MetadataValue.text(day.isoformat()),
        "loss_status": dg.MetadataValue.md(
            f"台区线损状态, {day} (areas by loss status)\n\n" + "\n".join(lines)
        ),
        **{key: dg.MetadataValue.int(counts.get(s, 0)) for s, (key, _) in LOSS_STATUSES.items()},
        "areas_total": dg.MetadataValue.int(total),
    }


def area_problem_list_by_day(
    con: duckdb.DuckDBPyConnection, run_days: list[dt.date]
) -> dict[dt.date, dict[str, Any]]:
    """For every day D of the run that marts.problem_history has, on D's own partition: the
    findings open on D per problem code, and
    * new today: findings of D whose current run of consecutive days starts on D
      (consecutive_days = 1: not detected on D - 1);
    * closed today: findings detected on D - 1 whose finding_key is not detected on D.
    The newest day (marts.area_problem_list's as_of_date) also gets them per 供电所 (the
    problem list carries the units; the history keeps only keys)."""
    first, last = run_days[0], run_days[-1]
    closed = dict(
        con.execute(
            "select h.detected_date + 1, count(*) from marts.problem_history h"
            " where h.detected_date between ? - 1 and ? - 1 and not exists ("
            "  select 1 from marts.problem_history n"
            "  where n.detected_date = h.detected_date + 1 and n.finding_key = h.finding_key)"
            " group by 1",
            [first, last],
        ).fetchall()
    )
    per_code: dict[dt.date, list] = {}
    for day, code, name, n, new in con.execute(
        "select h.detected_date, h.problem_code, any_value(p.problem_name), count(*),"
        " count(*) filter (where h.consecutive_days = 1)"
        " from marts.problem_history h left join marts.dim_problem_code p using (problem_code)"
        " where h.detected_date between ? and ? group by 1, 2 order by 1, 2",
        [first, last],
    ).fetchall():
        per_code.setdefault(day, []).append((code, name, n, new))
    out = {}
    for day, codes in per_code.items():
        n, new = sum(c[2] for c in codes), sum(c[3] for c in codes)  # the day's totals
        code_table = ["| 问题代码 | 问题名称 | 在途 | 今日新增 |", "|---|---|---:|---:|"]
        code_table += [f"| {c} | {name} | {k} | {w} |" for c, name, k, w in codes]
        out[day] = {
            "as_of_date": dg.MetadataValue.text(day.isoformat()),
            "open_findings": dg.MetadataValue.int(n),
            "new_today": dg.MetadataValue.int(new),
            "closed_today": dg.MetadataValue.int(closed.get(day, 0)),
            "open_by_problem_code": dg.MetadataValue.md(
                f"在途问题按问题代码, {day} (open findings per problem code)\n\n"
                + "\n".join(code_table)
            ),
            "definitions": dg.MetadataValue.text(
                "今日新增 new_today: open on as_of_date and not detected the day before"
                " (consecutive_days = 1); 今日关闭 closed_today: detected the day before"
                " (marts.problem_history) and not on as_of_date"
            ),
        }
    as_of = con.execute("select max(as_of_date) from marts.area_problem_list").fetchone()[0]
    if as_of in out:
        per_station = con.execute(
            "select coalesce(org_name_station, '(无供电所 no station)'), count(*),"
            " count(*) filter (where consecutive_days = 1)"
            " from marts.area_problem_list group by all order by 2 desc, 1"
        ).fetchall()
        station_table = ["| 供电所 | 在途 | 今日新增 |", "|---|---:|---:|"]
        station_table += [f"| {name} | {k} | {w} |" for name, k, w in per_station]
        out[as_of]["open_by_station"] = dg.MetadataValue.md(
            f"在途问题按供电所, {as_of} (open findings per 供电所)\n\n" + "\n".join(station_table)
        )
    return out
