"""BI access to the published file as the README's "Connecting a BI tool" gives it: the
Superset SQLAlchemy URI through duckdb-engine (read-only), the `bi` views equal to the
marts they read, their Chinese comments, masked personal data, the atomic replace seen
from an open connection, a new process and the same process, the DuckDB 1.x command
line, and the Excel CSV export with a BOM. Reuses the session's tiny run."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from dagster_project.lib import bi_views
from dagster_project.lib import publish as pub
from dagster_project.lib.report import LOSS_STATUSES, LOWER_IS_BETTER, UNRANKED
from dagster_project.lib.settings import REPO_ROOT

VIEWS = {f"bi.{v.name}" for v in bi_views.VIEWS}
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"  # the duckdb-cli dependency (1.x)
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
README_PATH = "/srv/gridaudit/data/work/published/gridaudit.duckdb"  # the README's example
# The README's settings, with README_PATH where the published file's absolute path goes
SUPERSET_URI = "duckdb:///" + README_PATH + "?access_mode=read_only"
EXCEL_EXPORT = (
    "python3 -m uv run duckdb -readonly data/work/published/gridaudit.duckdb \\\n"
    "  -c \"COPY (select * from bi.open_problems) TO '/dev/stdout' (HEADER)\" \\\n"
    "  | { printf '\\xEF\\xBB\\xBF'; cat; } > open_problems.csv"
)
PANDAS = (
    'con = duckdb.connect("/srv/gridaudit/data/work/published/gridaudit.duckdb", read_only=True)\n'
    "df = con.sql(\"select * from bi.unit_kpis where period_type = '月'\").df()"
)
CJK = re.compile(r"[\u4e00-\u9fff]")
STATUS_NAMES = {code: name for code, (name, _) in LOSS_STATUSES.items()}


def uri(path: Path) -> str:
    """The README's Superset URI for `path` (absolute, so four slashes)."""
    return SUPERSET_URI.replace(README_PATH, str(path.resolve()))


def rows(con, sql: str, **params) -> list[tuple]:
    return [tuple(r) for r in con.execute(sa.text(sql), params).fetchall()]


def one(con, sql: str, **params):
    return con.execute(sa.text(sql), params).fetchone()[0]


@pytest.fixture(scope="module")
def published(tiny_run) -> Path:
    return tiny_run["workdir"] / "published" / "gridaudit.duckdb"


def squash(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines())


def test_the_readme_gives_the_tested_settings():
    section = README.split("## Connecting a BI tool", 1)[1].split("\n## ", 1)[0]
    lines = squash(section)  # the blocks are indented under their list items
    for text in (SUPERSET_URI, EXCEL_EXPORT, PANDAS, "duckdb.read_only=true"):
        assert squash(text) in lines, text
    for view in VIEWS - {"bi.units_daily"}:
        assert f"`{view}`" in section, view


def test_superset_uri_is_read_only_and_the_views_equal_the_marts(published, tiny_run):
    engine = sa.create_engine(uri(published))
    try:
        with engine.connect() as con:
            assert one(con, "select current_setting('access_mode')") == "read_only"
            assert {
                f"{s}.{v}"
                for s, v in rows(
                    con, "select schema_name, view_name from duckdb_views() where not internal"
                )
            } == VIEWS
            check_area_loss_daily(con)
            check_open_problems(con, tiny_run["workdir"] / "warehouse.duckdb")
            check_unit_kpis(con)
            check_work_orders(con)
            check_comments(con, masked=True)
        with engine.connect() as con, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            con.execute(sa.text("create table marts.written_by_bi as select 1 as x"))
    finally:
        engine.dispose()


