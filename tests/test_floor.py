"""The benchmark floors (benchmarks/floor_duckdb.py, benchmarks/floor_pandas.py) compute the
same marts.area_daily_loss as the pipeline, from the landing files one day needs: checked
against the generator's truth and the published file of the tiny preset."""

import datetime as dt

import duckdb
import pytest

from benchmarks import floor_duckdb, floor_pandas
from benchmarks.floor_common import (
    FloorError,
    compare_with_published,
    compare_with_truth,
    day_files,
    quarantined_rows,
    table_files,
)


def _days(landing):
    return sorted(table_files(landing, "E_MP_DAY_READ"))


def _assert_equal(report, what):
    assert report["equal"], (
        f"{what}: {report['rows_differing']} rows differ, e.g. {report['sample'][:2]}"
    )
    assert report["rows_floor"] > 0


def test_day_files_rule(tiny_dir):
    landing = tiny_dir / "landing"
    days = _days(landing)
    day = days[5]
    files = day_files(landing, day)
    # the archives: the newest snapshot on or before the day, each table on its own
    for table, file in files.snapshots.items():
        delivered = [d for d in table_files(landing, table) if d <= day]
        assert file.export_date == max(delivered), table
    # readings: exported on D-1 .. through (default D); changes: D .. through
    assert [f.export_date for f in files.reads] == [day - dt.timedelta(days=1), day]
    assert all(f.export_date == day for f in files.changes)
    later = day_files(landing, day, days[-1])
    assert [f.export_date for f in later.reads] == days[4:]
    assert all(day <= f.export_date <= days[-1] for f in later.changes)
    with pytest.raises(FloorError, match="starts the day after the first loaded day"):
        day_files(landing, days[0])


def test_gbk_files_are_decoded_to_utf8(tiny_dir, tmp_path):
    files = day_files(tiny_dir / "landing", _days(tiny_dir / "landing")[1])
    customers = files.snapshots["C_CONS"]  # GBK with Chinese names
    decoded = floor_duckdb.duckdb_readable(customers, tmp_path)
    assert decoded != customers.path
    assert decoded.read_bytes() == customers.path.read_bytes().decode("gbk").encode("utf-8")
    meters = files.snapshots["C_METER"]  # GBK but plain ASCII: read as it is
    assert floor_duckdb.duckdb_readable(meters, tmp_path) == meters.path
    readings = files.reads[0]  # UTF-8
    assert floor_duckdb.duckdb_readable(readings, tmp_path) == readings.path


def test_floors_equal_the_truth(tiny_dir):
    """Every computed day, with the late deliveries of the whole window (the truth is the
    final state): the DuckDB floor exactly, pandas within its float tolerance."""
    landing, truth = tiny_dir / "landing", tiny_dir / "truth"
    days = _days(landing)
    for day in days[1:]:
        con = duckdb.connect()
        floor_duckdb.area_daily_loss(landing, day, days[-1], con)
        _assert_equal(compare_with_truth(con, "floor_rows", truth, day), f"duckdb {day}")
        rows = floor_pandas.area_daily_loss(landing, day, days[-1]).rows
        _assert_equal(
            floor_pandas.compare_rows(rows, truth=truth, day=day)["vs_truth"], f"pandas {day}"
        )


def test_late_deliveries_are_read(tiny_dir):
    """The readings of D-1 and D are corrected and back-filled in later files (the
    generator delivers some 1-3 days late): without those files an early day differs from
    the truth, on the last day the two are the same."""
    landing, truth = tiny_dir / "landing", tiny_dir / "truth"
    days = _days(landing)
    con = duckdb.connect()
    floor_duckdb.area_daily_loss(landing, days[1], con=con)  # through = the day itself
    assert not compare_with_truth(con, "floor_rows", truth, days[1])["equal"]
    con = duckdb.connect()
    floor_duckdb.area_daily_loss(landing, days[-1], con=con)
    _assert_equal(compare_with_truth(con, "floor_rows", truth, days[-1]), "last day")


def test_floors_equal_the_published_mart(tiny_run):
    """Against the pipeline's published file (kWh DECIMAL(18,4) exactly, rates within
    1e-9) on every day of the run; the pipeline quarantined nothing the floors read."""
    landing, workdir = tiny_run["landing"], tiny_run["workdir"]
    published = workdir / "published" / "gridaudit.duckdb"
    days = _days(landing)
    for day in days[1:]:
        con = duckdb.connect()
        result = floor_duckdb.area_daily_loss(landing, day, tiny_run["end"], con)
        _assert_equal(compare_with_published(con, "floor_rows", published, day), f"duckdb {day}")
        assert quarantined_rows(workdir / "warehouse.duckdb", result.files, landing) == 0
        rows = floor_pandas.area_daily_loss(landing, day, tiny_run["end"]).rows
        _assert_equal(
            floor_pandas.compare_rows(rows, published=published, day=day)["vs_published"],
            f"pandas {day}",
        )
