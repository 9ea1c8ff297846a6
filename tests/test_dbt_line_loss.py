"""The dbt line-loss models on a small hand-made warehouse: exact area_daily_loss values.

An empty warehouse (dagster_project.lib.warehouse) gets a few raw rows inserted with DuckDB:
two in-service areas and one stopped area, nine metering points, three export days
(2026-03-01..03). dbt runs `+area_daily_loss` as Dagster would, window by window:

* run 1, window 03-01..03-02 (first build): the mart has 03-02 only (first day + 1);
* run 2, window 03-03 (incremental `dbt build`, with the unit and data tests): the export of
  03-03 also carries a back-filled, corrected reading of 03-02, so recompute_from_date()
  goes back to 03-02 and that day changes;
* a full refresh then gives exactly the incremental result.

The data exercise: a duplicated key within a snapshot file (last line wins), a day without
marketing snapshots (03-02 uses 03-01's), a re-delivered reading within one file (later
COL_TIME wins), a late corrected reading (later export wins), a multiplier of 40 that the
acquisition archive has wrong, a revoked metering point, a PV customer's reverse energy, a
meter exchange, a register roll-over and a reading missing for D-1 (completeness 2/3).

dbt runs in a subprocess and writes only into tmp_path (warehouse, target, logs); the unit
tests of the models run too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.settings import DBT_PROJECT_DIR
from dagster_project.lib.warehouse import create_empty_warehouse

D1, D2, D3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)


# ------------------------------------------------------------------------- the raw rows
def marketing_snapshot(day: dt.date) -> dict[str, list[dict]]:
    """The marketing archive delivered on `day` (snapshots on 03-01 and 03-03 only)."""
    areas = [
        {
            "TG_ID": "TG1",
            "TG_NO": "N1",
            "TG_NAME": "一号台区",
            "ORG_NO": "O1",
            "TG_CAP": 100,
            "PUB_PRIV_FLAG": "01",
            "RUN_STATUS_CODE": "01",
        },
        {
            "TG_ID": "TG2",
            "TG_NO": "N2",
            "TG_NAME": "二号台区",
            "ORG_NO": "O1",
            "TG_CAP": 200,
            "PUB_PRIV_FLAG": "01",
            "RUN_STATUS_CODE": "01",
        },
        {
            "TG_ID": "TG3",
            "TG_NO": "N3",
            "TG_NAME": "停运台区",
            "ORG_NO": "O1",
            "TG_CAP": 50,
            "PUB_PRIV_FLAG": "01",
            "RUN_STATUS_CODE": "02",
        },
    ]
    customers = [
        {
            "CONS_NO": cons,
            "ORG_NO": "O1",
            "TG_ID": tg,
            "CONTRACT_CAP": 10,
            "STATUS_CODE": "1",
            "GEN_FLAG": "1" if cons == "K12" else "0",
        }
        for cons, tg in [
            ("K11", "TG1"),
            ("K12", "TG1"),
            ("K13", "TG1"),
            ("K21", "TG2"),
            ("K22", "TG2"),
            ("K23", "TG2"),
        ]
    ]
    mps = [
        ("C1", "TN1", "TG1", "02", "1"),
        ("S11", "K11", "TG1", "01", "1"),
        ("S12", "K12", "TG1", "01", "1"),
        ("S13", "K13", "TG1", "01", "1"),
        ("S14", "K11", "TG1", "01", "9"),  # revoked: not counted
        ("C2", "TN2", "TG2", "02", "1"),
        ("S21", "K21", "TG2", "01", "1"),
        ("S22", "K22", "TG2", "01", "1"),
        ("S23", "K23", "TG2", "01", "1"),
    ]
    metering_points = [
        {"MP_ID": mp, "CONS_NO": cons, "TG_ID": tg, "USAGE_TYPE_CODE": usage, "STATUS_CODE": status}
        for mp, cons, tg, usage, status in mps
    ]
    meters = []
    for mp in ("C1", "S11", "S12", "S13", "C2", "S21", "S22", "S23"):
        meter = {
            "METER_ID": f"MT_{mp}",
            "ASSET_NO": f"A_{mp}",
            "MP_ID": mp,
            "T_FACTOR": 1,
            "DIGITS": 4 if mp == "S22" else 6,
            "INST_DATE": dt.date(2020, 1, 1),
        }
        if mp == "C1":
            # a duplicated key within one snapshot file: the last line (T_FACTOR 40) wins
            meters.append(dict(meter))
            meter["T_FACTOR"] = 40
        if mp == "S21" and day >= D3:
            # exchanged on 03-03 (C_METER_CHG CHG1): the archive has the new meter
            meter.update(METER_ID="MT_S21B", ASSET_NO="A_S21B", INST_DATE=D3)
        meters.append(meter)
    return {
        "O_ORG": [{"ORG_NO": "O1", "ORG_NAME": "一供电所", "ORG_TYPE": "04"}],
        "G_TG": areas,
        "C_CONS": customers,
        "C_MP": metering_points,
        "C_METER": meters,
    }


def data_points() -> list[dict]:
    """E_DATA_MP, delivered on 03-01 only; C1's acquisition T_FACTOR (1) is wrong on purpose."""
    return [
        {"DATA_ID": f"DP_{mp}", "MP_ID": mp, "ASSET_NO": f"A_{mp}", "T_FACTOR": 1}
        for mp in ("C1", "S11", "S12", "S13", "C2", "S21", "S22", "S23")
    ]