def check_area_loss_daily(con) -> None:
    marts = Counter(
        dict(rows(con, "select loss_status, count(*) from marts.area_daily_loss group by all"))
    )
    view = Counter(
        dict(rows(con, "select loss_status, count(*) from bi.area_loss_daily group by all"))
    )
    assert len(marts) == 4  # every status occurs on tiny: the mapping is exercised whole
    assert view == Counter({STATUS_NAMES[s]: n for s, n in marts.items()})
    assert rows(
        con,
        "select day, count(*), sum(supply_kwh), sum(sales_kwh), sum(loss_kwh), "
        "count(loss_rate), min(loss_rate), max(loss_rate) "
        "from bi.area_loss_daily group by all order by all",
    ) == rows(
        con,
        "select data_date, count(*), sum(supply_kwh), sum(sales_kwh), sum(loss_kwh), "
        "count(loss_rate), min(loss_rate), max(loss_rate) "
        "from marts.area_daily_loss group by all order by all",
    )
    # every area has its 供电所 and 县公司, the names the problem list has for them
    assert (
        one(
            con,
            "select count(*) from bi.area_loss_daily where station_name is null "
            "or county_name is null or county_no is null",
        )
        == 0
    )
    assert rows(
        con,
        "select distinct station_no, station_name, county_no, county_name "
        "from bi.area_loss_daily where day = (select max(day) from bi.area_loss_daily) "
        "and station_no in (select org_no_station from marts.area_problem_list) order by 1",
    ) == rows(
        con,
        "select distinct org_no_station, org_name_station, org_no_county, org_name_county "
        "from marts.area_problem_list where org_no_station in "
        "(select org_no from marts.area_daily_loss) order by 1",
    )
    reasons = rows(
        con,
        "select distinct a.uncomputable_reason, v.uncomputable_reason "
        "from marts.area_daily_loss a join bi.area_loss_daily v "
        "on v.day = a.data_date and v.area_id = a.tg_id",
    )
    assert reasons and all(
        (m is None and v is None) or bi_views.UNCOMPUTABLE_REASONS[m] == v for m, v in reasons
    )
    assert any(m is not None for m, _ in reasons)


def check_open_problems(con, warehouse: Path) -> None:
    assert rows(
        con, "select problem_code, count(*) from bi.open_problems group by all order by all"
    ) == rows(
        con, "select problem_code, count(*) from marts.area_problem_list group by all order by all"
    )
    # each finding's order is its latest one (a re-dispatched finding has several)
    latest: dict[str, tuple] = {}
    for key, day, order, status in rows(
        con, "select finding_key, dispatch_date, work_order_no, status from marts.work_orders"
    ):
        latest[key] = max(latest.get(key, (day, order, status)), (day, order, status))
    shown = rows(con, "select finding_key, work_order_no, work_order_status from bi.open_problems")
    assert any(order for _, order, _ in shown)
    assert any(order is None for _, order, _ in shown)  # findings without an order too
    for key, order, status in shown:
        assert (order, status) == (latest[key][1:] if key in latest else (None, None)), key
    # masked: the names are the masked marts column, none of them a real name
    names = [n for (n,) in rows(con, "select customer_name from bi.open_problems") if n]
    assert names and all("*" in n for n in names)
    with duckdb.connect(str(warehouse), read_only=True) as wh:
        real = {
            n for (n,) in wh.execute("select cons_name from marts.area_problem_list").fetchall()
        }
    assert real and not set(names) & real


def check_unit_kpis(con) -> None:
    assert one(con, "select count(*) from bi.unit_kpis") == one(
        con, "select count(*) from marts.unit_kpis"
    )
    assert one(
        con,
        """select count(*) from marts.unit_kpis k join bi.unit_kpis v
           on v.org_no = k.org_no and v.indicator_code = k.indicator_code
           and v.period_start = k.period_start
           and v.period_type = case k.period_type when 'day' then '日' else '月' end
           where v.numerator_value is not distinct from k.numerator_value
           and v.denominator_value is not distinct from k.denominator_value
           and v.indicator_value is not distinct from k.indicator_value
           and v.unit_level = k.unit_level_name""",
    ) == one(con, "select count(*) from marts.unit_kpis")
    # the ranks of the newest day, recomputed here from the marts values
    day = one(con, "select max(period_start) from marts.unit_kpis where period_type = 'day'")
    groups: dict[tuple, list] = {}
    for code, level, org, value in rows(
        con,
        "select indicator_code, unit_level, org_no, indicator_value from marts.unit_kpis "
        "where period_type = 'day' and period_start = :day",
        day=day,
    ):
        groups.setdefault((code, level), []).append((org, value))
    expected = {}
    for (code, _level), units in groups.items():
        for org, value in units:
            if code in UNRANKED or value is None:
                expected[code, org] = None
                continue
            better = [
                v
                for _, v in units
                if v is not None and (v < value if code in LOWER_IS_BETTER else v > value)
            ]
            expected[code, org] = 1 + len(better)
    got = {
        (code, org): rank
        for code, org, rank in rows(
            con,
            "select indicator_code, org_no, unit_rank from bi.unit_kpis "
            "where period_type = '日' and period_start = :day",
            day=day,
        )
    }
    assert got == expected
    assert {r for r in got.values() if r} >= {1, 2}  # ranks exist, not all ties
    assert rows(
        con,
        "select distinct rank_direction from bi.unit_kpis where indicator_code = 'wo_overdue'",
    ) == [("越小越好",)]


