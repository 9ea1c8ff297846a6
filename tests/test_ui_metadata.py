"""What the dbt assets' pages in the Dagster UI show: the materializations of the tiny run
carry the marts' numbers of the newest day, equal to queries of the published file."""

import datetime as dt
import re

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
    assert got["newest_day"].startswith(newest.isoformat())
    table = {row[0]: int(row[1]) for row in markdown_rows(got["loss_status_newest_day"])}
    assert table == {
        **{
            f"{name} ({status})": expected[status]
            for status, (_, name) in ui_metadata.LOSS_STATUSES.items()
        },
        "合计": sum(expected.values()),
    }
    rows = published.execute("select count(*) from marts.area_daily_loss").fetchone()[0]
    assert got["dagster/row_count"] == rows


def test_every_day_of_a_multi_day_run_shows_the_newest_day_and_says_so(tiny_run):
    instance, start, end = tiny_run["instance"], tiny_run["start"], tiny_run["end"]
    first, last = (
        values(materialization(instance, ui_metadata.AREA_DAILY_LOSS, day)) for day in (start, end)
    )
    assert first["areas_qualified"] == last["areas_qualified"]
    assert f"{start}..{end}" in first["newest_day"]
    assert first["newest_day"].startswith(end.isoformat())


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
    """The tiny run has no new finding on its newest day: the definitions on a history that has."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.problem_history as select * from (values"
        " (date '2026-09-01', 'k1'), (date '2026-09-01', 'k2'),"
        " (date '2026-09-02', 'k2'), (date '2026-09-02', 'k3'), (date '2026-09-02', 'k4'))"
        " as t(detected_date, finding_key)"
    )
    con.execute(
        "create table marts.area_problem_list as select * from (values"
        " (date '2026-09-02', 'k2', 'A01', '户变关系不一致', '城关供电所', 2),"
        " (date '2026-09-02', 'k3', 'A01', '户变关系不一致', '城关供电所', 1),"
        " (date '2026-09-02', 'k4', 'L01', '台区高损', null, 1))"
        " as t(as_of_date, finding_key, problem_code, problem_name, org_name_station,"
        " consecutive_days)"
    )
    got = {
        k: v.value
        for k, v in ui_metadata.area_problem_list_metadata(con, [dt.date(2026, 9, 2)]).items()
    }
    assert (got["open_findings"], got["new_today"], got["closed_today"]) == (3, 2, 1)
    assert markdown_rows(got["open_by_problem_code"]) == [
        ["A01", "户变关系不一致", "2", "1"],
        ["L01", "台区高损", "1", "1"],
    ]
    assert markdown_rows(got["open_by_station"]) == [
        ["城关供电所", "2", "1"],
        ["(无供电所 no station)", "1", "1"],
    ]
    assert not re.search(r"this run covers", got["as_of_date"])  # a one-day run