def read(mp, day, pap, rap=None, col_time="01:30:00", mark="0"):
    return {
        "DATA_ID": f"DP_{mp}",
        "DATA_DATE": day,
        "PAP_R": pap,
        "RAP_R": rap,
        "MARK": mark,
        "COL_TIME": dt.datetime.fromisoformat(f"{day + dt.timedelta(days=1)} {col_time}"),
    }


DAY_READS = {
    D1: [
        read("C1", D1, 1000),
        read("S11", D1, 500),
        read("S12", D1, 200, 100),
        read("S13", D1, 300),
        read("C2", D1, 5000),
        read("S21", D1, 100),
        read("S22", D1, 9950),
    ],
    # S23 has no reading on 03-01, so its energy of 03-02 is not computable
    D2: [
        read("C1", D2, 1002),
        read("S11", D2, 530),
        read("S12", D2, 220, 110),
        read("S13", D2, 325),
        read("C2", D2, 5100),
        read("S21", D2, 150),
        read("S22", D2, 9990),
        read("S23", D2, 10),
    ],
    D3: [
        read("C1", D3, 1003.625),
        read("S11", D3, 560, col_time="02:00:00"),
        read("S12", D3, 235, 125),
        read("S13", D3, 350),
        read("C2", D3, 5185),
        read("S21", D3, 5),  # the new meter after the exchange
        read("S22", D3, 30),  # roll-over at 10^4
        read("S23", D3, 20),
        read("S11", D3, 999, col_time="01:00:00"),  # later line, earlier COL_TIME: loses
        read("S13", D2, 320, mark="1"),
    ],  # back-filled correction of 03-02 (was 325)
}

METER_CHANGES = {
    D3: [
        {
            "CHG_ID": "CHG1",
            "MP_ID": "S21",
            "CHG_DATE": D3,
            "OLD_ASSET_NO": "A_S21",
            "NEW_ASSET_NO": "A_S21B",
            "OLD_END_READ": 185,
            "NEW_START_READ": 0,
            "OLD_T_FACTOR": 1,
            "NEW_T_FACTOR": 1,
        }
    ],
}


def insert(con, system: str, table: str, day: dt.date, rows: list[dict]) -> None:
    """Rows of one landing file, as the extract loads them (lineage columns included)."""
    for line_number, row in enumerate(rows, start=2):
        row = {
            **row,
            "_export_date": day,
            "_source_file": f"{system}/{table}/{day}.csv",
            "_line_number": line_number,
        }
        columns = ", ".join(f'"{c}"' for c in row)
        params = ", ".join("?" for _ in row)
        con.execute(
            f'INSERT INTO raw_{system}."{table}" ({columns}) VALUES ({params})', list(row.values())
        )