def check_work_orders(con) -> None:
    assert rows(
        con,
        "select status, count(*), count(*) filter (where overdue = '超期') "
        "from bi.work_orders group by all order by all",
    ) == rows(
        con,
        "select status, count(*), count(*) filter (where is_overdue) "
        "from marts.work_orders group by all order by all",
    )
    assert one(con, "select count(*) from bi.work_orders where county_name is null") == 0
    assert {c for (c,) in rows(con, "select distinct confirmed from bi.work_orders")} <= {
        "属实",
        "不属实",
        None,
    }


def check_comments(con, masked: bool) -> None:
    """Every bi view and column has a Chinese comment, as duckdb_columns() shows it (what
    DBeaver displays); passed-through columns carry the marts column's Chinese name."""
    views = dict(rows(con, "select view_name, comment from duckdb_views() where schema_name='bi'"))
    assert set(views) == {v.split(".")[1] for v in VIEWS}
    assert all(CJK.search(c or "") for c in views.values()), views
    assert views["area_loss_daily"].startswith("台区同期线损日报")
    columns = {
        (t, c): comment
        for t, c, comment in rows(
            con,
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'bi'",
        )
    }
    missing = [k for k, c in columns.items() if not CJK.search(c or "")]
    assert not missing, missing
    marts = dict(
        rows(
            con,
            "select column_name, comment from duckdb_columns() where schema_name = 'marts' "
            "and table_name = 'area_daily_loss'",
        )
    )
    assert marts["supply_kwh"].startswith("供电量 kWh (")  # the dbt yml description
    assert columns["area_loss_daily", "supply_kwh"] == "供电量 kWh"
    assert columns["area_loss_daily", "area_name"] == "台区名称"
    assert columns["area_loss_daily", "loss_status"] == "线损状态: 合格 / 高损 / 负损 / 不可算"
    assert columns["work_orders", "status"].startswith("工单状态")
    name_comment = columns["open_problems", "customer_name"]
    assert ("已脱敏" in name_comment) is masked and ("未脱敏" in name_comment) is not masked


def published_at(con) -> dt.datetime:
    return one(con, "select published_at from meta.publish_info")


NEW_PROCESS = """
import json, sys
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.connect() as con:
    print(json.dumps({
        "published_at": str(con.execute(sa.text("select published_at from meta.publish_info"))
                            .fetchone()[0]),
        "areas": con.execute(sa.text("select count(*) from bi.area_loss_daily")).fetchone()[0],
    }))
"""


