"""What the dbt assets' pages in the Dagster UI show: the materializations of the tiny run
(one run over 14 days) carry each day's numbers of the marts on that day's partition,
equal to queries of the published file."""

import datetime as dt

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.dbt import ui_metadata

PUBLISHED = "published/gridaudit.duckdb"


def materialization(instance, key: dg.AssetKey, day: dt.date) -> dg.AssetMaterialization:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day.isoformat()]), limit=1
    ).records
    assert records, f"no materialization of {key.to_user_string()} for {day}"
    return records[0].asset_materialization


def values(event: dg.AssetMaterialization) -> dict:
    return {key: value.value for key, value in event.metadata.items()}


def markdown_rows(markdown: str) -> list[list[str]]:
    """The body rows of the markdown table in a metadata text (header and rule dropped)."""
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


@pytest.fixture(scope="module")
def published(tiny_run):
    with duckdb.connect(str(tiny_run["workdir"] / PUBLISHED), read_only=True) as con:
        yield con


def test_area_daily_loss_status_counts_are_the_published_newest_day(tiny_run, published):
    newest = published.execute("select max(data_date) from marts.area_daily_loss").fetchone()[0]
    assert newest == tiny_run["end"]
    expected = dict(
        published.execute(
            "select loss_status, count(*) from marts.area_daily_loss"
            " where data_date = ? group by all",
            [newest],
        ).fetchall()
    )
    assert set(expected) == set(ui_metadata.LOSS_STATUSES), "tiny has every status"
    event = materialization(tiny_run["instance"], ui_metadata.AREA_DAILY_LOSS, tiny_run["end"])
    got = values(event)
    for status, (key, _) in ui_metadata.LOSS_STATUSES.items():
        assert got[key] == expected[status], key
    assert got["areas_total"] == sum(expected.values())
    assert got["status_day"] == newest.isoformat()
    table = {row[0]: int(row[1]) for row in markdown_rows(got["loss_status"])}
    assert table == {
        **{
            f"{name} ({status})": expected[status]
            for status, (_, name) in ui_metadata.LOSS_STATUSES.items()
        },
        "合计": sum(expected.values()),
    }
    rows = published.execute("select count(*) from marts.area_daily_loss").fetchone()[0]
    assert got["dagster/row_count"] == rows


def test_every_day_of_a_multi_day_run_shows_its_own_numbers(tiny_run, published):
    instance, start, end = tiny_run["instance"], tiny_run["start"], tiny_run["end"]
    status_days = published.execute(
        "select data_date, loss_status, count(*) from marts.area_daily_loss group by all"
    ).fetchall()
    expected: dict = {}
    for day, status, n in status_days:
        expected.setdefault(day, {})[status] = n
    findings = dict(
        published.execute(
            "select detected_date, count(*) from marts.problem_history group by 1"
        ).fetchall()
    )
    assert len(expected) >= 10 and len(findings) >= 10, "tiny's run covers many days"
    qualified = set()
    for day in (start + dt.timedelta(days=i) for i in range((end - start).days + 1)):
        loss = values(materialization(instance, ui_metadata.AREA_DAILY_LOSS, day))
        if day not in expected:  # the first day: no loss without the day before's reading
            assert "areas_total" not in loss, day
            continue
        assert loss["status_day"] == day.isoformat()
        assert loss["areas_total"] == sum(expected[day].values()), day
        for status, (key, _) in ui_metadata.LOSS_STATUSES.items():
            assert loss[key] == expected[day].get(status, 0), (day, key)
        qualified.add(loss["areas_qualified"])
        problems = values(materialization(instance, ui_metadata.AREA_PROBLEM_LIST, day))
        assert problems["open_findings"] == findings[day], day
    assert len(qualified) > 1, "the days differ: no day shows another day's numbers"


