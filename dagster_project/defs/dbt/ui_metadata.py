"""What the materializations of the dbt assets show in the Dagster UI beyond dbt's duration.

Read from the warehouse after the dbt process has ended (DuckDB admits one writing process
per file, and dbt's is it while it runs), on one read-only connection for the whole run:
* every table model and seed: `dagster/row_count` (the table's rows after the run; views
  are not counted: counting one re-runs its query over the whole raw history, which is
  also why dagster-dbt's fetch_row_counts skips them);
* marts.area_daily_loss: the areas per 线损状态 of the run's newest day;
* marts.area_problem_list: the open findings per problem code and per 供电所, new today
  and closed today.
A run over several days (a backfill) records one materialization per day, all with these
numbers of its newest day; the labels say so.
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


def area_daily_loss_metadata(
    con: duckdb.DuckDBPyConnection, run_days: list[dt.date]
) -> dict[str, Any]:
    """The areas per 线损状态 on the newest day of the run that has rows (the first loaded
    day has none: its loss needs the day before's readings)."""
    newest = con.execute(
        "select max(data_date) from marts.area_daily_loss where data_date between ? and ?",
        [run_days[0], run_days[-1]],
    ).fetchone()[0]
    counts = dict(
        con.execute(
            "select loss_status, count(*) from marts.area_daily_loss"
            " where data_date = ? group by loss_status",
            [newest],
        ).fetchall()
    )
    total = sum(counts.values())
    lines = ["| 线损状态 | 台区数 | 占比 |", "|---|---:|---:|"]
    for status, (_, name) in LOSS_STATUSES.items():
        n = counts.get(status, 0)
        share = f"{n / total:.1%}" if total else "-"
        lines.append(f"| {name} ({status}) | {n} | {share} |")
    lines.append(f"| 合计 | {total} | |")
    return {
        "newest_day": dg.MetadataValue.text(_day_label(newest, run_days, "the run's newest day")),
        "loss_status_newest_day": dg.MetadataValue.md(
            f"台区线损状态, {_day_text(newest)} (areas by loss status, newest day of the run)"
            "\n\n" + "\n".join(lines)
        ),
        **{key: dg.MetadataValue.int(counts.get(s, 0)) for s, (key, _) in LOSS_STATUSES.items()},
        "areas_total": dg.MetadataValue.int(total),
    }


def area_problem_list_metadata(
    con: duckdb.DuckDBPyConnection, run_days: list[dt.date]
) -> dict[str, Any]:
    """Open findings of marts.area_problem_list (those detected on its as_of_date D, the
    newest day of marts.problem_history) per code and per 供电所, and
    * new today: open findings whose current run of consecutive days starts on D
      (consecutive_days = 1: not detected on D - 1);
    * closed today: findings of problem_history detected on D - 1 whose finding_key is not
      detected on D (0 when D - 1 is not in the history)."""
    as_of = con.execute("select max(as_of_date) from marts.area_problem_list").fetchone()[0]
    open_count, new_count = con.execute(
        "select count(*), count(*) filter (where consecutive_days = 1) from marts.area_problem_list"
    ).fetchone()
    closed_count = con.execute(
        "select count(*) from ("
        " select finding_key from marts.problem_history where detected_date = ? - 1"
        " except"
        " select finding_key from marts.problem_history where detected_date = ?)",
        [as_of, as_of],
    ).fetchone()[0]
    per_code = con.execute(
        "select problem_code, any_value(problem_name), count(*),"
        " count(*) filter (where consecutive_days = 1)"
        " from marts.area_problem_list group by problem_code order by problem_code"
    ).fetchall()
    per_station = con.execute(
        "select coalesce(org_name_station, '(无供电所 no station)'), count(*),"
        " count(*) filter (where consecutive_days = 1)"
        " from marts.area_problem_list group by all order by 2 desc, 1"
    ).fetchall()
    code_table = ["| 问题代码 | 问题名称 | 在途 | 今日新增 |", "|---|---|---:|---:|"]
    code_table += [f"| {code} | {name} | {n} | {new} |" for code, name, n, new in per_code]
    station_table = ["| 供电所 | 在途 | 今日新增 |", "|---|---:|---:|"]
    station_table += [f"| {name} | {n} | {new} |" for name, n, new in per_station]
    day = _day_text(as_of)
    return {
        "as_of_date": dg.MetadataValue.text(
            _day_label(as_of, run_days, "the newest day of marts.problem_history")
        ),
        "open_findings": dg.MetadataValue.int(open_count),
        "new_today": dg.MetadataValue.int(new_count),
        "closed_today": dg.MetadataValue.int(closed_count),
        "open_by_problem_code": dg.MetadataValue.md(
            f"在途问题按问题代码, {day} (open findings per problem code)\n\n"
            + "\n".join(code_table)
        ),
        "open_by_station": dg.MetadataValue.md(
            f"在途问题按供电所, {day} (open findings per 供电所)\n\n" + "\n".join(station_table)
        ),
        "definitions": dg.MetadataValue.text(
            "今日新增 new_today: open on as_of_date and not detected the day before"
            " (consecutive_days = 1); 今日关闭 closed_today: detected the day before"
            " (marts.problem_history) and not on as_of_date"
        ),
    }


def _day_text(day: dt.date | None) -> str:
    return day.isoformat() if day else "无数据 (no rows)"


def _day_label(day: dt.date | None, run_days: list[dt.date], which: str) -> str:
    """The reported day, which day it is, and that every day of a multi-day run carries it."""
    text = f"{_day_text(day)} ({which}"
    if len(run_days) > 1:
        text += (
            f"; this run covers {run_days[0]}..{run_days[-1]} and every day's"
            " materialization shows these numbers"
        )
    return text + ")"