def read_in_new_process(url: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", NEW_PROCESS, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout)


def test_views_after_full_and_incremental_publish_while_a_bi_connection_is_open(tiny_run, tmp_path):
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    warehouse, published = workdir / "warehouse.duckdb", workdir / "published" / "gridaudit.duckdb"
    end = tiny_run["end"]
    full = pub.publish(warehouse, published, from_date=end)  # another warehouse: in full
    assert full.mode == "full" and set(full.views) == VIEWS and full.warnings == []
    url = uri(published)

    held = sa.create_engine(url)  # a BI tool's pooled connection, open across the publish
    try:
        with held.connect() as old:
            before_at = published_at(old)
            before = one(old, "select count(*) from bi.area_loss_daily")
            # what the next run recomputes: the newest day, here with 5 areas fewer
            with duckdb.connect(str(warehouse)) as wh:
                wh.execute(
                    "delete from marts.area_daily_loss where data_date = $d and tg_id in "
                    "(select tg_id from marts.area_daily_loss where data_date = $d "
                    "order by tg_id limit 5)",
                    {"d": end},
                )
            incremental = pub.publish(warehouse, published, from_date=end)
            assert (incremental.mode, incremental.fallback_reason) == ("incremental", None)
            assert set(incremental.views) == VIEWS

            # the open connection keeps answering from the file it opened
            assert published_at(old) == before_at
            assert one(old, "select count(*) from bi.area_loss_daily") == before
            # a new process (another Superset worker, another user) sees the new publish
            seen = read_in_new_process(url)
            assert seen["areas"] == before - 5
            assert dt.datetime.fromisoformat(seen["published_at"]) > before_at
            # the same process shares its open database: old data while one is open
            with sa.create_engine(url, poolclass=NullPool).connect() as same_process:
                assert published_at(same_process) == before_at
        held.dispose()  # the pool closes its connections: the process lets the old file go
        fresh = sa.create_engine(url, poolclass=NullPool)
        with fresh.connect() as new:
            assert published_at(new) > before_at
            assert one(new, "select count(*) from bi.area_loss_daily") == before - 5
            check_area_loss_daily(new)  # the views over the patched marts
            check_comments(new, masked=True)
        fresh.dispose()
    finally:
        held.dispose()

    # masking off (GRIDAUDIT_MASK_PERSONAL_DATA=0): a full publish, the real names, and the
    # comments say so
    unmasked = pub.publish(warehouse, published, from_date=end, mask_personal_data=False)
    assert unmasked.mode == "full" and set(unmasked.views) == VIEWS
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as con:
            names = {n for (n,) in rows(con, "select customer_name from bi.open_problems") if n}
            real = {n for (n,) in rows(con, "select cons_name from marts.area_problem_list") if n}
            assert names and names == real and not all("*" in n for n in names)
            check_comments(con, masked=False)
    finally:
        engine.dispose()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_view_that_does_not_bind_fails_the_publish(tiny_run, tmp_path):
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    warehouse, published = workdir / "warehouse.duckdb", workdir / "published" / "gridaudit.duckdb"
    before = sha(published)
    with duckdb.connect(str(warehouse)) as wh:  # a mart lost a column the views read
        wh.execute("alter table marts.area_daily_loss drop column tg_name")
    with pytest.raises(pub.PublishError, match=r"bi\.area_loss_daily does not bind.*tg_name"):
        pub.publish(warehouse, published, from_date=tiny_run["end"])
    assert sha(published) == before
    assert not list(published.parent.glob(".incoming-*"))


def test_a_warehouse_without_the_marts_gets_no_views_and_a_warning(tmp_path):
    warehouse, published = tmp_path / "warehouse.duckdb", tmp_path / "pub" / "gridaudit.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts; create table marts.area_daily_loss as select 1 as x")
    result = pub.publish(warehouse, published)
    assert result.views == []
    assert result.warnings == [
        "no bi views: the published marts lack "
        + ", ".join(f"marts.{t}" for t in sorted(bi_views.required_tables() - {"area_daily_loss"}))
    ]
    assert result.metadata()["warnings"] == result.warnings
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select count(*) from duckdb_schemas() where schema_name = 'bi'"
        ).fetchone() == (0,)
    with pytest.raises(ValueError, match="reserved for the BI views"):
        pub.publish(warehouse, published, schemas=("marts", "bi"))


def test_chinese_name_of_a_marts_comment():
    assert (
        bi_views.chinese_name("供电量 kWh (考核表正向电量 + 光伏上网电量); NULL when x")
        == "供电量 kWh"
    )
    assert bi_views.chinese_name("线损状态: qualified 合格 | high 高损") == "线损状态"
    assert bi_views.chinese_name("首次发现日期 of the finding's unbroken run") == "首次发现日期"
    assert bi_views.chinese_name("台区名称") == "台区名称"
    with pytest.raises(bi_views.ViewError, match="no Chinese name"):
        bi_views.column_comment(bi_views.same("t.c"), {"t.c": "an English description"})


