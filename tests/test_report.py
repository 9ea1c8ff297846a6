"""The run's HTML report (lib/report.py) on the published file of the tiny run: every
section, charts with one data element per status / day / area of a direct query, the 20
worst areas and the 同业对标 figures equal to the published marts, nothing fetched online."""

import re
import time
import xml.etree.ElementTree as ET
from decimal import Decimal
from html.parser import HTMLParser

import duckdb
import pytest

from dagster_project.lib import report

SECTIONS = ["loss-status", "worst-areas", "findings", "unit-kpis", "work-orders"]


class _Elements(HTMLParser):
    """Every start tag with its attributes, in document order, and the section it is in."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict, str | None]] = []
        self._section: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section":
            self._section = attributes.get("id")
        self.elements.append((tag, attributes, self._section))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def find(self, tag, cls=None, section=None, **attrs):
        return [
            a
            for t, a, s in self.elements
            if t == tag
            and (cls is None or cls in (a.get("class") or "").split())
            and (section is None or s == section)
            and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


@pytest.fixture(scope="module")
def built(tiny_run, tmp_path_factory):
    published = tiny_run["workdir"] / "published" / "gridaudit.duckdb"
    began = time.monotonic()
    result = report.build_report(
        published, tmp_path_factory.mktemp("reports"), tiny_run["start"], tiny_run["end"]
    )
    print(f"report built in {time.monotonic() - began:.2f} s: {result.path}")
    page = result.path.read_text(encoding="utf-8")
    parser = _Elements()
    parser.feed(page)
    con = duckdb.connect(str(published), read_only=True)
    yield {"result": result, "page": page, "html": parser, "con": con, "run": tiny_run}
    con.close()


def test_written_with_a_stable_latest_copy(built):
    result, run = built["result"], built["run"]
    assert result.path.name.startswith(f"report-{run['start']}_{run['end']}-")
    assert result.latest_path.name == "latest.html"
    assert result.latest_path.read_text(encoding="utf-8") == built["page"]
    # the pipeline's publish asset wrote one into the work directory too
    assert (run["workdir"] / "reports" / "latest.html").is_file()
    assert list((run["workdir"] / "reports").glob(f"report-{run['start']}_{run['end']}-*.html"))


def test_every_section_present(built):
    ids = [a.get("id") for a in built["html"].find("section")]
    assert ids == SECTIONS
    for title in ["台区线损状态分布", "线损率最高的 20 个台区", "问题清单", "同业对标", "工单闭环"]:
        assert title in built["page"]


def test_no_online_resources_and_well_formed_svg(built):
    page = built["page"]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"<script\b", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"@import|url\(", page, re.I)
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.S)
    assert len(svgs) >= 5
    for svg in svgs:  # each chart parses as XML: a browser draws what it declares
        ET.fromstring(svg)


def test_loss_status_charts_equal_the_mart(built):
    con, html = built["con"], built["html"]
    newest = built["result"].newest_day
    assert newest == con.execute("select max(data_date) from marts.area_daily_loss").fetchone()[0]
    today = dict(
        con.execute(
            "select loss_status, count(*) from marts.area_daily_loss where data_date = ? "
            "group by all",
            [newest],
        ).fetchall()
    )
    bars = html.find("rect", "bar", "loss-status")
    assert len(bars) == len(today) > 1
    assert {b["data-key"]: int(b["data-value"]) for b in bars} == today
    # the tiny run's days all lie within the default 30 trend days: one segment per day and
    # status with areas
    per_day = con.execute(
        "select data_date, loss_status, count(*) from marts.area_daily_loss group by all"
    ).fetchall()
    segments = html.find("rect", "seg", "loss-status")
    assert len(segments) == len(per_day)
    assert {(s["data-day"], s["data-key"]): int(s["data-value"]) for s in segments} == {
        (str(d), st): n for d, st, n in per_day
    }
    days = {str(d) for d, _, _ in per_day}
    assert {s["data-day"] for s in segments} == days and len(days) > 5


def test_worst_areas_equal_a_direct_query(built):
    con, html, page = built["con"], built["html"], built["page"]
    expected = [
        tg_id
        for (tg_id,) in con.execute(
            "select tg_id from marts.area_daily_loss "
            "where data_date = (select max(data_date) from marts.area_daily_loss) "
            "and loss_rate is not null order by loss_rate desc, tg_id limit 20"
        ).fetchall()
    ]
    rows = html.find("tr", "worst")
    assert [r["data-tg-id"] for r in rows] == expected and expected
    sparks = html.find("svg", "spark", "worst-areas")
    assert [s["data-tg-id"] for s in sparks] == expected
    # one polyline per area, its points = the area's days with a loss rate
    polylines = re.findall(
        r'<svg class="spark" data-tg-id="([^"]+)".*?<polyline [^>]*points="([^"]*)"', page, re.S
    )
    assert [tg for tg, _ in polylines] == expected
    points = dict(
        con.execute(
            "select tg_id, count(loss_rate) from marts.area_daily_loss group by tg_id"
        ).fetchall()
    )
    for tg_id, coords in polylines:
        assert len(coords.split()) == points[tg_id]


def test_findings_per_code_and_station(built):
    con, html = built["con"], built["html"]
    per_code = dict(
        con.execute(
            "select problem_code, count(*) from marts.area_problem_list group by all"
        ).fetchall()
    )
    names = dict(
        con.execute("select problem_code, problem_name from marts.dim_problem_code").fetchall()
    )
    bars = html.find("rect", "hbar", "findings")
    by_code = {b["data-key"]: int(b["data-value"]) for b in bars if b["data-key"][:3] in per_code}
    assert by_code == {f"{c} {names[c]}": n for c, n in per_code.items()}
    rows = html.find("tr", "code")
    assert len(rows) == con.execute("select count(*) from marts.dim_problem_code").fetchone()[0]
    stations = con.execute(
        "select org_no_station, count(*) from marts.area_problem_list group by all"
    ).fetchall()
    assert {r["data-org"] for r in html.find("tr", "station")} == {s for s, _ in stations}
    station_bars = [b for b in bars if b["data-key"][:3] not in per_code]
    assert sorted(int(b["data-value"]) for b in station_bars) == sorted(n for _, n in stations)


def test_kpi_table_equals_unit_kpis(built):
    con, html = built["con"], built["html"]
    kpis = con.execute(
        "select indicator_code, unit_level, org_no, numerator_value, denominator_value, "
        "indicator_value from marts.unit_kpis where period_type = 'day' and period_start = "
        "(select max(period_start) from marts.unit_kpis where period_type = 'day')"
    ).fetchall()
    rows = html.find("tr", "kpi")
    assert len(rows) == len(kpis) > 0
    shown = {
        (r["data-indicator"], r["data-level"], r["data-org"]): (
            Decimal(r["data-numerator"]),
            Decimal(r["data-denominator"]),
            float(r["data-value"]) if r["data-value"] else None,
        )
        for r in rows
    }
    assert shown == {(c, lvl, o): (n, d, v) for c, lvl, o, n, d, v in kpis}
    assert {r["data-indicator"] for r in html.find("tr", "kpi", "work-orders")} == {
        c for c, *_ in kpis if c.startswith("wo_")
    }
    assert not [r for r in html.find("tr", "kpi", "unit-kpis") if r["data-indicator"][:3] == "wo_"]
    # the Chinese indicator names of dim_kpi_indicator head the tables
    names = dict(
        con.execute("select indicator_code, indicator_name from marts.dim_kpi_indicator").fetchall()
    )
    for code in {c for c, *_ in kpis}:
        assert f"<b>{names[code]}</b>" in built["page"].replace("&quot;", '"')


def test_work_orders_by_status(built):
    con, html = built["con"], built["html"]
    expected = dict(
        con.execute("select status, count(*) from marts.work_orders group by all").fetchall()
    )
    bars = html.find("rect", "hbar", "work-orders")
    assert {b["data-key"]: int(b["data-value"]) for b in bars} == expected and expected
    assert built["result"].summary["work_orders"] == sum(expected.values())


def test_escapes_text_from_the_data(tmp_path):
    """A name with markup is shown as text, not parsed (html.escape on every text)."""
    published = tmp_path / "p.duckdb"
    with duckdb.connect(str(published)) as con:
        con.execute("create schema marts; create schema meta")
        con.execute(
            "create table marts.area_daily_loss as select 'T1' as tg_id, date '2026-09-01' "
            "as data_date, 'O1' as org_no, '<b>x</b>台区' as tg_name, 100.0 as supply_kwh, "
            "90.0 as sales_kwh, 10.0 as loss_kwh, 0.1::double as loss_rate, 'high' as loss_status"
        )
        con.execute(
            "create table marts.area_problem_list (as_of_date date, org_no_station varchar, "
            "org_name_station varchar, org_name_county varchar, problem_code varchar, "
            "severity varchar, first_detected_date date, consecutive_days int)"
        )
        con.execute(
            "create table marts.problem_history (detected_date date, finding_key varchar, "
            "problem_code varchar)"
        )
        con.execute(
            "create table marts.dim_problem_code as select 'L01' as problem_code, "
            "'<script>' as problem_name, 'c' as category, 'high' as severity"
        )
        con.execute(
            "create table marts.unit_kpis (period_type varchar, period_start date, "
            "indicator_code varchar, indicator_name varchar, value_unit varchar, "
            "unit_level varchar, unit_level_name varchar, org_no varchar, org_name varchar, "
            "numerator_value decimal(18,4), denominator_value decimal(18,4), "
            "indicator_value double, object_count bigint)"
        )
        con.execute(
            "create table marts.dim_kpi_indicator (indicator_code varchar, indicator_group "
            "varchar, numerator_name varchar, denominator_name varchar, sort_order int)"
        )
        con.execute(
            "create table marts.work_orders (status varchar, is_overdue boolean, as_of_date date)"
        )
        con.execute(
            "create table meta.publish_info (published_at timestamp, settings_fingerprint varchar)"
        )
    result = report.build_report(published, tmp_path / "reports")
    page = result.path.read_text(encoding="utf-8")
    assert "&lt;b&gt;x&lt;/b&gt;台区" in page and "<b>x</b>" not in page
    assert "<script>" not in page and "&lt;script&gt;" in page
