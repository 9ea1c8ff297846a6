"""The quality gate on small warehouses built in tmp_path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.lib import gate
from dagster_project.lib.warehouse import ensure_schema
from expectations.marts import area_daily_loss

START, END = dt.date(2024, 3, 2), dt.date(2024, 3, 3)
DAYS = [dt.date(2024, 3, 1), START, END]  # the window plus the day before it
N_AREAS = 20
N_READS = 200


def area_rows(days=DAYS, n_areas=N_AREAS) -> pd.DataFrame:
    rows = []
    for day in days:
        for i in range(n_areas):
            computable = i % 5 != 4
            supply = 1000.0 + i
            rate = (0.02, 0.15, -0.03, 0.05, None)[i % 5]
            status = {0: "qualified", 1: "high", 2: "negative", 3: "qualified"}.get(
                i % 5, "uncomputable"
            )
            rows.append(
                {
                    "tg_id": f"TG{i:04d}",
                    "data_date": day,
                    "org_no": f"ORG{i % 3}",
                    "supply_kwh": supply,
                    "sales_kwh": supply * (1 - rate) if computable else 700.0,
                    "loss_kwh": supply * rate if computable else None,
                    "loss_rate": rate,
                    "loss_status": status,
                    "meter_count": 50,
                    "meter_read_count": 50 if computable else 40,
                    "uncomputable_reason": None
                    if computable
                    else "meter completeness below threshold",
                }
            )
    return pd.DataFrame(rows)


def read_rows(day: dt.date, n: int = N_READS) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "DATA_ID": [f"DP{i:06d}" for i in range(n)],
            "DATA_DATE": [day] * n,
            "COL_TIME": [dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2))] * n,
            "PAP_R": [1000.0 + i for i in range(n)],
            "PAP_R1": 100.0,
            "PAP_R2": 300.0,
            "PAP_R3": 400.0,
            "PAP_R4": [200.0 + i for i in range(n)],
            "RAP_R": 0.0,
            "MARK": "0",
            "_export_date": [day] * n,
            "_source_file": f"acquisition/{day}/E_MP_DAY_READ.csv",
            "_line_number": list(range(2, n + 2)),
        }
    )


CODES = pd.DataFrame(
    {
        "problem_code": ["L01", "A07", "M01"],
        "problem_name": ["台区高损", "联系电话异常", "采集失败"],
        "problem_level": ["area", "customer", "customer"],
        "category": ["线损", "客户服务", "采集"],
        "severity": ["high", "low", "medium"],
        "suggested_action": ["核查", "核实", "消缺"],
    }
)


def history_rows(days=DAYS, n=10) -> pd.DataFrame:
    rows = []
    for day in days:
        for i in range(n):
            code = ("L01", "A07")[i % 2]
            rows.append(
                {
                    "detected_date": day,
                    "tg_id": f"TG{i:04d}",
                    "org_no": "ORG1",
                    "cons_no": None if code == "L01" else f"C{i:04d}",
                    "problem_code": code,
                    "finding_key": f"{code}|{i}",
                    "evidence": f"loss rate {i} %",
                    "settings_fingerprint": "abc",
                }
            )
    return pd.DataFrame(rows)


def problem_list_rows(as_of=END, n=10) -> pd.DataFrame:
    h = history_rows(days=[as_of], n=n).merge(CODES, on="problem_code")
    return (
        h.rename(columns={"detected_date": "as_of_date"})
        .assign(first_detected_date=DAYS[0], consecutive_days=3)
        .drop(columns="category")
    )


def kpi_rows(days=DAYS, n_units=6) -> pd.DataFrame:
    """Two indicators per unit and day: a rate (i of 5, no value for the 0 / 0 unit) and
    the mean connection time (60 days / 2 applications)."""
    rows = []
    for day in days:
        for i in range(n_units):
            den = 5.0 if i != 5 else 0.0
            num = float(min(i, den))
            base = {
                "period_type": "day",
                "period_start": day,
                "period_end": day,
                "as_of_date": day,
                "unit_level": ("station", "county", "city")[i % 3],
                "org_no": f"ORG{i}",
                "fact_date_from": day,
                "fact_date_to": day,
            }
            rows.append(
                {
                    **base,
                    "indicator_code": "area_mapping_rate",
                    "value_unit": "share",
                    "numerator_value": num,
                    "denominator_value": den,
                    "indicator_value": num / den if den else None,
                    "object_count": int(den),
                }
            )
            rows.append(
                {
                    **base,
                    "indicator_code": "hv_connect_days",
                    "value_unit": "days",
                    "numerator_value": 60.0,
                    "denominator_value": 2.0,
                    "indicator_value": 30.0,
                    "object_count": 2,
                }
            )
    return pd.DataFrame(rows)


def settings_rows() -> pd.DataFrame:
    from dagster_project.lib import audit_settings

    values = audit_settings.load()
    return pd.DataFrame(
        {
            "setting_name": list(values),
            "setting_value": list(values.values()),
            "settings_fingerprint": "abc",
        }
    )


def theft_rows() -> pd.DataFrame:
    """Three suspects as of END: an event that opened a 60 % drop (25 + 35 x 0.6), a drop
    only (35 x 0.5), zero energy while read (10); ranks overall, within the area and the
    供电所."""
    base = {
        "as_of_date": END,
        "tg_name": "台区",
        "org_no": "S1",
        "station_no": "S1",
        "elec_type_code": "401",
        "station_rank": 1,
        "value_rank": 1,
        "latest_event_code": None,
        "latest_event_time": None,
        "event_count": 0,
        "event_age_days": None,
        "event_opens_shift": False,
        "event_points": 0.0,
        "shift_start_date": END - dt.timedelta(days=20),
        "shift_days": 21,
        "baseline_read_days": 28,
        "baseline_mean_kwh": 10.0,
        "shift_read_days": 21,
        "shift_mean_kwh": 10.0,
        "recent_mean_kwh": 10.0,
        "energy_drop_share": 0.0,
        "drop_points": 0.0,
        "peer_group": "area",
        "peer_group_size": 20,
        "peer_baseline_kwh": 10.0,
        "peer_shift_kwh": 10.0,
        "relative_drop_share": 0.0,
        "peer_points": 0.0,
        "area_loss_kwh_before": 50.0,
        "area_loss_kwh_in_shift": 50.0,
        "area_extra_loss_kwh": 0.0,
        "comovement_ratio": 0.0,
        "comovement_points": 0.0,
        "area_confirmation": "confirmed",
        "area_factor": 1.0,
        "zero_energy_days": 0,
        "zero_points": 0.0,
        "baseline_valley_share": 0.3,
        "shift_valley_share": 0.3,
        "valley_shift_pp": 0.0,
        "valley_points": 0.0,
        "missing_kwh": 0.0,
        "unit_price": 0.8,
        "missing_value_yuan": 0.0,
        "work_order_no": None,
        "work_order_status": None,
        "answer_deadline": None,
        "false_positive_date": None,
        "is_suppressed": False,
        "settings_fingerprint": "abc",
    }
    rows = [
        {
            **base,
            "cons_no": "C1",
            "tg_id": "T1",
            "theft_score": 46.0,
            "raw_score": 46.0,
            "score_rank": 1,
            "area_rank": 1,
            "signal_count": 2,
            "signals": "自 ... 起日均电量 10.0 → 4.0 kWh (下降 60%); ERC37 开表盖 (电量下降起点)",
            "event_count": 1,
            "latest_event_code": "ERC37",
            "latest_event_time": dt.datetime(2024, 3, 1, 10, 12),
            "event_age_days": 21,
            "event_opens_shift": True,
            "event_points": 25.0,
            "shift_mean_kwh": 4.0,
            "recent_mean_kwh": 4.0,
            "energy_drop_share": 0.6,
            "drop_points": 21.0,
            "missing_kwh": 126.0,
            "missing_value_yuan": 100.8,
        },
        {
            **base,
            "cons_no": "C2",
            "tg_id": "T1",
            "theft_score": 17.5,
            "raw_score": 17.5,
            "score_rank": 2,
            "area_rank": 2,
            "station_rank": 2,
            "value_rank": 2,
            "signal_count": 1,
            "signals": "电量下降 50%",
            "shift_mean_kwh": 5.0,
            "recent_mean_kwh": 5.0,
            "energy_drop_share": 0.5,
            "drop_points": 17.5,
            "missing_kwh": 105.0,
            "missing_value_yuan": 84.0,
        },
        {
            **base,
            "cons_no": "C3",
            "tg_id": "T2",
            "theft_score": 10.0,
            "raw_score": 10.0,
            "score_rank": 3,
            "area_rank": 1,
            "station_rank": 3,
            "value_rank": 3,
            "signal_count": 1,
            "signals": "下降后 5 天抄表正常但零电量",
            "zero_energy_days": 5,
            "zero_points": 10.0,
        },
    ]
    return pd.DataFrame(rows)


def kpi_daily_rows(days=DAYS) -> pd.DataFrame:
    """Per day, station S1: two areas of the mapping rate (one mapped, the other in the
    drill-down), one application of 30 days (every application is in the drill-down)."""
    rows = []
    for day in days:
        for code, numerator, denominator, objects, drill_down in (
            ("area_mapping_rate", 1.0, 2.0, 2, 1),
            ("hv_connect_days", 30.0, 1.0, 1, 1),
        ):
            rows.append(
                {
                    "data_date": day,
                    "indicator_code": code,
                    "org_no": "S1",
                    "station_no": "S1",
                    "county_no": "K1",
                    "city_no": "X1",
                    "numerator_value": numerator,
                    "denominator_value": denominator,
                    "object_count": objects,
                    "drill_down_count": drill_down,
                }
            )
    return pd.DataFrame(rows)


def kpi_fact_rows(days=DAYS) -> pd.DataFrame:
    """Per day, the drill-down of kpi_daily_rows: the unmapped area T2 and the application."""
    rows = []
    for day in days:
        rows.append(
            {
                "data_date": day,
                "indicator_code": "area_mapping_rate",
                "object_type": "area",
                "object_id": "T2",
                "tg_id": "T2",
                "org_no": "S1",
                "station_no": "S1",
                "county_no": "K1",
                "city_no": "X1",
                "numerator_value": 0.0,
                "denominator_value": 1.0,
                "detail": "未对应",
            }
        )
        rows.append(
            {
                "data_date": day,
                "indicator_code": "hv_connect_days",
                "object_type": "application",
                "object_id": f"APP{day:%d}",
                "tg_id": None,
                "org_no": "S1",
                "station_no": "S1",
                "county_no": "K1",
                "city_no": "X1",
                "numerator_value": 30.0,
                "denominator_value": 1.0,
                "detail": "接电 30 天",
            }
        )
    return pd.DataFrame(rows)


def work_order_rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "work_order_no": "JC20240302A07ABCDEF01",
                "finding_key": "A07|C1",
                "problem_code": "A07",
                "org_no": "S1",
                "receiving_level": "station",
                "station_no": "S1",
                "county_no": "K1",
                "city_no": "X1",
                "dispatch_date": DAYS[0],
                "answer_deadline": DAYS[0] + dt.timedelta(days=10),
                "status": "已派发",
                "is_overdue": False,
                "first_answer_date": pd.NaT,
                "archived_date": pd.NaT,
                "archive_reason": None,
                "ineffective_date": pd.NaT,
                "verified_date": pd.NaT,
            }
        ]
    )


def work_order_event_rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "event_date": DAYS[0],
                "event_seq": 2000,
                "work_order_no": "JC20240302A07ABCDEF01",
                "finding_key": "A07|C1",
                "from_status": None,
                "to_status": "已派发",
                "source": "dispatch",
                "source_file": None,
                "line_number": None,
            }
        ]
    )


def mart_frames() -> dict[str, pd.DataFrame]:
    from expectations.marts.problems import KPI_INDICATOR_FILE

    return {
        "area_problem_list": problem_list_rows(),
        "problem_history": history_rows(),
        "unit_kpis": kpi_rows(),
        "unit_kpi_daily": kpi_daily_rows(),
        "unit_kpi_facts": kpi_fact_rows(),
        "dim_kpi_indicator": pd.read_csv(KPI_INDICATOR_FILE, dtype=str),
        "theft_suspects": theft_rows(),
        "dim_problem_code": CODES,
        "audit_settings": settings_rows(),
        "work_orders": work_order_rows(),
        "work_order_events": work_order_event_rows(),
    }


def build_warehouse(
    path: Path,
    areas: pd.DataFrame | None = None,
    reads: dict[dt.date, pd.DataFrame] | None = None,
    with_mart: bool = True,
    marts: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """A warehouse with every mart (valid rows unless overridden by `marts`) and the
    readings of `reads`; the other raw tables exist and are empty."""
    areas = area_rows() if areas is None else areas
    reads = {d: read_rows(d) for d in DAYS} if reads is None else reads
    frames = {**mart_frames(), **(marts or {})}
    with duckdb.connect(str(path)) as con:
        ensure_schema(con)
        con.execute("create schema marts")
        for name, frame in frames.items():
            if with_mart and frame is not None:
                con.register("frame", frame)
                con.execute(f"create table marts.{name} as select * from frame")
                con.unregister("frame")
        if with_mart:
            con.execute("""
                create table marts.area_daily_loss (
                    tg_id varchar, data_date date, org_no varchar, supply_kwh double,
                    sales_kwh double, loss_kwh double, loss_rate double,
                    loss_status varchar, meter_count bigint, meter_read_count bigint,
                    uncomputable_reason varchar)""")
            if len(areas):
                con.register("areas", areas)
                con.execute("insert into marts.area_daily_loss by name select * from areas")
        # the acquisition archive knows every DATA_ID of the readings (a snapshot of DAYS[0])
        con.execute(
            """insert into raw_acquisition."E_DATA_MP" ("DATA_ID", _export_date,
                       _source_file, _line_number)
                       select printf('DP%06d', i), ?, 'acquisition/E_DATA_MP/x.csv', i + 2
                       from range(?) as t(i)""",
            [DAYS[0], N_READS],
        )
        for day, df in reads.items():
            con.register("reads", df)
            con.execute('insert into raw_acquisition."E_MP_DAY_READ" by name select * from reads')
            con.execute(
                "insert into meta.extract_files values ('acquisition', 'E_MP_DAY_READ', ?, ?, "
                "'x', ?, ?, 0, '', now())",
                [day, f"acquisition/{day}/E_MP_DAY_READ.csv", len(df), len(df)],
            )
    return path


def by_name(result: gate.GateResult, name: str, table: str | None = None) -> gate.ExpectationResult:
    return next(r for r in result.results if r.name == name and (table is None or r.table == table))


def test_good_batch_passes(tmp_path):
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    result = gate.run_gate(wh, START, END, tmp_path / "reports")
    assert result.passed, result.summary()
    assert not result.warnings, result.summary()
    assert result.results and all(r.success for r in result.results)
    # only the window's rows were validated: 2 days x 20 areas, reads one day at a time
    rate = by_name(result, "expect_column_values_to_be_between(loss_rate, None, 1)")
    assert rate.element_count == 2 * N_AREAS
    assert (
        by_name(
            result, "expect_column_values_to_not_be_null(DATA_ID)", "raw_acquisition.E_MP_DAY_READ"
        ).element_count
        == 2 * N_READS
    )
    assert result.report_path and result.report_path.parent == tmp_path / "reports"
    assert "PASSED" in result.report_path.read_text(encoding="utf-8")


def test_violating_batch_fails_naming_expectation_and_rows(tmp_path):
    areas = area_rows()
    duplicate = areas[(areas.tg_id == "TG0000") & (areas.data_date == END)]
    areas = pd.concat([areas, duplicate], ignore_index=True)
    areas.loc[(areas.tg_id == "TG0003") & (areas.data_date == START), "loss_rate"] = 5.0
    areas.loc[(areas.tg_id == "TG0007") & (areas.data_date == END), "loss_status"] = "bad"
    wh = build_warehouse(tmp_path / "warehouse.duckdb", areas=areas)

    result = gate.run_gate(wh, START, END, tmp_path / "reports")

    assert not result.passed
    failed = {r.name: r for r in result.errors}
    dup = failed["expect_compound_columns_to_be_unique([tg_id, data_date])"]
    assert dup.unexpected_count == 2
    assert {(r["tg_id"], r["data_date"]) for r in dup.sample_rows} == {("TG0000", "2024-03-03")}
    rate = failed["expect_column_values_to_be_between(loss_rate, None, 1)"]
    assert rate.unexpected_count == 1
    assert rate.message.startswith(
        "marts.area_daily_loss: expect_column_values_to_be_between(loss_rate, None, 1) "
        "failed on 1 rows, e.g. tg_id=TG0003, data_date=2024-03-02"
    )
    assert "loss_rate=5.0" in rate.message
    assert rate.sample_rows[0]["loss_status"] == "qualified"  # whole rows in the sample
    status = failed[
        "expect_column_values_to_be_in_set(loss_status, {qualified, high, negative, uncomputable})"
    ]
    assert status.unexpected_count == 1 and status.sample_rows[0]["tg_id"] == "TG0007"
    # 5.0 is also outside the qualified band of the settings; the rest of the suite holds
    assert set(failed) == {
        dup.name,
        rate.name,
        status.name,
        (
            "expect_column_values_to_be_between(loss_rate, -0.01, 0.1) "
            "where loss_status == 'qualified'"
        ),
    }
    summary = result.summary()
    assert "gate FAILED" in summary and rate.message in summary
    report = result.report_path.read_text(encoding="utf-8")
    assert "TG0003" in report and "expect_compound_columns_to_be_unique" in report


def test_uncomputable_rows_must_not_carry_a_rate(tmp_path):
    areas = area_rows()
    areas.loc[(areas.tg_id == "TG0004") & (areas.data_date == START), "loss_rate"] = 0.05
    areas.loc[(areas.tg_id == "TG0000") & (areas.data_date == START), "uncomputable_reason"] = (
        "no supply"
    )
    wh = build_warehouse(tmp_path / "warehouse.duckdb", areas=areas)
    result = gate.run_gate(wh, START, END, None)
    assert not result.passed
    assert {r.name for r in result.errors} == {
        "expect_column_values_to_be_null(loss_rate) where loss_status == 'uncomputable'",
        (
            "expect_column_values_to_be_null(uncomputable_reason) "
            "where loss_status != 'uncomputable'"
        ),
    }
    assert result.report_path is None


def test_truncated_reads_day_fails(tmp_path):
    reads = {d: read_rows(d) for d in DAYS}
    reads[END] = read_rows(END, n=N_READS // 10)  # 10 % of the previous day's rows
    wh = build_warehouse(tmp_path / "warehouse.duckdb", reads=reads)
    result = gate.run_gate(wh, START, END, tmp_path / "reports")
    assert not result.passed
    assert [r.name for r in result.errors] == ["read_count_vs_previous_day"]
    check = result.errors[0]
    assert check.unexpected_count == 1 and check.element_count == 2
    assert check.sample_rows[0]["export_date"] == "2024-03-03"
    assert check.sample_rows[0]["row_count"] == 20
    assert check.sample_rows[0]["previous_row_count"] == 200
    assert "raw_acquisition.E_MP_DAY_READ: read_count_vs_previous_day failed" in check.message


def test_missing_export_day_fails(tmp_path):
    reads = {d: read_rows(d) for d in DAYS if d != END}
    wh = build_warehouse(tmp_path / "warehouse.duckdb", reads=reads)
    result = gate.run_gate(wh, START, END, None)
    assert not result.passed
    assert [r.name for r in result.errors] == ["read_count_vs_previous_day"]
    assert result.errors[0].sample_rows[0]["row_count"] == 0


def test_mart_row_count_jump_fails(tmp_path):
    areas = area_rows()
    areas = areas[~((areas.data_date == END) & (areas.tg_id >= "TG0005"))]  # 5 of 20 left
    wh = build_warehouse(tmp_path / "warehouse.duckdb", areas=areas)
    result = gate.run_gate(wh, START, END, None)
    assert not result.passed
    assert [r.name for r in result.errors] == ["row_count_vs_previous_day"]
    assert result.errors[0].sample_rows[0]["data_date"] == "2024-03-03"


def test_mart_starts_the_day_after_the_first_export(tmp_path):
    """The first export day has no area_daily_loss rows (no D-1 readings): not a failure;
    a later day without rows is."""
    areas = area_rows(days=DAYS[1:])
    wh = build_warehouse(tmp_path / "warehouse.duckdb", areas=areas)
    result = gate.run_gate(wh, DAYS[0], END, None)
    assert result.passed, result.summary()

    areas = area_rows(days=[DAYS[0], END])  # START missing in the middle
    wh = build_warehouse(tmp_path / "gap.duckdb", areas=areas)
    result = gate.run_gate(wh, DAYS[0], END, None, table_suites=[])  # metric checks only
    assert not result.passed
    assert [r.name for r in result.errors] == ["row_count_vs_previous_day"]
    assert [r["data_date"] for r in result.errors[0].sample_rows] == ["2024-03-02"]

    wh = build_warehouse(tmp_path / "empty.duckdb", areas=area_rows(days=[]))  # dbt wrote nothing
    result = gate.run_gate(wh, DAYS[0], END, None, table_suites=[])
    assert [r["data_date"] for r in result.errors[0].sample_rows] == ["2024-03-02", "2024-03-03"]


def _quarantine(
    con,
    day: dt.date,
    file: str,
    rows_read: int,
    rejected: int,
    table: str = "E_EVENT",
    system: str = "acquisition",
) -> None:
    """meta.extract_files and quarantine.rejected_rows of one landing file whose first
    `rejected` data lines were rejected (a bad date, then numbers in Chinese notation)."""
    con.execute(
        "insert into meta.extract_files values (?, ?, ?, ?, 'x', ?, ?, ?, '', now())",
        [system, table, day, file, rows_read, rows_read - rejected, rejected],
    )
    for line in range(2, rejected + 2):
        reason = (
            "START_TIME: not a valid timestamp (2024-13-01)"
            if line % 2
            else "VALUE: not a valid decimal (12,5)"
        )
        con.execute(
            "insert into quarantine.rejected_rows values (?, ?, ?, ?, ?, 'raw text', ?, now())",
            [system, table, day, file, line, reason],
        )


def test_one_bad_row_in_a_small_file_is_a_warning_naming_file_and_reason(tmp_path):
    """1 of a 3-row file is 33 %, above quarantine_max_share, but not more rows than
    quarantine_min_rejected_rows: a bad row never stops the publish; it is reported."""
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        _quarantine(con, START, "acquisition/E_EVENT/2024-03-02.csv", rows_read=3, rejected=1)
        _quarantine(
            con,
            END,
            "collection/A_PAY_FLOW/2024-03-03.csv",
            rows_read=26,
            rejected=2,
            table="A_PAY_FLOW",
            system="collection",
        )
    result = gate.run_gate(wh, START, END, None)
    assert result.passed, result.summary()
    warned = {r.table: r for r in result.warnings if r.name == "quarantined_rows"}
    assert set(warned) == {"raw_acquisition.E_EVENT", "raw_collection.A_PAY_FLOW"}
    row = warned["raw_acquisition.E_EVENT"].sample_rows[0]
    assert (
        row["export_date"],
        row["rows_read"],
        row["rows_rejected"],
        row["files"],
        row["reasons"],
    ) == (
        "2024-03-02",
        3,
        1,
        "acquisition/E_EVENT/2024-03-02.csv",
        "VALUE: not a valid decimal x 1",
    )
    assert warned["raw_collection.A_PAY_FLOW"].sample_rows[0]["reasons"] == (
        "START_TIME: not a valid timestamp x 1; VALUE: not a valid decimal x 1"
    )
    assert "quarantined_rows failed on 1 of 1" in warned["raw_acquisition.E_EVENT"].message
    assert "WARN  raw_acquisition.E_EVENT: quarantined_rows" in result.summary()


def test_systemic_share_of_rejected_rows_blocks_naming_table_day_share_and_count(tmp_path):
    """60 of 1,000 rows rejected: more than quarantine_min_rejected_rows (50) and above
    quarantine_max_share (1 %) -> blocks; 50 of 1,000 (not more than 50) and 60 of 10,000
    (0.6 %) are warnings."""
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        _quarantine(con, START, "acquisition/E_EVENT/2024-03-02.csv", rows_read=1000, rejected=60)
        _quarantine(con, END, "acquisition/E_EVENT/2024-03-03.csv", rows_read=1000, rejected=50)
        _quarantine(
            con,
            START,
            "marketing/C_CONS/2024-03-02.csv",
            rows_read=10_000,
            rejected=60,
            table="C_CONS",
            system="marketing",
        )
    result = gate.run_gate(wh, START, END, None)
    assert not result.passed
    assert [(r.name, r.table) for r in result.errors] == [
        ("quarantine_share", "raw_acquisition.E_EVENT")
    ]
    error = result.errors[0]
    assert [
        (r["export_date"], r["rows_rejected"], r["rejected_share"]) for r in error.sample_rows
    ] == [("2024-03-02", 60, 0.06)]
    for text in (
        "raw_acquisition.E_EVENT: quarantine_share failed on 1 of 2",
        "table_name=E_EVENT",
        "export_date=2024-03-02",
        "rows_rejected=60",
        "rejected_share=0.06",
    ):
        assert text in error.message, error.message
    assert {
        (r.table, r.sample_rows[0]["export_date"])
        for r in result.warnings
        if r.name == "quarantined_rows"
    } == {("raw_acquisition.E_EVENT", "2024-03-03"), ("raw_marketing.C_CONS", "2024-03-02")}


def test_a_file_with_no_loadable_row_blocks_whatever_its_size(tmp_path):
    """A file none of whose rows could be loaded (a wrong encoding, shifted columns) is a
    broken delivery, not a bad row: it blocks even below quarantine_min_rejected_rows."""
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        _quarantine(con, START, "acquisition/E_EVENT/2024-03-02.csv", rows_read=3, rejected=3)
    result = gate.run_gate(wh, START, END, None)
    assert [(r.name, r.table) for r in result.errors] == [
        ("quarantine_share", "raw_acquisition.E_EVENT")
    ]
    assert result.errors[0].sample_rows[0]["wholly_rejected_files"] == (
        "acquisition/E_EVENT/2024-03-02.csv"
    )


def test_every_result_is_reported_on_a_checked_table(tmp_path):
    """Dagster makes one blocking asset check per table of CHECKED_TABLES (every raw table
    and every mart) and reports `results_for(table)` on it: every result reaches a check,
    and a raw table's failure is reported on that raw table only, not on the marts."""
    from expectations import CHECKED_TABLES, MART_TABLES

    reads = {d: read_rows(d) for d in DAYS}
    reads[END] = read_rows(END, n=N_READS // 10)
    wh = build_warehouse(tmp_path / "warehouse.duckdb", reads=reads)
    result = gate.run_gate(wh, START, END, None)
    reported = [r for t in CHECKED_TABLES for r in result.results_for(t)]
    assert {id(r) for r in reported} == {id(r) for r in result.results}
    assert [(r.name, r.table) for r in result.errors] == [
        ("read_count_vs_previous_day", "raw_acquisition.E_MP_DAY_READ")
    ]
    assert [r.name for r in result.results_for("raw_acquisition.E_MP_DAY_READ") if r.blocking] == [
        "read_count_vs_previous_day"
    ]
    for mart in MART_TABLES:
        assert not [r for r in result.results_for(mart) if r.blocking], mart
    assert {"raw_marketing.C_CONS", "raw_acquisition.E_MP_DAY_READ"} <= {
        r.table for r in result.results
    }  # quarantine share: one result per raw table


def test_the_raw_gate_of_one_table_runs_only_that_tables_checks(tmp_path):
    """The raw asset check of E_MP_DAY_READ (gate="raw", tables=[it]) reports its own
    suite and metric checks and the quarantine results of that table only; the marts gate
    holds no raw-table result."""
    from expectations import MART_TABLES

    reads = {d: read_rows(d) for d in DAYS}
    reads[END] = read_rows(END, n=N_READS // 10)
    wh = build_warehouse(tmp_path / "warehouse.duckdb", reads=reads)
    raw = gate.run_gate(
        wh, START, END, tmp_path / "reports", gate="raw", tables=["raw_acquisition.E_MP_DAY_READ"]
    )
    assert {r.table for r in raw.results} == {"raw_acquisition.E_MP_DAY_READ"}
    assert {
        "read_count_vs_previous_day",
        "quarantine_share",
        "quarantined_rows",
        "reference_readings_of_a_known_data_point",
    } <= {r.name for r in raw.results}
    assert [r.name for r in raw.errors] == ["read_count_vs_previous_day"]
    assert raw.gate == "raw:raw_acquisition.E_MP_DAY_READ"
    assert raw.report_path.name.startswith("gate-raw-raw_acquisition.E_MP_DAY_READ-2024-03-02")
    marts = gate.run_gate(wh, START, END, None, gate="marts")
    assert {r.table for r in marts.results} <= set(MART_TABLES)
    assert marts.passed, marts.summary()


def test_missing_extract_log_is_reported(tmp_path):
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        con.execute("drop table meta.extract_files")
    result = gate.run_gate(wh, START, END, None)
    assert not result.passed
    missing = {r.message for r in result.errors if r.kind == "missing_table"}
    assert (
        "raw_marketing.C_CONS: meta.extract_files: table does not exist in "
        f"{wh} (needed by quarantine_share); has the step that builds it run?"
    ) in missing


def test_warn_failure_does_not_block(tmp_path):
    areas = area_rows()
    areas.loc[areas.tg_id == "TG0000", ["meter_count", "meter_read_count"]] = 0
    reads = {d: read_rows(d) for d in DAYS}
    reads[START].loc[5, "RAP_R"] = -1.0
    wh = build_warehouse(tmp_path / "warehouse.duckdb", areas=areas, reads=reads)
    result = gate.run_gate(wh, START, END, tmp_path / "reports")
    assert result.passed, result.summary()
    assert {r.name for r in result.warnings} == {
        "expect_column_values_to_be_between(meter_count, 1, None)",
        "expect_column_values_to_be_between(RAP_R, 0, None)",
    }
    assert all(r.severity == "warn" for r in result.warnings)
    assert "WARN  raw_acquisition.E_MP_DAY_READ" in result.summary()
    assert "warning" in result.report_path.read_text(encoding="utf-8")


def test_the_same_violation_with_severity_error_blocks(tmp_path):
    """The counterpart of the warn test: only the severity differs."""
    import great_expectations.expectations as gxe

    from expectations.base import ERROR_KW, TableSuite, suite

    areas = area_rows()
    areas.loc[areas.tg_id == "TG0000", ["meter_count", "meter_read_count"]] = 0
    wh = build_warehouse(tmp_path / "warehouse.duckdb", areas=areas)
    strict = TableSuite(
        table=area_daily_loss.TABLE,
        window_column="data_date",
        key_columns=("tg_id",),
        build=lambda s: suite(
            "strict",
            [gxe.ExpectColumnValuesToBeBetween(column="meter_count", min_value=1, **ERROR_KW)],
        ),
    )
    result = gate.run_gate(wh, START, END, None, table_suites=[strict], metric_checks=[])
    assert not result.passed and result.errors[0].unexpected_count == 2


def test_missing_mart_is_an_error_with_a_clear_message(tmp_path):
    wh = build_warehouse(tmp_path / "warehouse.duckdb", with_mart=False)
    result = gate.run_gate(wh, START, END, tmp_path / "reports")
    assert not result.passed
    missing = [r for r in result.errors if r.kind == "missing_table"]
    from expectations import MART_TABLES

    assert {r.table for r in missing} == set(MART_TABLES)
    assert "marts.area_daily_loss: table does not exist" in missing[0].message


def test_gate_opens_the_warehouse_read_only_and_closes_it(tmp_path):
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    # A read-only connection of this process is held open: DuckDB refuses a second
    # connection to the file with another configuration, so the gate must be read-only.
    reader = duckdb.connect(str(wh), read_only=True)
    try:
        assert gate.run_gate(wh, START, END, None).passed
        assert reader.execute("select count(*) from marts.area_daily_loss").fetchone()[0] > 0
    finally:
        reader.close()
    duckdb.connect(str(wh)).close()  # nothing left open: a writer gets the file


def test_missing_warehouse_raises(tmp_path):
    with pytest.raises(gate.GateError, match="does not exist"):
        gate.run_gate(tmp_path / "nope.duckdb", START, END, None)


def test_reading_from_the_future_fails(tmp_path):
    reads = {d: read_rows(d) for d in DAYS}
    reads[END].loc[7, "DATA_DATE"] = END + dt.timedelta(days=1)
    wh = build_warehouse(tmp_path / "warehouse.duckdb", reads=reads)
    result = gate.run_gate(wh, START, END, None)
    assert not result.passed
    assert [r.name for r in result.errors] == [
        "expect_column_pair_values_a_to_be_greater_than_b(_export_date >= DATA_DATE)"
    ]
    sample = result.errors[0].sample_rows[0]
    assert (sample["DATA_ID"], sample["_line_number"]) == ("DP000007", 9)
    assert "DATA_ID=DP000007" in result.errors[0].message


# ------------------------------------------------------------- raw contract suites


def test_every_contract_table_has_a_raw_suite_and_every_setting_exists():
    from dagster_project.lib import audit_settings
    from dagster_project.lib.landing_contract import ALL_TABLES
    from expectations import registry
    from expectations.raw import contract

    suites = {s.table for s in registry.TABLE_SUITES}
    # the four source systems' tables and the feedback's two
    assert {f"{t.schema}.{t.name}" for t in ALL_TABLES} <= suites
    assert {"raw_feedback.WORKBOOK_FEEDBACK", "raw_feedback.R_AUDIT_FEEDBACK"} <= suites
    settings = audit_settings.load()
    for check in registry.METRIC_CHECKS:
        assert set(check.settings) <= set(settings), check.name
    for spec in registry.TABLE_SUITES:
        spec.build(settings)  # every suite builds from the committed settings
    assert {r.setting for r in contract.REFERENCES} <= set(settings)


def _insert(con, table: str, rows: list[dict]) -> None:
    con.register("rows_df", pd.DataFrame(rows))
    con.execute(f"insert into {table} by name select * from rows_df")
    con.unregister("rows_df")


def _area_and_customers(con, day, n_customers=200, unknown_area=0, bad_code=0, duplicated=0):
    _insert(
        con,
        'raw_marketing."G_TG"',
        [
            {
                "TG_ID": "G1",
                "TG_NO": "1",
                "ORG_NO": "S1",
                "RUN_STATUS_CODE": "01",
                "_export_date": day,
                "_source_file": "marketing/G_TG/x.csv",
                "_line_number": 2,
            }
        ],
    )
    rows = [
        {
            "CONS_NO": f"C{i:05d}",
            "ORG_NO": "S1",
            "TG_ID": "G404" if i < unknown_area else "G1",
            "STATUS_CODE": "7" if i < bad_code else "1",
            "_export_date": day,
            "_source_file": "marketing/C_CONS/x.csv",
            "_line_number": i + 2,
        }
        for i in range(n_customers)
    ]
    rows += [{**rows[-1 - i], "_line_number": n_customers + 2 + i} for i in range(duplicated)]
    _insert(con, 'raw_marketing."C_CONS"', rows)


def test_raw_code_outside_its_set_fails_naming_table_key_and_line(tmp_path):
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        _area_and_customers(con, START, bad_code=1)
    result = gate.run_gate(wh, START, END, None)
    assert [(r.table, r.name) for r in result.errors] == [
        ("raw_marketing.C_CONS", "expect_column_values_to_be_in_set(STATUS_CODE, {1, 9})")
    ]
    assert "CONS_NO=C00000" in result.errors[0].message
    assert "_line_number=2" in result.errors[0].message


def test_snapshot_duplicates_warn_below_the_share_and_block_above(tmp_path):
    wh = build_warehouse(tmp_path / "few.duckdb")
    with duckdb.connect(str(wh)) as con:  # 1 of 201 rows repeats a key: 0.5 % <= 1 %
        _area_and_customers(con, START, duplicated=1)
    result = gate.run_gate(wh, START, END, None)
    assert result.passed, result.summary()
    assert [(r.table, r.name) for r in result.warnings] == [
        ("raw_marketing.C_CONS", "expect_compound_columns_to_be_unique([CONS_NO, _export_date])")
    ]

    wh = build_warehouse(tmp_path / "many.duckdb")
    with duckdb.connect(str(wh)) as con:  # 5 of 205: 2.4 % > 1 %
        _area_and_customers(con, START, duplicated=5)
    result = gate.run_gate(wh, START, END, None)
    assert [(r.table, r.name) for r in result.errors] == [
        ("raw_marketing.C_CONS", "snapshot_duplicate_key_share")
    ]
    row = result.errors[0].sample_rows[0]
    assert (row["export_date"], row["row_count"], row["duplicated_rows"]) == ("2024-03-02", 205, 5)


def test_delta_redelivery_within_a_file_is_only_a_warning(tmp_path):
    reads = {d: read_rows(d) for d in DAYS}
    reads[START] = pd.concat([reads[START], reads[START].head(50)], ignore_index=True)
    reads[START]["_line_number"] = range(2, len(reads[START]) + 2)
    wh = build_warehouse(tmp_path / "warehouse.duckdb", reads=reads)
    result = gate.run_gate(wh, START, END, None)
    assert result.passed, result.summary()
    assert [r.name for r in result.warnings] == [
        "expect_compound_columns_to_be_unique([DATA_ID, DATA_DATE, _export_date])"
    ]
    assert result.warnings[0].unexpected_count == 100


def test_referential_integrity_is_a_ratio_with_a_threshold(tmp_path):
    wh = build_warehouse(tmp_path / "one.duckdb")
    with duckdb.connect(str(wh)) as con:  # 1 of 200 customers on an unknown area: 99.5 %
        _area_and_customers(con, START, unknown_area=1)
    result = gate.run_gate(wh, START, END, None)
    assert result.passed, result.summary()
    check = by_name(result, "reference_active_customers_on_a_known_area")
    assert [d["matched_share"] for d in check.details] == [0.995, 0.995]  # as of each day

    wh = build_warehouse(tmp_path / "many.duckdb")
    with duckdb.connect(str(wh)) as con:  # 4 of 200: 98 % < 99 %
        _area_and_customers(con, START, unknown_area=4)
    result = gate.run_gate(wh, START, END, None)
    assert [(r.table, r.name) for r in result.errors] == [
        ("raw_marketing.C_CONS", "reference_active_customers_on_a_known_area")
    ]
    assert result.errors[0].unexpected_count == 2  # START and END (snapshot of START)
    assert result.errors[0].sample_rows[0]["matched_rows"] == 196

    settings = {
        **__import__("dagster_project.lib.audit_settings", fromlist=["load"]).load(),
        "ri_customer_area_min_share": "0.9",
    }
    assert gate.run_gate(wh, START, END, None, settings=settings).passed


def test_reference_is_not_evaluated_before_the_archive_is_first_delivered(tmp_path):
    """A history starting between two snapshot days: the customers' snapshot of START has
    no area archive as of START (G_TG first delivered on END), so START is not evaluated;
    END is, and fails when the areas do not match."""
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        _area_and_customers(con, START, unknown_area=50)
        con.execute('update raw_marketing."G_TG" set _export_date = ?', [END])
    result = gate.run_gate(wh, START, END, None)
    check = by_name(result, "reference_active_customers_on_a_known_area")
    assert [(d["day"], d["matched_share"]) for d in check.details] == [("2024-03-03", 0.75)]
    assert check.blocking


def test_delta_record_after_its_export_day_fails(tmp_path):
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        _insert(
            con,
            'raw_collection."A_PAY_FLOW"',
            [
                {
                    "PAY_ID": f"P{i}",
                    "CONS_NO": "C1",
                    "CHARGE_TIME": dt.datetime.combine(END, dt.time(23, 59))
                    + dt.timedelta(minutes=2 if i == 3 else 0),
                    "_export_date": END,
                    "_source_file": "collection/A_PAY_FLOW/x.csv",
                    "_line_number": i + 2,
                }
                for i in range(5)
            ],
        )
    result = gate.run_gate(wh, START, END, None)
    assert [(r.table, r.name) for r in result.errors] == [
        (
            "raw_collection.A_PAY_FLOW",
            (
                "expect_column_pair_values_a_to_be_greater_than_b("
                "_check_export_day_end >= CHARGE_TIME)"
            ),
        )
    ]
    assert result.errors[0].sample_rows[0]["PAY_ID"] == "P3"


def test_batches_group_whole_days_up_to_the_row_bound(tmp_path, monkeypatch):
    assert gate._day_groups([(1, 3), (2, 3), (3, 5), (4, 1)], 6) == [(1, 2), (3, 4)]
    assert gate._day_groups([(1, 9), (2, 1)], 6) == [(1, 1), (2, 2)]  # a big day alone
    assert gate._day_groups([], 6) == []
    reads = {d: read_rows(d) for d in DAYS}
    reads[START].loc[0, "DATA_ID"] = None  # found whatever the batching
    wh = build_warehouse(tmp_path / "warehouse.duckdb", reads=reads)
    seen = []
    real = gate._GxValidator.validate

    def spy(self, suite, df):
        seen.append((suite.name, len(df)))
        return real(self, suite, df)

    monkeypatch.setattr(gate._GxValidator, "validate", spy)
    for bound, sizes in ((N_READS, [N_READS, N_READS]), (10 * N_READS, [2 * N_READS])):
        seen.clear()
        monkeypatch.setattr(gate, "MAX_BATCH_ROWS", bound)
        result = gate.run_gate(wh, START, END, None, metric_checks=[])
        assert [n for s, n in seen if s == "raw_acquisition.E_MP_DAY_READ"] == sizes
        failed = by_name(
            result, "expect_column_values_to_not_be_null(DATA_ID)", "raw_acquisition.E_MP_DAY_READ"
        )
        assert (failed.success, failed.unexpected_count, failed.element_count) == (
            False,
            1,
            2 * N_READS,
        )


# ------------------------------------------------------------------- audit marts


def test_finding_without_evidence_or_with_unknown_code_fails(tmp_path):
    history = history_rows()
    history.loc[13, "evidence"] = "  "  # rows 10.. are START (in the window)
    history.loc[14, "problem_code"] = "Z99"
    plist = problem_list_rows()
    plist.loc[1, "evidence"] = None
    wh = build_warehouse(
        tmp_path / "warehouse.duckdb",
        marts={"problem_history": history, "area_problem_list": plist},
    )
    result = gate.run_gate(wh, START, END, None)
    errors = {(r.table, r.name): r for r in result.errors}
    assert set(errors) == {
        ("marts.problem_history", "expect_column_values_to_match_regex(evidence)"),
        ("marts.problem_history", "problem_codes_known_problem_history"),
        ("marts.area_problem_list", "expect_column_values_to_not_be_null(evidence)"),
    }, result.summary()
    unknown = errors[("marts.problem_history", "problem_codes_known_problem_history")]
    assert [r["problem_code"] for r in unknown.sample_rows] == ["Z99"]


def test_duplicated_open_finding_fails(tmp_path):
    plist = problem_list_rows()
    plist = pd.concat([plist, plist.head(1)], ignore_index=True)
    wh = build_warehouse(tmp_path / "warehouse.duckdb", marts={"area_problem_list": plist})
    result = gate.run_gate(wh, START, END, None)
    assert [(r.table, r.name) for r in result.errors] == [
        ("marts.area_problem_list", "expect_column_values_to_be_unique(finding_key)")
    ]


def test_kpi_rate_must_be_a_share_and_equal_its_ratio(tmp_path):
    kpis = kpi_rows()
    share = kpis["value_unit"] == "share"
    first, second = kpis[share & (kpis.as_of_date == START)].index[1:3]  # 1 / 5 and 2 / 5
    kpis.loc[first, "indicator_value"] = 0.6  # 1 / 5 is 0.2
    kpis.loc[second, ["numerator_value", "indicator_value"]] = [10.0, 2.0]  # 10 of 5
    days = kpis[(kpis.value_unit == "days") & (kpis.as_of_date == END)].index[0]
    kpis.loc[days, ["numerator_value", "indicator_value"]] = [-60.0, -30.0]
    wh = build_warehouse(tmp_path / "warehouse.duckdb", marts={"unit_kpis": kpis})
    result = gate.run_gate(wh, START, END, None)
    names = {r.name for r in result.errors if r.table == "marts.unit_kpis"}
    assert names == {
        "expect_column_values_to_be_between(_check_indicator_value_minus_ratio, 0, 1e-09)",
        "expect_column_values_to_be_between(indicator_value, 0, 1) where value_unit == 'share'",
        (
            "expect_column_pair_values_a_to_be_greater_than_b("
            "denominator_value >= numerator_value) where value_unit == 'share'"
        ),
        "expect_column_values_to_be_between(numerator_value, 0, None)",
        "expect_column_values_to_be_between(indicator_value, 0, None) where value_unit == 'days'",
    }, result.summary()
    assert all(r.table == "marts.unit_kpis" for r in result.errors)


def test_theft_suspects_score_must_be_its_points_and_ranked(tmp_path):
    theft = theft_rows()
    theft.loc[1, ["theft_score", "raw_score"]] = 25.0  # its only points are 17.5
    theft.loc[2, "latest_event_code"] = "ERC14"  # power-off is not a theft event
    wh = build_warehouse(tmp_path / "warehouse.duckdb", marts={"theft_suspects": theft})
    result = gate.run_gate(wh, START, END, None)
    names = {r.name for r in result.errors if r.table == "marts.theft_suspects"}
    assert "expect_column_values_to_be_between(_check_score_minus_points, 0, 1e-06)" in names
    assert any(n.startswith("expect_column_values_to_be_in_set(latest_event_code") for n in names)
    assert all(r.table == "marts.theft_suspects" for r in result.errors), result.summary()
    assert not result.passed


def test_kpi_fact_counting_fully_or_of_an_unknown_indicator_fails(tmp_path):
    facts = kpi_fact_rows()
    facts.loc[2, "numerator_value"] = 1.0  # T2 mapped after all: not an exception of a rate
    facts.loc[5, "indicator_code"] = "made_up_rate"
    wh = build_warehouse(tmp_path / "warehouse.duckdb", marts={"unit_kpi_facts": facts})
    result = gate.run_gate(wh, START, END, None)
    names = {r.name for r in result.errors if r.table == "marts.unit_kpi_facts"}
    assert any("denominator_value > numerator_value" in n for n in names), result.summary()
    assert any(n.startswith("expect_column_values_to_be_in_set(indicator_code") for n in names)
    assert all(r.table == "marts.unit_kpi_facts" for r in result.errors), result.summary()


def test_kpi_daily_counts_must_hold_their_drill_down(tmp_path):
    daily = kpi_daily_rows()
    daily.loc[2, "drill_down_count"] = 0  # 1 of 2 areas mapped, but nothing to drill into
    daily.loc[3, "drill_down_count"] = 2  # two applications listed of one
    daily.loc[4, "numerator_value"] = 3.0  # 3 of 2 areas mapped
    wh = build_warehouse(tmp_path / "warehouse.duckdb", marts={"unit_kpi_daily": daily})
    result = gate.run_gate(wh, START, END, None)
    failed = {r.name: r for r in result.errors if r.table == "marts.unit_kpi_daily"}
    assert any(
        n.startswith("expect_column_values_to_be_between(drill_down_count, 1, None)")
        for n in failed
    ), result.summary()
    assert any("object_count >= drill_down_count" in n for n in failed), result.summary()
    assert any("denominator_value >= numerator_value" in n for n in failed), result.summary()
    assert len(failed) == 3, result.summary()
    assert all(r.table == "marts.unit_kpi_daily" for r in result.errors), result.summary()


def test_mart_row_counts_within_tolerance_of_the_previous_day(tmp_path):
    kpis = kpi_rows()
    kpis = kpis[~((kpis.period_start == END) & (kpis.org_no >= "ORG2"))]  # 2 of 6 left
    history = history_rows()
    history = history[~((history.detected_date == START) & (history.finding_key < "L01|6"))]
    wh = build_warehouse(
        tmp_path / "warehouse.duckdb", marts={"unit_kpis": kpis, "problem_history": history}
    )
    result = gate.run_gate(wh, START, END, None, table_suites=[])
    failed = {r.name: [row["day"] for row in r.sample_rows] for r in result.errors}
    warned = {r.name: [row["day"] for row in r.sample_rows] for r in result.warnings}
    # history: 10 -> 3 on START (-70 %: blocks) -> 10 on END (+233 %: a burst of findings
    # is reported, not blocking); KPIs: 6 -> 2 on END (blocks)
    assert failed == {
        "row_count_drop_vs_previous_day_unit_kpis": ["2024-03-03"],
        "row_count_drop_vs_previous_day_problem_history": ["2024-03-02"],
    }
    assert warned == {"row_count_rise_vs_previous_day_problem_history": ["2024-03-03"]}


def test_the_day_after_a_burst_of_findings_is_no_collapse(tmp_path):
    """The baseline is the median of the earlier days, not the previous day alone: 10
    findings a day, a burst of 40 (a terminal outage: a warning), then 10 again - back to
    normal, not a 75 % fall. A fall below the earlier days' level still blocks."""
    days = [dt.date(2024, 2, 27) + dt.timedelta(days=i) for i in range(5)]  # .. START, END
    burst = history_rows(days=[START], n=40)
    history = pd.concat([history_rows(days=days[:3]), burst, history_rows(days=[END])])
    wh = build_warehouse(tmp_path / "warehouse.duckdb", marts={"problem_history": history})
    result = gate.run_gate(wh, START, END, None, table_suites=[])
    failed = {r.name for r in result.errors}
    warned = {r.name: [row["day"] for row in r.sample_rows] for r in result.warnings}
    assert "row_count_drop_vs_previous_day_problem_history" not in failed, result.summary()
    assert warned["row_count_rise_vs_previous_day_problem_history"] == ["2024-03-02"]

    collapsed = pd.concat([history_rows(days=days[:3]), burst, history_rows(days=[END], n=4)])
    wh = build_warehouse(tmp_path / "collapsed.duckdb", marts={"problem_history": collapsed})
    result = gate.run_gate(wh, START, END, None, table_suites=[])
    drop = [r for r in result.errors if r.name == "row_count_drop_vs_previous_day_problem_history"]
    assert [row["day"] for row in drop[0].sample_rows] == ["2024-03-03"], result.summary()
    assert drop[0].sample_rows[0]["baseline_row_count"] == 10


def test_catalogue_and_settings_marts(tmp_path):
    codes = pd.concat([CODES, CODES.tail(1).assign(severity="urgent")], ignore_index=True)
    settings = settings_rows()
    settings = settings[settings.setting_name != "quarantine_max_share"]
    wh = build_warehouse(
        tmp_path / "warehouse.duckdb", marts={"dim_problem_code": codes, "audit_settings": settings}
    )
    result = gate.run_gate(wh, START, END, None)
    assert {(r.table, r.name.split("(")[0]) for r in result.errors} == {
        ("marts.dim_problem_code", "expect_column_values_to_be_unique"),
        ("marts.dim_problem_code", "expect_column_values_to_be_in_set"),
        ("marts.audit_settings", "expect_column_distinct_values_to_contain_set"),
    }, result.summary()


def test_mart_is_not_checked_before_the_first_area_archive(tmp_path):
    """A history that starts between snapshot days has no area before the first G_TG
    snapshot: those empty days are not failures; an empty day after it is."""
    areas = area_rows(days=[END])
    wh = build_warehouse(tmp_path / "warehouse.duckdb", areas=areas)
    with duckdb.connect(str(wh)) as con:  # the first area archive is delivered on END
        con.execute(
            'insert into raw_marketing."G_TG" ("TG_ID", "TG_NO", "ORG_NO", '
            "\"RUN_STATUS_CODE\", _export_date) values ('G1', '1', 'S1', "
            "'01', ?)",
            [END],
        )
    result = gate.run_gate(wh, DAYS[0], END, None, table_suites=[])
    assert "row_count_vs_previous_day" not in [r.name for r in result.errors], result.summary()

    with duckdb.connect(str(wh)) as con:
        con.execute('update raw_marketing."G_TG" set _export_date = ?', [DAYS[0]])
    result = gate.run_gate(wh, DAYS[0], END, None, table_suites=[])
    assert "row_count_vs_previous_day" in [r.name for r in result.errors]


# ------------------------------------------------------------------ the run's days only


def _run_window_table(con, day_facts_from: dt.date, event_facts_from: dt.date) -> None:
    """dbt's one-row window table of the run (intermediate.int_kpi_window)."""
    con.execute("create schema if not exists intermediate")
    con.execute(
        "create or replace table intermediate.int_kpi_window as select "
        "cast(? as date) as window_start_date, cast(? as date) as window_end_date, "
        "cast(? as date) as day_facts_from_date, cast(? as date) as event_facts_from_date, "
        "cast(? as date) as month_from_date, cast(? as date) as to_date",
        [END, END, day_facts_from, event_facts_from, day_facts_from.replace(day=1), END],
    )


def test_a_bad_raw_row_outside_the_window_does_not_fail_todays_gate_one_inside_does(tmp_path):
    """A daily run (window END..END) checks the rows of its export day only: a reading
    with a MARK outside its set delivered the day before (checked by that day's run) does
    not fail it; the same row in today's export does, named as before."""
    name = "expect_column_values_to_be_in_set(MARK, {0, 1})"
    outcomes = {}
    for bad_day in (START, END):
        reads = {d: read_rows(d) for d in DAYS}
        reads[bad_day].loc[7, "MARK"] = "9"
        wh = build_warehouse(tmp_path / f"bad-{bad_day}.duckdb", reads=reads)
        result = gate.run_gate(
            wh, END, END, None, gate="raw", tables=["raw_acquisition.E_MP_DAY_READ"]
        )
        outcomes[bad_day] = by_name(result, name)
        assert result.passed is (bad_day == START), result.summary()
    assert outcomes[START].success and outcomes[START].element_count == N_READS
    bad = outcomes[END]
    assert bad.unexpected_count == 1 and bad.element_count == N_READS
    assert bad.message.startswith(
        f"raw_acquisition.E_MP_DAY_READ: {name} failed on 1 rows, e.g. DATA_ID=DP000007, "
        "DATA_DATE=2024-03-03, _source_file=acquisition/2024-03-03/E_MP_DAY_READ.csv, "
        "_line_number=9"
    )


def test_a_bad_mart_row_counts_only_on_a_day_the_run_recomputed(tmp_path):
    """The marts gate checks the days the run recomputed: the window's, plus the earlier
    days dbt recomputed (int_kpi_window: a late reading recomputed the loss of START). A
    bad row of an earlier day that the run did not recompute is not today's failure."""
    name = (
        "expect_column_values_to_be_in_set(loss_status, {qualified, high, negative, uncomputable})"
    )
    areas = area_rows()
    areas.loc[(areas.tg_id == "TG0001") & (areas.data_date == START), "loss_status"] = "bad"
    wh = build_warehouse(tmp_path / "warehouse.duckdb", areas=areas)

    with duckdb.connect(str(wh)) as con:  # the daily run of END recomputed END only
        _run_window_table(con, END, END)
    today = gate.run_gate(wh, END, END, None, gate="marts")
    assert today.passed, today.summary()
    assert today.checked_from == END
    assert by_name(today, name).element_count == N_AREAS  # one day of areas

    with duckdb.connect(str(wh)) as con:  # a late reading of START: recomputed from START
        _run_window_table(con, START, END)
    late = gate.run_gate(wh, END, END, None, gate="marts")
    assert late.checked_from == START
    assert [r.name for r in late.errors] == [name]
    bad = late.errors[0]
    assert (bad.unexpected_count, bad.element_count) == (1, 2 * N_AREAS)
    assert bad.message.startswith(
        f"marts.area_daily_loss: {name} failed on 1 rows, e.g. tg_id=TG0001, data_date=2024-03-02"
    )
    assert "gate FAILED for 2024-03-03..2024-03-03 (recomputed from 2024-03-02)" in (late.summary())
    # the recomputed days of one mart are not another's: problem_history follows the day
    # facts, the KPI marts the earlier of the day and the event facts (late payments)
    with duckdb.connect(str(wh), read_only=True) as con:
        assert gate.recomputed_from_dates(con) == {
            "day_facts_from_date": START,
            "event_facts_from_date": END,
            "month_from_date": START.replace(day=1),
        }
    # an explicit bound wins over the warehouse's (and a raw table ignores it)
    explicit = gate.run_gate(
        wh, END, END, None, gate="marts", recomputed_from={"day_facts_from_date": END}
    )
    assert explicit.passed and explicit.checked_from == END


def test_checks_that_compare_days_still_read_the_days_they_compare(tmp_path):
    """A one-day window: the read count is compared with the previous export day, the
    references with the newest archive delivered before the window, the mart's row count
    with the day before; each reads those days, not only the window's."""
    reads = {d: read_rows(d) for d in DAYS}
    reads[END] = read_rows(END, n=N_READS // 10)  # truncated against START's export
    wh = build_warehouse(tmp_path / "warehouse.duckdb", reads=reads)
    result = gate.run_gate(wh, END, END, None)
    count = by_name(result, "read_count_vs_previous_day")
    assert not count.success and count.element_count == 1
    assert count.sample_rows[0]["previous_export_date"] == "2024-03-02"
    assert count.sample_rows[0]["previous_row_count"] == N_READS
    # E_DATA_MP was delivered on DAYS[0] only, before the window: END's readings are
    # matched against that snapshot
    ref = by_name(result, "reference_readings_of_a_known_data_point")
    assert ref.success and [(d["day"], d["matched_rows"]) for d in ref.details] == [
        ("2024-03-03", N_READS // 10)
    ]
    with duckdb.connect(str(wh)) as con:  # a later snapshot without the data points
        con.execute(
            """insert into raw_acquisition."E_DATA_MP" ("DATA_ID", _export_date,
                       _source_file, _line_number) values ('DP999999', ?, 'x.csv', 2)""",
            [START],
        )
    ref = by_name(gate.run_gate(wh, END, END, None), "reference_readings_of_a_known_data_point")
    assert not ref.success and ref.details[0]["matched_rows"] == 0
    rows = by_name(result, "row_count_vs_previous_day", "marts.area_daily_loss")
    assert rows.success and rows.details[0]["previous_date"] == "2024-03-02"


def test_snapshot_duplicates_are_judged_per_snapshot_day_of_the_window(tmp_path):
    """Duplicated keys in a snapshot delivered before the window were that day's finding:
    today's gate judges today's snapshot only."""
    wh = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(wh)) as con:
        _area_and_customers(con, START, duplicated=5)  # 5 of 205 > 1 %
        _area_and_customers(con, END)
    today = gate.run_gate(wh, END, END, None, gate="raw", tables=["raw_marketing.C_CONS"])
    assert today.passed, today.summary()
    share = by_name(today, "snapshot_duplicate_key_share")
    assert [d["export_date"] for d in share.details] == ["2024-03-03"]
    both = gate.run_gate(wh, START, END, None, gate="raw", tables=["raw_marketing.C_CONS"])
    assert [r.name for r in both.errors] == ["snapshot_duplicate_key_share"]


# ------------------------------------------------------------------- batches and samples


def _outcomes(result: gate.GateResult, table: str) -> list[tuple]:
    return [
        (r.name, r.success, r.unexpected_count, r.element_count, r.sample_rows, r.message)
        for r in result.results
        if r.table == table
    ]


def test_a_pruned_batch_still_reports_whole_failing_rows(tmp_path, monkeypatch):
    """GX sees only the columns the suite reads (plus the rowid); the failing rows in the
    results are whole rows fetched by rowid, the same whether GX validated the suite at
    once or one expectation at a time on its own columns."""
    reads = {d: read_rows(d) for d in DAYS}
    bad = reads[END]
    bad.loc[[3, 7, 150], "PAP_R"] = -1.0  # warn: negative register
    bad.loc[5, "MARK"] = "X"  # error: code outside its set
    wh = build_warehouse(tmp_path / "warehouse.duckdb", reads=reads)
    table = "raw_acquisition.E_MP_DAY_READ"
    columns_seen = []
    real = gate._GxValidator.validate

    def spy(self, suite, df):
        if suite.name == table:
            columns_seen.append(set(df.columns))
        return real(self, suite, df)

    monkeypatch.setattr(gate._GxValidator, "validate", spy)
    runs = {}
    for narrow_from in (0, 10**9):  # one expectation at a time / the whole suite at once
        monkeypatch.setattr(gate, "NARROW_MIN_ROWS", narrow_from)
        runs[narrow_from] = gate.run_gate(wh, END, END, None, tables=[table], metric_checks=[])
    assert _outcomes(runs[0], table) == _outcomes(runs[10**9], table)
    result = runs[0]
    # pruned: no column the suite does not read (COL_TIME, the lineage columns)
    assert columns_seen and all(
        gate.ROWID in cols and not cols & {"COL_TIME", "_source_file", "_line_number"}
        for cols in columns_seen
    )
    negative = by_name(result, "expect_column_values_to_be_between(PAP_R, 0, None)", table)
    assert (negative.success, negative.unexpected_count) == (False, 3)
    assert [r["_line_number"] for r in negative.sample_rows] == [5, 9, 152]
    row = negative.sample_rows[0]
    assert set(row) == set(bad.columns)  # the whole row, not the pruned batch's columns
    assert row["DATA_ID"] == "DP000003" and row["PAP_R"] == -1.0
    assert row["COL_TIME"] == f"{END + dt.timedelta(days=1)} 02:00:00"
    assert row["_source_file"] == f"acquisition/{END}/E_MP_DAY_READ.csv"
    mark = by_name(result, "expect_column_values_to_be_in_set(MARK, {0, 1})", table)
    assert mark.blocking and mark.unexpected_count == 1
    assert [(r["DATA_ID"], r["MARK"], r["_line_number"]) for r in mark.sample_rows] == [
        ("DP000005", "X", 7)
    ]
    assert "DATA_ID=DP000005" in mark.message and "_line_number=7" in mark.message
    passed = by_name(result, "expect_column_values_to_not_be_null(DATA_ID)", table)
    assert (passed.success, passed.element_count, passed.sample_rows) == (True, N_READS, [])


def test_a_view_is_validated_on_whole_rows(tmp_path):
    """A view has no rowid: its batch is `select *` and the samples come from it."""
    areas = area_rows()
    areas.loc[(areas.tg_id == "TG0003") & (areas.data_date == END), "loss_rate"] = 5.0
    wh = build_warehouse(tmp_path / "warehouse.duckdb", areas=areas)
    with duckdb.connect(str(wh)) as con:
        con.execute("alter table marts.area_daily_loss rename to area_daily_loss_t")
        con.execute("create view marts.area_daily_loss as select * from marts.area_daily_loss_t")
    table = "marts.area_daily_loss"
    result = gate.run_gate(wh, START, END, None, tables=[table], metric_checks=[])
    rate = by_name(result, "expect_column_values_to_be_between(loss_rate, None, 1)", table)
    assert rate.blocking and rate.unexpected_count == 1
    (row,) = rate.sample_rows
    assert set(row) == set(areas.columns)  # whole rows
    assert (row["tg_id"], row["data_date"], row["loss_rate"], row["loss_status"]) == (
        "TG0003",
        str(END),
        5.0,
        "qualified",
    )


def _outcome(table, name, severity, success, unexpected=0, elements=100, message=""):
    return gate.ExpectationResult(
        name=name, table=table, severity=severity, success=success,
        unexpected_count=unexpected, element_count=elements, sample_rows=[],
        message=message or f"{table}: {name} passed on {elements} rows",
    )  # fmt: skip


def test_the_checks_summary_shows_blocking_failures_first_by_table_then_what_passed():
    results = [
        _outcome("raw_b.T", "expect_x", gate.WARN, False, 3, 50, "raw_b.T: expect_x failed on 3 "
                 "rows, e.g. ID=7, _line_number=12"),
        _outcome("raw_b.T", "expect_ok", gate.ERROR, True),
        _outcome("raw_a.T", "expect_y", gate.ERROR, False, 1, 10, "raw_a.T: expect_y failed on 1 "
                 "rows, e.g. ID=9 | pipe"),
        _outcome("raw_a.T", "expect_z", gate.WARN, True),
        _outcome("raw_a.T", "expect_w", gate.ERROR, True),
    ]  # fmt: skip
    text = gate.markdown_summary(results, "http://localhost:3001/gate.html")
    lines = text.splitlines()
    assert lines[0].startswith("**未通过 FAILED**: 1 blocking error(s), 1 warning(s), 5")
    assert "[report](http://localhost:3001/gate.html)" in lines[0]
    body = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert [row.split(" | ")[:3] for row in body] == [
        ["| 阻断 error", "raw_a.T", "expect_y"],
        ["| 警告 warn", "raw_b.T", "expect_x"],
    ]
    assert "1 of 10 rows" in body[0] and "ID=9 \\| pipe" in body[0]  # a | in data is escaped
    assert "3 of 50 rows" in body[1] and "_line_number=12" in body[1]
    assert lines[-1] == "Met: raw_a.T 2, raw_b.T 1"
    passed = gate.markdown_summary([r for r in results if r.success])
    assert (
        passed.splitlines()[0]
        == "**通过 PASSED**: 0 blocking error(s), 0 warning(s), 3 expectations"
    )
    assert "|" not in passed