def duckdb_1x(path: Path, sql: str) -> list[list[str]]:
    """`sql` through the DuckDB 1.x command line, read-only, as CSV rows (header first)."""
    proc = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", str(path), "-c", sql],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return list(csv.reader(proc.stdout.splitlines()))


@pytest.fixture
def cli():
    if not DUCKDB_CLI.exists():
        pytest.skip("duckdb-cli is not installed in this environment (python3 -m uv sync)")
    version = subprocess.run(
        [str(DUCKDB_CLI), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert version.startswith("v1."), version
    return DUCKDB_CLI


def test_duckdb_1x_reads_every_view_and_its_comments(cli, published):
    assert pub.file_storage_version(published) == "v1.4.0+"
    with duckdb.connect(str(published), read_only=True) as con:
        counts = {v: con.execute(f"select count(*) from {v}").fetchone()[0] for v in sorted(VIEWS)}
        statuses = con.execute(
            "select loss_status, count(*)::varchar from bi.area_loss_daily group by all "
            "order by all"
        ).fetchall()
        comments = con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'bi' order by all"
        ).fetchall()
    union = " union all ".join(f"select '{v}', count(*) from {v}" for v in sorted(VIEWS))
    assert {v: int(n) for v, n in duckdb_1x(published, union)[1:]} == counts
    assert [
        tuple(r)
        for r in duckdb_1x(
            published,
            "select loss_status, count(*) from bi.area_loss_daily group by all order by all",
        )[1:]
    ] == statuses
    assert [
        tuple(r)
        for r in duckdb_1x(
            published,
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'bi' order by all",
        )[1:]
    ] == comments
    assert len(duckdb_1x(published, "select * from bi.area_loss_daily limit 3")) == 4


def test_excel_export_has_a_bom_and_every_row(cli, published, tmp_path):
    command = EXCEL_EXPORT.replace("python3 -m uv run duckdb", str(cli)).replace(
        "data/work/published/gridaudit.duckdb", str(published)
    )
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True, timeout=120)
    data = (tmp_path / "open_problems.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and not data.startswith(b"\xef\xbb\xbf" * 2)
    with open(tmp_path / "open_problems.csv", encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    with duckdb.connect(str(published), read_only=True) as con:
        cur = con.execute("select * from bi.open_problems order by finding_key")
        header = [d[0] for d in cur.description]
        expected = cur.fetchall()
    assert table[0] == header
    key = header.index("finding_key")
    body = sorted(table[1:], key=lambda r: r[key])
    assert len(body) == len(expected) > 0
    name = header.index("problem_name")
    assert [r[name] for r in body] == [r[name] for r in expected]  # Chinese intact
    assert not any(cell == "NULL" for r in body for cell in r)  # NULL is an empty cell
    assert any(r[header.index("customer_no")] == "" for r in body)  # an area finding


def test_pandas_reads_a_view_as_the_readme_says(published):
    code = PANDAS.replace(README_PATH, str(published))
    scope = {"duckdb": duckdb}
    exec(code, scope)  # the README's lines, as written
    try:
        df = scope["df"]
        with duckdb.connect(str(published), read_only=True) as con:
            n = con.execute("select count(*) from marts.unit_kpis where period_type = 'month'")
            assert len(df) == n.fetchone()[0] > 0
        assert set(df["period_type"]) == {"月"}
        assert "indicator_name" in df.columns
    finally:
        scope["con"].close()


def test_each_view_declares_the_marts_it_reads():
    """`reads` decides whether a warehouse gets the views at all: it must be what the SQL
    names (directly or through the bi views it reads)."""
    by_name = {v.name: v for v in bi_views.VIEWS}
    for view in bi_views.VIEWS:
        named = set(re.findall(r"\bmarts\.(\w+)", view.sql))
        for other in re.findall(r"\bbi\.(\w+)", view.sql):
            named |= set(by_name[other].reads)
            assert bi_views.VIEWS.index(by_name[other]) < bi_views.VIEWS.index(view)
        assert named == set(view.reads), view.name