def test_problem_list_counts_are_queries_of_the_published_marts(tiny_run, published):
    event = materialization(tiny_run["instance"], ui_metadata.AREA_PROBLEM_LIST, tiny_run["end"])
    got = values(event)
    as_of = published.execute("select max(as_of_date) from marts.area_problem_list").fetchone()[0]
    assert got["as_of_date"].startswith(as_of.isoformat())
    open_keys = {
        key
        for (key,) in published.execute(
            "select finding_key from marts.area_problem_list"
        ).fetchall()
    }
    assert got["open_findings"] == len(open_keys) > 0
    assert got["dagster/row_count"] == len(open_keys)

    def keys_on(day):
        return {
            key
            for (key,) in published.execute(
                "select finding_key from marts.problem_history where detected_date = ?", [day]
            ).fetchall()
        }

    # the definitions from the history itself, not from consecutive_days
    yesterday = keys_on(as_of - dt.timedelta(days=1))
    assert keys_on(as_of) == open_keys
    assert got["new_today"] == len(open_keys - yesterday)
    assert got["closed_today"] == len(yesterday - open_keys) > 0

    per_code = published.execute(
        "select problem_code, any_value(problem_name), count(*) from marts.area_problem_list"
        " group by all order by 1"
    ).fetchall()
    assert [(c, n, int(k)) for c, n, k, _ in markdown_rows(got["open_by_problem_code"])] == [
        tuple(row) for row in per_code
    ]
    per_station = dict(
        published.execute(
            "select org_name_station, count(*) from marts.area_problem_list group by all"
        ).fetchall()
    )
    assert {s: int(n) for s, n, _ in markdown_rows(got["open_by_station"])} == per_station


def test_table_models_carry_their_row_count_and_views_none(tiny_run):
    instance, end = tiny_run["instance"], tiny_run["end"]
    with duckdb.connect(str(tiny_run["workdir"] / "warehouse.duckdb"), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables"
            " where table_schema in ('staging', 'intermediate', 'audit', 'marts', 'config')"
        ).fetchall()
        counted = 0
        for schema, table, table_type in tables:
            key = dg.AssetKey([schema, table])
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=[end.isoformat()]), limit=1
            ).records
            if not records:
                continue  # a table no dbt asset writes (e.g. config seeds' other key)
            got = values(records[0].asset_materialization)
            if table_type == "VIEW":
                assert "dagster/row_count" not in got, key
                continue
            rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            assert got["dagster/row_count"] == rows, key
            counted += 1
    assert counted >= 60


def test_new_and_closed_today_on_a_history_with_both():
    """The tiny run has no new finding on its newest day: the definitions on a history that
    has, over a two-day run (each day its own numbers)."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.problem_history as select * from (values"
        " (date '2026-09-01', 'k1', 'L01', 1), (date '2026-09-01', 'k2', 'A01', 1),"
        " (date '2026-09-02', 'k2', 'A01', 2), (date '2026-09-02', 'k3', 'A01', 1),"
        " (date '2026-09-02', 'k4', 'L01', 1))"
        " as t(detected_date, finding_key, problem_code, consecutive_days)"
    )
    con.execute(
        "create table marts.dim_problem_code as select * from (values"
        " ('A01', '户变关系不一致'), ('L01', '台区高损')) as t(problem_code, problem_name)"
    )
    con.execute(
        "create table marts.area_problem_list as select * from (values"
        " (date '2026-09-02', 'k2', 'A01', '户变关系不一致', '城关供电所', 2),"
        " (date '2026-09-02', 'k3', 'A01', '户变关系不一致', '城关供电所', 1),"
        " (date '2026-09-02', 'k4', 'L01', '台区高损', null, 1))"
        " as t(as_of_date, finding_key, problem_code, problem_name, org_name_station,"
        " consecutive_days)"
    )
    by_day = ui_metadata.area_problem_list_by_day(con, [dt.date(2026, 9, 1), dt.date(2026, 9, 2)])
    first, second = ({k: v.value for k, v in by_day[dt.date(2026, 9, d)].items()} for d in (1, 2))
    assert (first["open_findings"], first["new_today"], first["closed_today"]) == (2, 2, 0)
    assert (second["open_findings"], second["new_today"], second["closed_today"]) == (3, 2, 1)
    assert markdown_rows(second["open_by_problem_code"]) == [
        ["A01", "户变关系不一致", "2", "1"],
        ["L01", "台区高损", "1", "1"],
    ]
    assert markdown_rows(first["open_by_problem_code"]) == [
        ["A01", "户变关系不一致", "1", "1"],
        ["L01", "台区高损", "1", "1"],
    ]
    # per 供电所 on the problem list's day only (the history keeps no units)
    assert markdown_rows(second["open_by_station"]) == [
        ["城关供电所", "2", "1"],
        ["(无供电所 no station)", "1", "1"],
    ]
    assert "open_by_station" not in first
