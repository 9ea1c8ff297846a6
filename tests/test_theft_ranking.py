"""The theft ranking (marts.theft_suspects, issue 13) on a landing tree with known thefts.

`tiny --days 45 --seed 11`: the three event thefts (T01) started 23-29 days before the last
day and never stopped — the case the old fixed-window ranking lost entirely — plus three
thefts without any event (a bypass before the meter), vacancies, shops closing, M06's
short drops and cover-open decoys (truth/thefts.csv). The whole window runs as one
pipeline run and the published file is read as an inspector's BI sheet would read it;
the numbers come from benchmarks/theft_ranking.py, the script the README names.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from benchmarks.theft_ranking import measure, read_theft_labels
from dagster_project.cli import prepare_dbt, run_pipeline
from tests.conftest import landing_window

THREE_WEEKS = 21


@pytest.fixture(scope="module")
def theft_run(tmp_path_factory):
    from dagster_project.generator import generate

    out = tmp_path_factory.mktemp("theft45")
    generate("tiny", out, seed=11, days=45)
    prepare_dbt()
    workdir = tmp_path_factory.mktemp("theft45_work")
    start, end = landing_window(out / "landing")
    assert run_pipeline(start, end, out / "landing", workdir), "the pipeline failed"
    published = workdir / "published" / "gridaudit.duckdb"
    return {"truth": out / "truth", "published": published, "end": end}


@pytest.fixture(scope="module")
def measured(theft_run):
    return measure(theft_run["published"], theft_run["truth"], None)


@pytest.fixture(scope="module")
def suspects(theft_run) -> pd.DataFrame:
    con = duckdb.connect(str(theft_run["published"]), read_only=True)
    try:
        return con.execute("select * from marts.theft_suspects").df()
    finally:
        con.close()


def test_the_tree_holds_the_issues_case(theft_run):
    labels = read_theft_labels(theft_run["truth"])
    thefts = labels[labels["kind"] == "theft"]
    old = thefts[thefts["event_code"] != ""]
    assert len(old) == 3 and old["drop_end"].isna().all()
    age = (theft_run["end"] - old["drop_start"]).map(lambda d: d.days)
    assert (age >= THREE_WEEKS).all(), age.tolist()
    assert (thefts["event_code"] == "").sum() == 3  # and three without any event


def test_every_theft_older_than_three_weeks_is_in_its_areas_top_5_percent(theft_run, measured):
    t = measured["thieves"]
    old = t[t["days_since_start"] >= THREE_WEEKS]
    assert len(old) >= 3
    assert old["in_top_5pct"].all(), old.to_string()


def test_every_lasting_theft_is_in_its_areas_top_5_percent(measured):
    t = measured["thieves"]
    assert len(t) == 6
    assert t["in_top_5pct"].all(), t.to_string()


def test_auc_and_legitimate_drops(measured):
    assert measured["auc"] >= 0.95, measured["auc"]
    legit = measured["legit"]
    assert len(legit) >= 6  # vacancies, shops closing, short drops
    wrongly_on_top = legit[legit["in_top_5pct"] & ~legit["has_theft_event"]]
    assert wrongly_on_top.empty, wrongly_on_top.to_string()


def test_the_change_point_is_the_thefts_start_and_the_loss_is_priced(theft_run, suspects):
    labels = read_theft_labels(theft_run["truth"])
    thefts = labels[labels["kind"] == "theft"].merge(suspects, on="cons_no", how="left")
    got = pd.to_datetime(thefts["shift_start_date"]).dt.date
    off = [abs((g - w).days) for g, w in zip(got, thefts["drop_start"], strict=True)]
    assert max(off) <= 1, thefts[["cons_no", "drop_start", "shift_start_date"]].to_string()
    # the estimated energy not recorded: the baseline minus the level since the shift, over
    # the shift's days; its value at the tariff (K_PRC), both positive and consistent
    assert (thefts["missing_kwh"] > 0).all()
    expected = thefts["missing_kwh"].astype(float) * thefts["unit_price"]
    assert (abs(thefts["missing_value_yuan"].astype(float) - expected) <= 0.01).all()
    # the drop against the customer's own baseline is the metered share the generator set
    share = 1 - thefts["shift_mean_kwh"].astype(float) / thefts["baseline_mean_kwh"].astype(float)
    truth_share = 1 - thefts["metered_share"].astype(float)
    assert (abs(share - truth_share) <= 0.1).all(), pd.DataFrame(
        {"got": share, "truth": truth_share}
    )


def test_every_suspect_says_why_in_chinese(suspects):
    top = suspects[suspects["area_rank"] == 1]
    assert len(top) > 0
    assert top["signals"].str.contains("起日均电量|电能表|零电量|谷段").all()
    drops = suspects[suspects["drop_points"] > 0]
    assert drops["signals"].str.contains("估计少计").all()


def test_each_station_orders_its_visits(suspects):
    assert suspects["station_no"].notna().all()
    for _, s in suspects.groupby("station_no"):
        expected = s["theft_score"].rank(method="min", ascending=False).astype(int)
        assert (s["station_rank"] == expected).all()


def test_the_ranking_is_as_of_the_last_day(theft_run, suspects):
    assert set(pd.to_datetime(suspects["as_of_date"]).dt.date) == {theft_run["end"]}
    assert theft_run["end"] == dt.date(2026, 10, 15)
