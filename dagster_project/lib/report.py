"""The run's HTML report (稽查日报): one static page an auditor opens offline.

Read from the published DuckDB file (read-only, what BI tools see), written to
<workdir>/reports/report-<first day>_<last day>-<timestamp>.html plus a stable copy
latest.html. Charts are inline SVG drawn here (no script, no CDN, no font download): the
page works from a mail attachment or a USB stick.

Every figure is an aggregate computed in DuckDB; only small result sets (statuses x days,
20 areas x days, codes, units x indicators) reach Python, so the build time does not grow
with the number of areas (250,000 in a province). Every text from the data goes through
html.escape.

Sections: 线损状态分布 (newest day and trend), 线损率最高的 20 个台区 (with sparklines),
问题清单 by code and by 供电所, 同业对标 (unit_kpis day rows of the newest day, ranked), 工单闭环
(wo_* indicators and work orders by status).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.lib.settings import report_trend_days

# marts.area_daily_loss.loss_status, in display order, with the Chinese names of its yml
LOSS_STATUSES = {
    "qualified": ("合格", "#2e7d32"),
    "high": ("高损", "#c62828"),
    "negative": ("负损", "#6a1b9a"),
    "uncomputable": ("不可算", "#9e9e9e"),
}
WORST_AREAS = 20

# Indicators where a smaller value ranks first (days, recurrences, overdue orders); every
# other share ranks larger first. wo_dispatched (派单数) is a volume, not a performance, and
# is listed by count without a rank.
LOWER_IS_BETTER = {"hv_connect_days", "wo_mean_close_days", "wo_recurrence_rate", "wo_overdue"}
UNRANKED = {"wo_dispatched"}
UNIT_LEVELS = {"city": "地市公司", "county": "县公司", "station": "供电所"}


@dataclass(frozen=True)
class ReportResult:
    path: Path
    latest_path: Path
    newest_day: dt.date | None
    seconds: float
    summary: dict = field(default_factory=dict)

    def markdown(self) -> str:
        """A few lines for the publish asset's metadata."""
        s = self.summary
        if self.newest_day is None:
            return "no loss data in the published file"
        statuses = " · ".join(
            f"{LOSS_STATUSES.get(k, (k,))[0]} {v:,}" for k, v in s["status_counts"].items()
        )
        return (
            f"**稽查日报 {self.newest_day}** — 台区 {statuses}\n\n"
            f"* open findings 在途问题: {s['open_findings']:,} (new 新增 {s['new_findings']:,}, "
            f"closed 消除 {s['closed_findings']:,})\n"
            f"* work orders 工单: {s['work_orders']:,} (overdue 超期 {s['overdue_orders']:,})\n"
            f"* built in {self.seconds:.2f} s: `{self.path}`"
        )


def build_report(
    published: str | Path,
    reports_dir: str | Path,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
) -> ReportResult:
    """Write the report of the run over first_day .. last_day (None: the published file's
    own days) and return where. The newest day is the newest day of
    marts.area_daily_loss up to last_day; the trends cover the run's days, at least the
    GRIDAUDIT_REPORT_TREND_DAYS days up to the newest day (a daily run still shows a trend)."""
    began = time.monotonic()
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(published), read_only=True) as con:
        data = _query(con, first_day, last_day)
    first_label = first_day or data["trend_from"] or "none"
    last_label = last_day or data["newest"] or "none"
    name = f"report-{first_label}_{last_label}-{dt.datetime.now():%Y%m%dT%H%M%S}.html"
    path = reports_dir / name
    page = _render(data, first_day, last_day)
    _write_atomically(path, page)
    latest = reports_dir / "latest.html"
    tmp = latest.with_suffix(".html.tmp")
    shutil.copyfile(path, tmp)
    os.replace(tmp, latest)
    summary = {
        "status_counts": dict(sorted(data["status_today"], key=lambda s: _status_order(s[0]))),
        "open_findings": sum(r["open"] for r in data["codes"]),
        "new_findings": sum(r["new"] for r in data["codes"]),
        "closed_findings": sum(r["closed"] for r in data["codes"]),
        "work_orders": sum(n for _, n, _ in data["wo_status"]),
        "overdue_orders": sum(o for _, _, o in data["wo_status"]),
    }
    return ReportResult(path, latest, data["newest"], time.monotonic() - began, summary)


# ---------------------------------------------------------------------------- queries