def load_day(warehouse: Path, day: dt.date) -> None:
    with duckdb.connect(str(warehouse)) as con:
        if day in (D1, D3):
            for table, rows in marketing_snapshot(day).items():
                insert(con, "marketing", table, day, rows)
        if day == D1:
            insert(con, "acquisition", "E_DATA_MP", day, data_points())
        insert(con, "acquisition", "E_MP_DAY_READ", day, DAY_READS[day])
        if day in METER_CHANGES:
            insert(con, "marketing", "C_METER_CHG", day, METER_CHANGES[day])


# ------------------------------------------------------------------------------- dbt
def dbt(tmp: Path, *args: str) -> dict:
    """Runs dbt in a subprocess (dbt-duckdb keeps its DuckDB connection open for the life of
    the process, so the test opens the warehouse only between dbt runs); returns
    run_results.json. Target and logs go to tmp, the warehouse comes from the environment."""
    command = [
        sys.executable,
        "-m",
        "dbt.cli.main",
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
        "--threads",
        "4",
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"dbt {' '.join(args)} failed:\n{done.stdout[-6000:]}"
    return json.loads((tmp / "target" / "run_results.json").read_text())


def window(start: dt.date, end: dt.date) -> list[str]:
    return ["--vars", f"{{start_date: '{start}', end_date: '{end}'}}"]


def area_daily_loss(warehouse: Path) -> dict[tuple[str, str], dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute("SELECT * FROM marts.area_daily_loss ORDER BY tg_id, data_date")
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    return {(r["tg_id"], str(r["data_date"])): r for r in rows}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, request):
    tmp = tmp_path_factory.mktemp("dbt_line_loss")
    warehouse = tmp / "warehouse.duckdb"
    monkeypatch = pytest.MonkeyPatch()
    request.addfinalizer(monkeypatch.undo)
    monkeypatch.setenv("GRIDAUDIT_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    assert os.environ["GRIDAUDIT_WAREHOUSE"] == str(warehouse)
    create_empty_warehouse(warehouse)

    load_day(warehouse, D1)
    load_day(warehouse, D2)
    # (the same --vars in consecutive calls let dbt reuse its parse)
    dbt(tmp, "seed", *window(D1, D2))
    dbt(tmp, "run", "--select", "+area_daily_loss", *window(D1, D2))
    first = area_daily_loss(warehouse)

    # the incremental run is a `build`: unit tests, then models, then their data tests
    load_day(warehouse, D3)
    build = dbt(tmp, "build", "--select", "+area_daily_loss", *window(D3, D3))
    incremental = area_daily_loss(warehouse)
    incremental_reads = final_reads(warehouse)

    # a full refresh builds every loaded day whatever the window
    dbt(tmp, "run", "--select", "+area_daily_loss", "--full-refresh", *window(D3, D3))
    full = area_daily_loss(warehouse)
    full_reads = final_reads(warehouse)

    # re-running the last window changes nothing (idempotent)
    dbt(tmp, "run", "--select", "+area_daily_loss", *window(D3, D3))
    rerun = area_daily_loss(warehouse)
    rerun_reads = final_reads(warehouse)
    return {
        "tmp": tmp,
        "warehouse": warehouse,
        "first": first,
        "incremental": incremental,
        "full": full,
        "build_results": build["results"],
        "incremental_reads": incremental_reads,
        "full_reads": full_reads,
        "rerun": rerun,
        "rerun_reads": rerun_reads,
    }


READ_COLUMNS = (
    "data_id",
    "data_date",
    "col_time",
    "pap_r",
    "rap_r",
    "mark",
    "_export_date",
    "_source_file",
    "_line_number",
)


def final_reads(warehouse: Path) -> dict[str, list[tuple]]:
    """intermediate.int_day_reads_final (incremental) and the staging view it replaces."""
    columns = ", ".join(READ_COLUMNS)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            name: con.execute(
                f"SELECT {columns} FROM {relation} ORDER BY data_id, data_date"
            ).fetchall()
            for name, relation in (
                ("model", "intermediate.int_day_reads_final"),
                ("staging", "staging.stg_acquisition__day_reads"),
            )
        }


def assert_row(row, *, supply, sales, status, meter_count, meter_read_count, reason=None):
    assert row["supply_kwh"] == pytest.approx(supply, abs=1e-9)
    assert row["sales_kwh"] == pytest.approx(sales, abs=1e-9)
    assert row["loss_status"] == status
    assert row["meter_count"] == meter_count
    assert row["meter_read_count"] == meter_read_count
    if status == "uncomputable":
        assert row["uncomputable_reason"] == reason
        assert row["loss_rate"] is None and row["loss_kwh"] is None
    else:
        assert row["uncomputable_reason"] is None
        assert row["loss_kwh"] == pytest.approx(supply - sales, abs=1e-9)
        assert row["loss_rate"] == pytest.approx((supply - sales) / supply, abs=1e-12)


def test_first_run_builds_from_the_first_day_plus_one(runs):
    rows = runs["first"]
    assert sorted(rows) == [("TG1", "2026-03-02"), ("TG2", "2026-03-02")]
    # check meter (1002 - 1000) x 40 (C_METER, not E_DATA_MP's 1) + PV export 10;
    # sales 30 + 20 + 25 (S13 as first delivered)
    assert_row(
        rows["TG1", "2026-03-02"],
        supply=90,
        sales=75,
        status="high",
        meter_count=3,
        meter_read_count=3,
    )
    # S23 has no reading on 03-01: 2 of 3 meters (< 98 %)
    assert_row(
        rows["TG2", "2026-03-02"],
        supply=100,
        sales=90,
        status="uncomputable",
        meter_count=3,
        meter_read_count=2,
        reason="meter completeness below threshold",
    )


def test_incremental_run_recomputes_the_back_filled_day(runs):
    rows = runs["incremental"]
    assert sorted(rows) == [
        ("TG1", "2026-03-02"),
        ("TG1", "2026-03-03"),
        ("TG2", "2026-03-02"),
        ("TG2", "2026-03-03"),
    ]
    # 03-02 again: S13's corrected reading 320 (back-filled on 03-03): sales 30 + 20 + 20
    assert_row(
        rows["TG1", "2026-03-02"],
        supply=90,
        sales=70,
        status="high",
        meter_count=3,
        meter_read_count=3,
    )
    assert rows["TG1", "2026-03-02"]["loss_rate"] == pytest.approx(2 / 9, abs=1e-12)
    # check (1003.625 - 1002) x 40 = 65 + PV 15; sales 30 (S11, COL_TIME wins) + 15 + 30
    assert_row(
        rows["TG1", "2026-03-03"],
        supply=80,
        sales=75,
        status="qualified",
        meter_count=3,
        meter_read_count=3,
    )
    assert rows["TG1", "2026-03-03"]["loss_rate"] == pytest.approx(0.0625, abs=1e-12)
    assert rows["TG1", "2026-03-03"]["pv_export_kwh"] == pytest.approx(15)
    # exchange (185 - 150) x 1 + (5 - 0) x 1 = 40, roll-over 30 + 10^4 - 9990 = 40, S23 10
    assert_row(
        rows["TG2", "2026-03-03"],
        supply=85,
        sales=90,
        status="negative",
        meter_count=3,
        meter_read_count=3,
    )
    assert rows["TG2", "2026-03-03"]["loss_rate"] == pytest.approx(-5 / 85, abs=1e-12)
    assert_row(
        rows["TG2", "2026-03-02"],
        supply=100,
        sales=90,
        status="uncomputable",
        meter_count=3,
        meter_read_count=2,
        reason="meter completeness below threshold",
    )


def test_full_refresh_equals_the_incremental_result(runs):
    full, incremental = runs["full"], runs["incremental"]
    assert sorted(full) == sorted(incremental)
    columns = (
        "supply_kwh",
        "sales_kwh",
        "loss_kwh",
        "loss_rate",
        "loss_status",
        "meter_count",
        "meter_read_count",
        "uncomputable_reason",
    )
    for key, row in full.items():
        for column in columns:
            a, b = row[column], incremental[key][column]
            assert a == b, (key, column, a, b)


def test_incremental_final_reads_equal_the_staging_view(runs):
    """int_day_reads_final, kept incrementally (run 2 read only the export of 03-03), holds
    the final state of every reading: the staging view's rows, lineage included."""
    for reads in (runs["incremental_reads"], runs["full_reads"], runs["rerun_reads"]):
        assert reads["model"] == reads["staging"]
    model = {(r[0], str(r[1])): r for r in runs["incremental_reads"]["model"]}
    assert model["DP_S13", "2026-03-02"][3] == 320  # back-filled on 03-03: later export wins
    assert model["DP_S13", "2026-03-02"][6] == D3
    assert model["DP_S11", "2026-03-03"][3] == 560  # later COL_TIME beats the later line


def test_rerun_of_the_same_window_is_idempotent(runs):
    rerun, incremental = runs["rerun"], runs["incremental"]
    assert sorted(rerun) == sorted(incremental)
    columns = (
        "supply_kwh",
        "sales_kwh",
        "loss_kwh",
        "loss_rate",
        "loss_status",
        "meter_count",
        "meter_read_count",
        "uncomputable_reason",
    )
    for key, row in rerun.items():
        assert [row[c] for c in columns] == [incremental[key][c] for c in columns], key


def test_settings_are_recorded_and_comments_persisted(runs):
    row = runs["incremental"]["TG1", "2026-03-03"]
    assert row["settings_applied"] == (
        "completeness_min_share=0.98;loss_rate_high_above=0.10;loss_rate_negative_below=-0.01"
    )
    with duckdb.connect(str(runs["warehouse"]), read_only=True) as con:
        comments = dict(
            con.execute(
                "SELECT column_name, comment FROM duckdb_columns() "
                "WHERE schema_name = 'marts' AND table_name = 'area_daily_loss'"
            ).fetchall()
        )
    assert comments["loss_rate"].startswith("线损率")
    assert comments["supply_kwh"].startswith("供电量")


def test_meter_energy_flags(runs):
    with duckdb.connect(str(runs["warehouse"]), read_only=True) as con:
        rows = con.execute(
            "SELECT mp_id, forward_kwh, is_rollover, is_meter_exchange, is_computable, "
            "energy_status FROM intermediate.int_meter_energy_daily "
            "WHERE data_date = DATE '2026-03-03'"
        ).fetchall()
    energy = {r[0]: r[1:] for r in rows}
    assert energy["S22"] == (40, True, False, True, None)  # roll-over
    assert energy["S21"] == (40, False, True, True, None)  # meter exchange
    assert energy["S14"] == (None, False, False, False, "no data point")  # revoked, no data


def test_dbt_unit_tests_pass(runs):
    """`dbt build` runs the unit tests of the selected models before building them, and the
    data tests (keys, accepted values) after."""
    unit = {
        r["unique_id"].rsplit(".", 1)[-1]: r["status"]
        for r in runs["build_results"]
        if r["unique_id"].startswith("unit_test.")
    }
    assert {
        "energy_normal_day",
        "energy_rollover",
        "energy_register_backwards",
        "energy_meter_exchange",
        "energy_multiplier_change",
        "energy_missing_reads",
        "energy_pv_reverse",
        "balance_supply_sales",
        "area_daily_loss_completeness_threshold",
        "area_daily_loss_status_bands",
        "area_daily_loss_changed_settings",
        "day_reads_final_full_refresh",
        "day_reads_final_incremental",
    } <= set(unit)
    assert set(unit.values()) == {"pass"}, unit
    tests = [r for r in runs["build_results"] if r["unique_id"].startswith("test.")]
    assert tests and all(r["status"] == "pass" for r in tests)