def _rows(con, sql: str, params=()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _query(con, first_day: dt.date | None, last_day: dt.date | None) -> dict:
    upper = last_day or dt.date(9999, 12, 31)
    newest = con.execute(
        "select max(data_date) from marts.area_daily_loss where data_date <= ?", [upper]
    ).fetchone()[0]
    data: dict = {"newest": newest, "trend_from": None}
    if newest is not None:
        trend_from = newest - dt.timedelta(days=report_trend_days() - 1)
        if first_day is not None:
            trend_from = min(trend_from, first_day)
        # not before the first day with loss data (the first loaded day + 1)
        oldest = con.execute("select min(data_date) from marts.area_daily_loss").fetchone()[0]
        trend_from = max(trend_from, oldest)
        data["trend_from"] = trend_from
        window = [trend_from, newest]
        data["status_by_day"] = con.execute(
            "select data_date, loss_status, count(*) from marts.area_daily_loss "
            "where data_date between ? and ? group by all order by data_date, loss_status",
            window,
        ).fetchall()
        data["status_today"] = con.execute(
            "select loss_status, count(*) from marts.area_daily_loss where data_date = ? "
            "group by all order by loss_status",
            [newest],
        ).fetchall()
        # the mart's own ranking: computable areas (a loss rate) by loss rate, ties by id
        worst_sql = (
            "select tg_id, tg_name, org_no, loss_status, loss_rate, supply_kwh, sales_kwh, "
            "loss_kwh from marts.area_daily_loss where data_date = ? "
            "and loss_status <> 'uncomputable' and loss_rate is not null "
            f"order by loss_rate desc, tg_id limit {WORST_AREAS}"
        )
        data["worst"] = _rows(con, worst_sql, [newest])
        data["sparks"] = con.execute(
            f"with worst as ({worst_sql}) select l.tg_id, l.data_date, l.loss_rate "
            "from marts.area_daily_loss l semi join worst using (tg_id) "
            "where l.data_date between ? and ? order by l.tg_id, l.data_date",
            [newest, *window],
        ).fetchall()
    else:
        data.update(status_by_day=[], status_today=[], worst=[], sparks=[])

    as_of = con.execute("select max(as_of_date) from marts.area_problem_list").fetchone()[0]
    if as_of is None:
        as_of = con.execute(
            "select max(detected_date) from marts.problem_history where detected_date <= ?",
            [upper],
        ).fetchone()[0]
    data["as_of"] = as_of
    # closed today: a finding of the day before as_of that is not open on as_of
    data["codes"] = _rows(
        con,
        """
        with open_now as (
            select problem_code, count(*) as open,
                count(*) filter (where first_detected_date = as_of_date) as new,
                count(*) filter (where consecutive_days >= 7) as week_or_more
            from marts.area_problem_list group by problem_code
        ), closed as (
            select y.problem_code, count(*) as closed
            from marts.problem_history y
            anti join marts.problem_history t
                on t.finding_key = y.finding_key and t.detected_date = ?::date
            where y.detected_date = ?::date - 1
            group by y.problem_code
        )
        select d.problem_code, d.problem_name, d.category, d.severity,
            coalesce(o.open, 0) as open, coalesce(o.new, 0) as new,
            coalesce(o.week_or_more, 0) as week_or_more, coalesce(c.closed, 0) as closed
        from marts.dim_problem_code d
        left join open_now o using (problem_code)
        left join closed c using (problem_code)
        order by open desc, d.problem_code
        """,
        [as_of, as_of],
    )
    data["stations"] = _rows(
        con,
        """
        with per_code as (
            select org_no_station, problem_code, count(*) as n
            from marts.area_problem_list group by all
        ), top_codes as (
            select org_no_station,
                string_agg(problem_code || '×' || n, ' ' order by n desc, problem_code)
                    as codes
            from per_code group by all
        )
        select p.org_no_station, any_value(p.org_name_station) as org_name_station,
            any_value(p.org_name_county) as org_name_county, count(*) as open,
            count(*) filter (where p.severity = 'high') as high,
            count(*) filter (where p.first_detected_date = p.as_of_date) as new,
            any_value(t.codes) as codes
        from marts.area_problem_list p
        left join top_codes t on t.org_no_station is not distinct from p.org_no_station
        group by p.org_no_station
        order by open desc, p.org_no_station nulls last
        """,
    )

    kpi_day = con.execute(
        "select max(period_start) from marts.unit_kpis where period_type = 'day' "
        "and period_start <= ?",
        [upper],
    ).fetchone()[0]
    data["kpi_day"] = kpi_day
    lower = ", ".join(f"'{c}'" for c in sorted(LOWER_IS_BETTER))
    data["kpis"] = _rows(
        con,
        f"""
        select k.indicator_code, k.indicator_name, k.value_unit, k.unit_level,
            k.unit_level_name, k.org_no, k.org_name, k.numerator_value, k.denominator_value,
            k.indicator_value, k.object_count, i.indicator_group, i.numerator_name,
            i.denominator_name, i.sort_order,
            case when k.indicator_value is null then null else rank() over (
                partition by k.indicator_code, k.unit_level
                order by case when k.indicator_code in ({lower}) then k.indicator_value
                    else -k.indicator_value end nulls last
            ) end as rank
        from marts.unit_kpis k
        left join marts.dim_kpi_indicator i using (indicator_code)
        where k.period_type = 'day' and k.period_start = ?
        order by i.sort_order, k.indicator_code,
            case k.unit_level when 'city' then 1 when 'county' then 2 else 3 end,
            rank nulls last, k.org_no
        """,
        [kpi_day],
    )
    data["wo_status"] = con.execute(
        "select status, count(*), count(*) filter (where is_overdue) "
        "from marts.work_orders group by status order by count(*) desc, status"
    ).fetchall()
    data["wo_as_of"] = con.execute("select max(as_of_date) from marts.work_orders").fetchone()[0]
    info = con.execute(
        "select published_at, settings_fingerprint from meta.publish_info limit 1"
    ).fetchone()
    data["published_at"], data["fingerprint"] = info if info else (None, None)
    return data


# ---------------------------------------------------------------------------- rendering


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _exact(value) -> str:
    """A value as written in a data- attribute: exact (repr of a DOUBLE, str of a DECIMAL)."""
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _num(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal | int) and value == int(value):
        return f"{int(value):,}"
    return f"{float(value):,.2f}"


def _kpi_value(value, unit: str | None) -> str:
    if value is None:
        return "—"
    if unit == "share":
        return _pct(value)
    if unit == "days":
        return f"{value:,.1f} 天"
    return _num(value)


def _status_name(status: str) -> str:
    return LOSS_STATUSES.get(status, (status,))[0]


def _status_color(status: str) -> str:
    return LOSS_STATUSES.get(status, (None, "#607d8b"))[1]


def _status_order(status: str) -> int:
    return list(LOSS_STATUSES).index(status) if status in LOSS_STATUSES else len(LOSS_STATUSES)


def _bar_chart(items: list[tuple[str, int, str, str]], chart_id: str) -> str:
    """Vertical bars: (label, value, color, data key) -> one <rect class="bar"> each."""
    width, height, pad = max(80 * len(items), 240), 200, 28
    top = max((v for _, v, _, _ in items), default=0) or 1
    bars = []
    for i, (label, value, color, key) in enumerate(items):
        h = (height - 2 * pad) * value / top
        x = 20 + i * 80
        y = height - pad - h
        bars.append(
            f'<rect class="bar" data-key="{_e(key)}" data-value="{value}" x="{x}" '
            f'y="{y:.1f}" width="48" height="{h:.1f}" fill="{color}">'
            f"<title>{_e(label)}: {value:,}</title></rect>"
            f'<text x="{x + 24}" y="{y - 4:.1f}" text-anchor="middle">{value:,}</text>'
            f'<text x="{x + 24}" y="{height - 8}" text-anchor="middle">{_e(label)}</text>'
        )
    return (
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img">{"".join(bars)}</svg>'
    )


def _stacked_days(rows: list[tuple[dt.date, str, int]], chart_id: str) -> str:
    """Stacked bars per day: one <rect class="seg"> per (day, status) with areas."""
    days = sorted({d for d, _, _ in rows})
    if not days:
        return '<p class="muted">无数据 no data</p>'
    per_day: dict[dt.date, list[tuple[str, int]]] = {d: [] for d in days}
    for d, status, n in rows:
        per_day[d].append((status, n))
    top = max(sum(n for _, n in v) for v in per_day.values()) or 1
    step = max(14, min(40, 900 // len(days)))
    width, height, pad = 50 + step * len(days), 220, 30
    parts = []
    for i, d in enumerate(days):
        x = 40 + i * step
        y = height - pad
        for status, n in sorted(per_day[d], key=lambda s: _status_order(s[0])):
            h = (height - 2 * pad) * n / top
            y -= h
            parts.append(
                f'<rect class="seg" data-day="{d}" data-key="{_e(status)}" data-value="{n}" '
                f'x="{x}" y="{y:.1f}" width="{step - 3}" height="{h:.1f}" '
                f'fill="{_status_color(status)}"><title>{d} {_e(_status_name(status))}: '
                f"{n:,}</title></rect>"
            )
        if i % max(1, len(days) // 10) == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{x + (step - 3) / 2:.1f}" y="{height - 12}" '
                f'text-anchor="middle">{d:%m-%d}</text>'
            )
    parts.append(f'<text x="2" y="{pad}">{top:,}</text>')
    return (
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img">{"".join(parts)}</svg>'
    )


def _hbars(items: list[tuple[str, int]], chart_id: str, color: str = "#1565c0") -> str:
    """Horizontal bars: (label, value) -> one <rect class="hbar"> each."""
    if not items:
        return '<p class="muted">无数据 no data</p>'
    row, label_w, bar_w = 22, 260, 360
    top = max(v for _, v in items) or 1
    height = row * len(items) + 6
    parts = []
    for i, (label, value) in enumerate(items):
        y = 3 + i * row
        w = bar_w * value / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{_e(label)}</text>'
            f'<rect class="hbar" data-key="{_e(label)}" data-value="{value}" x="{label_w}" '
            f'y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{color}">'
            f"<title>{_e(label)}: {value:,}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + 15}">{value:,}</text>'
        )
    width = label_w + bar_w + 60
    return (
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img">{"".join(parts)}</svg>'
    )


def _sparkline(tg_id: str, points: list[tuple[dt.date, float | None]], days: list) -> str:
    """The area's loss rate over the window: one <polyline>, uncomputable days left out."""
    width, height = 160, 32
    index = {d: i for i, d in enumerate(days)}
    values = [(index[d], float(r)) for d, r in points if r is not None and d in index]
    if not values:
        return ""
    low = min(min(r for _, r in values), 0.0)
    high = max(max(r for _, r in values), low + 1e-9)
    span_x = max(len(days) - 1, 1)

    def xy(i, r):
        return (2 + (width - 4) * i / span_x, height - 2 - (height - 4) * (r - low) / (high - low))

    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, r) for i, r in values))
    lx, ly = xy(*values[-1])
    zero_y = xy(0, 0.0)[1]
    return (
        f'<svg class="spark" data-tg-id="{_e(tg_id)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">'
        f'<line x1="0" x2="{width}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" stroke="#ccc"/>'
        f'<polyline fill="none" stroke="#c62828" stroke-width="1.5" points="{coords}"/>'
        f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.5" fill="#c62828"/></svg>'
    )


CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:0;
 color:#222;background:#f5f6f8}
header{background:#0d47a1;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}
main{padding:8px 28px 40px;max-width:1200px}
section{background:#fff;border-radius:6px;padding:12px 20px;margin:16px 0;
 box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:18px;border-left:4px solid #0d47a1;padding-left:8px}
h2 small,.muted{color:#777;font-weight:normal}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:left}
th{background:#eef2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg.chart text{font-size:11px;fill:#333}.legend span{margin-right:14px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#eef2f7;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:22px}details{margin:6px 0}summary{cursor:pointer}
.flex{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
"""


def _render(data: dict, first_day, last_day) -> str:
    newest = data["newest"]
    window = f"{first_day or data['trend_from']} .. {last_day or newest}"
    sections = [
        _section_status(data),
        _section_worst(data),
        _section_findings(data),
        _section_kpis(data),
        _section_work_orders(data),
    ]
    generated = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>稽查日报 gridaudit report {_e(newest)}</title><style>{CSS}</style></head>"
        f"<body><header><h1>营销稽查日报 · Audit report {_e(newest)}</h1>"
        f"<p>运行区间 run window {_e(window)} · 发布时间 published {_e(data['published_at'])}"
        f" · 阈值指纹 settings {_e(data['fingerprint'])} · 生成 generated {_e(generated)}</p>"
        f"</header><main>{''.join(sections)}</main></body></html>"
    )


def _section_status(data: dict) -> str:
    today = sorted(data["status_today"], key=lambda s: _status_order(s[0]))
    total = sum(n for _, n in today)
    cards = "".join(
        f'<div class="card">{_e(_status_name(s))} <span class="muted">{_e(s)}</span>'
        f"<b>{n:,}</b>{n / total:.1%}</div>"
        for s, n in today
    )
    bar = _bar_chart(
        [(_status_name(s), n, _status_color(s), s) for s, n in today], "loss-status-today"
    )
    legend = "".join(
        f'<span><i style="background:{c}"></i>{name} {_e(k)}</span>'
        for k, (name, c) in LOSS_STATUSES.items()
    )
    trend = _stacked_days(data["status_by_day"], "loss-status-trend")
    return (
        '<section id="loss-status"><h2>台区线损状态分布 <small>loss status of the newest day '
        f"{_e(data['newest'])}, {total:,} 台区</small></h2>"
        f'<div class="cards">{cards}</div><div class="flex">{bar}</div>'
        f"<h3>趋势 trend {_e(data['trend_from'])} .. {_e(data['newest'])}</h3>"
        f'<p class="legend">{legend}</p>{trend}</section>'
    )


def _section_worst(data: dict) -> str:
    days = sorted({d for d, _, _ in data["status_by_day"]})
    by_area: dict[str, list] = {}
    for tg_id, day, rate in data["sparks"]:
        by_area.setdefault(tg_id, []).append((day, rate))
    rows = "".join(
        f'<tr class="worst" data-tg-id="{_e(r["tg_id"])}"><td class="n">{i}</td>'
        f"<td>{_e(r['tg_id'])}</td><td>{_e(r['tg_name'])}</td><td>{_e(r['org_no'])}</td>"
        f'<td>{_e(_status_name(r["loss_status"]))}</td><td class="n">{_pct(r["loss_rate"])}</td>'
        f'<td class="n">{_num(r["supply_kwh"])}</td><td class="n">{_num(r["sales_kwh"])}</td>'
        f'<td class="n">{_num(r["loss_kwh"])}</td>'
        f"<td>{_sparkline(r['tg_id'], by_area.get(r['tg_id'], []), days)}</td></tr>"
        for i, r in enumerate(data["worst"], 1)
    )
    return (
        f'<section id="worst-areas"><h2>线损率最高的 {WORST_AREAS} 个台区 <small>worst '
        f"areas of {_e(data['newest'])} among computable areas, loss-rate sparkline "
        f"{_e(data['trend_from'])} .. {_e(data['newest'])}</small></h2>"
        "<table><tr><th>#</th><th>台区标识</th><th>台区名称</th><th>供电单位</th><th>状态</th>"
        "<th>线损率</th><th>供电量 kWh</th><th>售电量 kWh</th><th>线损电量 kWh</th>"
        f"<th>线损率趋势</th></tr>{rows}</table></section>"
    )


def _section_findings(data: dict) -> str:
    codes = data["codes"]
    chart = _hbars(
        [(f"{c['problem_code']} {c['problem_name'] or ''}", c["open"]) for c in codes if c["open"]],
        "findings-by-code",
    )
    code_rows = "".join(
        f'<tr class="code" data-code="{_e(c["problem_code"])}"><td>{_e(c["problem_code"])}</td>'
        f"<td>{_e(c['problem_name'])}</td><td>{_e(c['category'])}</td>"
        f'<td>{_e(c["severity"])}</td><td class="n">{c["open"]:,}</td>'
        f'<td class="n">{c["new"]:,}</td><td class="n">{c["closed"]:,}</td>'
        f'<td class="n">{c["week_or_more"]:,}</td></tr>'
        for c in codes
    )
    stations = data["stations"]
    station_chart = _hbars(
        [(s["org_name_station"] or s["org_no_station"] or "未知", s["open"]) for s in stations],
        "findings-by-station",
        color="#ef6c00",
    )
    station_rows = "".join(
        f'<tr class="station" data-org="{_e(s["org_no_station"])}">'
        f"<td>{_e(s['org_no_station'])}</td><td>{_e(s['org_name_station'])}</td>"
        f'<td>{_e(s["org_name_county"])}</td><td class="n">{s["open"]:,}</td>'
        f'<td class="n">{s["high"]:,}</td><td class="n">{s["new"]:,}</td>'
        f"<td>{_e(s['codes'])}</td></tr>"
        for s in stations
    )
    return (
        '<section id="findings"><h2>问题清单 <small>open findings (marts.area_problem_list) '
        f"as of {_e(data['as_of'])}</small></h2><h3>按问题代码 by problem code</h3>{chart}"
        "<details><summary>明细 table</summary><table><tr><th>代码</th><th>问题名称</th>"
        "<th>专业分类</th><th>严重程度</th><th>在途 open</th><th>今日新增 new</th>"
        f"<th>今日消除 closed</th><th>连续≥7天</th></tr>{code_rows}</table></details>"
        f"<h3>按供电所 by 供电所</h3>{station_chart}"
        "<details><summary>明细 table</summary><table><tr><th>供电所编号</th><th>供电所</th>"
        "<th>县公司</th><th>在途 open</th><th>严重 high</th><th>今日新增 new</th>"
        f"<th>问题代码 codes</th></tr>{station_rows}</table></details></section>"
    )


def _kpi_tables(rows: list[dict], open_first: bool) -> str:
    by_indicator: dict[str, list[dict]] = {}
    for r in rows:
        by_indicator.setdefault(r["indicator_code"], []).append(r)
    blocks = []
    for n, (code, items) in enumerate(by_indicator.items()):
        head = items[0]
        direction = (
            "按数量 by count"
            if code in UNRANKED
            else ("越小越好 lower is better" if code in LOWER_IS_BETTER else "越大越好")
        )
        body = "".join(
            f'<tr class="kpi" data-indicator="{_e(code)}" data-level="{_e(r["unit_level"])}" '
            f'data-org="{_e(r["org_no"])}" data-numerator="{_e(r["numerator_value"])}" '
            f'data-denominator="{_e(r["denominator_value"])}" '
            f'data-value="{_e(_exact(r["indicator_value"]))}">'
            f'<td class="n">{"" if code in UNRANKED or r["rank"] is None else r["rank"]}</td>'
            f"<td>{_e(r['unit_level_name'] or UNIT_LEVELS.get(r['unit_level']))}</td>"
            f"<td>{_e(r['org_no'])}</td><td>{_e(r['org_name'])}</td>"
            f'<td class="n">{_kpi_value(r["indicator_value"], r["value_unit"])}</td>'
            f'<td class="n">{_num(r["numerator_value"])}</td>'
            f'<td class="n">{_num(r["denominator_value"])}</td>'
            f'<td class="n">{_num(r["object_count"])}</td></tr>'
            for r in items
        )
        blocks.append(
            f'<details class="indicator" data-indicator="{_e(code)}"'
            f"{' open' if open_first and n == 0 else ''}><summary><b>{_e(head['indicator_name'])}"
            f"</b> <span class='muted'>{_e(code)} · {_e(head['indicator_group'])} · "
            f"{direction}</span></summary><table><tr><th>排名</th><th>层级</th><th>单位编号</th>"
            f"<th>单位名称</th><th>指标值</th><th>分子 {_e(head['numerator_name'])}</th>"
            f"<th>分母 {_e(head['denominator_name'])}</th><th>对象数</th></tr>{body}</table>"
            "</details>"
        )
    return "".join(blocks) or '<p class="muted">无数据 no data</p>'


def _section_kpis(data: dict) -> str:
    rows = [r for r in data["kpis"] if not r["indicator_code"].startswith("wo_")]
    return (
        f'<section id="unit-kpis"><h2>同业对标 <small>marts.unit_kpis, day {_e(data["kpi_day"])}'
        ", ranked within each unit level (地市公司 / 县公司 / 供电所)</small></h2>"
        f"{_kpi_tables(rows, open_first=True)}</section>"
    )


def _section_work_orders(data: dict) -> str:
    rows = [r for r in data["kpis"] if r["indicator_code"].startswith("wo_")]
    top = [r for r in rows if r["unit_level"] == "city"]
    cards = "".join(
        f'<div class="card">{_e(r["indicator_name"])} <span class="muted">{_e(r["org_name"])}'
        f"</span><b>{_kpi_value(r['indicator_value'], r['value_unit'])}</b>"
        f"{_num(r['numerator_value'])} / {_num(r['denominator_value'])}</div>"
        for r in top
    )
    chart = _hbars([(s, n) for s, n, _ in data["wo_status"]], "work-orders-by-status", "#00838f")
    status_rows = "".join(
        f'<tr class="wo-status" data-status="{_e(s)}"><td>{_e(s)}</td><td class="n">{n:,}</td>'
        f'<td class="n">{o:,}</td></tr>'
        for s, n, o in data["wo_status"]
    )
    return (
        '<section id="work-orders"><h2>工单闭环 <small>work-order loop: wo_* indicators of '
        f"{_e(data['kpi_day'])}, orders by status as of {_e(data['wo_as_of'])}</small></h2>"
        f'<div class="cards">{cards}</div><h3>工单状态 orders by status</h3>'
        f'<div class="flex">{chart}<table><tr><th>状态</th><th>工单数</th><th>其中超期</th>'
        f"</tr>{status_rows}</table></div><h3>逐级考核 per unit</h3>"
        f"{_kpi_tables(rows, open_first=False)}</section>"
    )


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
