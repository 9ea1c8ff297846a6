"""The landing loader on hand-made files: every row lands or is quarantined with its
file, line and reason; a file that cannot be read fails with a message naming it."""

import datetime as dt
import gzip

import duckdb
import pytest

from dagster_project.lib.extract import LandingFileError, load_file
from dagster_project.lib.landing_contract import TABLES_BY_NAME

DAY = dt.date(2026, 9, 1)
CONS = TABLES_BY_NAME["C_CONS"]
READS = TABLES_BY_NAME["E_MP_DAY_READ"]
CONS_HEADER = ("CONS_NO,CONS_NAME,ORG_NO,TG_ID,ELEC_ADDR,ELEC_TYPE_CODE,TRADE_CODE,VOLT_CODE,"
               "CONTRACT_CAP,PRC_CODE,URBAN_RURAL_FLAG,GEN_FLAG,STATUS_CODE,BUILD_DATE,CANCEL_DATE")
GOOD_CONS = "0001,张三,O1,T1,\"幸福路,1号\",201,,01,8,P1,1,0,1,2020-01-01,"


def write(landing, table, text, *, encoding="utf-8", gz=False, day=DAY, raw=None):
    folder = landing / table.system / table.name
    folder.mkdir(parents=True, exist_ok=True)
    data = raw if raw is not None else text.encode(encoding)
    path = folder / f"{day:%Y-%m-%d}.csv{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def quarantine(con):
    return con.execute("SELECT source_file, line_number, raw_line, reason FROM "
                       "quarantine.rejected_rows ORDER BY line_number").fetchall()


def test_gbk_file_with_quoted_line_break_keeps_physical_line_numbers(tmp_path, con):
    text = (CONS_HEADER + "\r\n" + GOOD_CONS + "\r\n"
            + "0002,李四,O1,T1,\"多行\n地址\",201,,01,8,P1,1,0,1,2020-01-01,\r\n"
            + "0003,王五,O1,T1,addr,201,,1.0,\"12,5\",P1,1,0,1,2026-02-30,\r\n")
    write(tmp_path, CONS, text, encoding="gbk")
    result = load_file(con, tmp_path, CONS, DAY, "gbk")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    rows = con.execute('SELECT CONS_NO, CONS_NAME, ELEC_ADDR, _line_number, _source_file '
                       'FROM raw_marketing."C_CONS" ORDER BY 1').fetchall()
    assert rows == [("0001", "张三", "幸福路,1号", 2, "marketing/C_CONS/2026-09-01.csv"),
                    ("0002", "李四", "多行\n地址", 3, "marketing/C_CONS/2026-09-01.csv")]
    [(file, line, raw, reason)] = quarantine(con)
    assert (file, line) == ("marketing/C_CONS/2026-09-01.csv", 5)
    assert raw.startswith("0003,王五")
    for part in ("VOLT_CODE: not one of 01/02/03 (1.0)", "CONTRACT_CAP: not a valid decimal (12,5)",
                 "BUILD_DATE: not a valid date (2026-02-30)"):
        assert part in reason


def test_cut_off_line_undecodable_line_and_empty_key_are_quarantined(tmp_path, con):
    body = (CONS_HEADER + "\n" + GOOD_CONS + "\n").encode("gbk")
    body += b"0002,\xff\xfe,O1,T1,a,201,,01,8,P1,1,0,1,2020-01-01,\n"
    body += ",x,O1,T1,a,201,,01,8,P1,1,0,1,2020-01-01,\n".encode("gbk")
    body += "0004,赵六,O1,T".encode("gbk")  # the export was cut off mid-line
    write(tmp_path, CONS, "", raw=body)
    result = load_file(con, tmp_path, CONS, DAY, "gbk")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 1, 3)
    reasons = {line: reason for _, line, _, reason in quarantine(con)}
    assert reasons[3] == "cannot be decoded as gbk"
    assert reasons[4].startswith("CONS_NO: empty but required")
    assert reasons[5].startswith("expected 15 fields, found 4 (cut off)")


def test_reload_of_a_day_replaces_exactly_that_day(tmp_path, con):
    write(tmp_path, CONS, CONS_HEADER + "\n" + GOOD_CONS + "\n")
    write(tmp_path, CONS, CONS_HEADER + "\n" + GOOD_CONS.replace("0001", "0009") + "\n",
          day=DAY + dt.timedelta(days=1))
    load_file(con, tmp_path, CONS, DAY, "utf-8")
    load_file(con, tmp_path, CONS, DAY + dt.timedelta(days=1), "utf-8")
    load_file(con, tmp_path, CONS, DAY, "utf-8")
    rows = con.execute('SELECT _export_date, CONS_NO FROM raw_marketing."C_CONS" '
                       "ORDER BY 1").fetchall()
    assert rows == [(DAY, "0001"), (DAY + dt.timedelta(days=1), "0009")]
    assert con.execute("SELECT count(*) FROM meta.extract_files").fetchone()[0] == 2


def test_columns_in_any_order_extra_column_is_reported_bom_and_gzip(tmp_path, con):
    header = "MARK,DATA_DATE,DATA_ID,COL_TIME,PAP_R,PAP_R1,PAP_R2,PAP_R3,PAP_R4,RAP_R,NEW_COL"
    line = "0,2026-09-01,D1,2026-09-02 01:10:00,100.5,10,20,30,40.5,0,x"
    write(tmp_path, READS, "\ufeff" + header + "\n" + line + "\n", gz=True)
    result = load_file(con, tmp_path, READS, DAY, "utf-8")
    assert result.extra_columns == ["NEW_COL"] and result.rows_loaded == 1
    assert con.execute('SELECT DATA_ID, PAP_R, DATA_DATE FROM raw_acquisition."E_MP_DAY_READ"'
                       ).fetchall() == [("D1", 100.5, DAY)]


@pytest.mark.parametrize("case, expected", [
    ("empty", "the file is empty"),
    ("missing column", "required column(s) missing from the header: TRADE_CODE"),
    ("other table", "required column(s) missing"),
    ("truncated gzip", "cannot be decompressed"),
    ("twice", "the same day is delivered twice"),
])
def test_unreadable_file_fails_naming_the_file_and_changes_nothing(tmp_path, con, case,
                                                                   expected):
    write(tmp_path, CONS, CONS_HEADER + "\n" + GOOD_CONS + "\n")
    load_file(con, tmp_path, CONS, DAY, "utf-8")
    if case == "empty":
        path = write(tmp_path, CONS, "")
    elif case == "missing column":
        path = write(tmp_path, CONS, CONS_HEADER.replace("TRADE_CODE,", "") + "\n")
    elif case == "other table":
        path = write(tmp_path, CONS, "MP_ID,CONS_NO,TG_ID,USAGE_TYPE_CODE,STATUS_CODE\n")
    elif case == "truncated gzip":
        whole = gzip.compress((CONS_HEADER + "\n" + GOOD_CONS + "\n").encode())
        (tmp_path / "marketing/C_CONS/2026-09-01.csv").unlink()
        path = tmp_path / "marketing/C_CONS/2026-09-01.csv.gz"
        path.write_bytes(whole[: len(whole) // 2])
    else:
        path = write(tmp_path, CONS, CONS_HEADER + "\n", gz=True)
    with pytest.raises(LandingFileError) as err:
        load_file(con, tmp_path, CONS, DAY, "utf-8")
    assert expected in str(err.value)
    assert "marketing/C_CONS/2026-09-01.csv" in str(err.value), path
    assert con.execute('SELECT count(*) FROM raw_marketing."C_CONS"').fetchone()[0] == 1


def test_day_without_file_is_none(tmp_path, con):
    assert load_file(con, tmp_path, CONS, DAY, "utf-8") is None


def test_key_that_points_nowhere_is_quarantined(tmp_path, con):
    areas = TABLES_BY_NAME["G_TG"]
    write(tmp_path, areas, "TG_ID,TG_NO,TG_NAME,ORG_NO,TG_CAP,PUB_PRIV_FLAG,LINE_ID,"
          "RUN_STATUS_CODE\nT1,0001,一号台区,O1,400,01,L1,01\n", encoding="gbk")
    load_file(con, tmp_path, areas, DAY, "gbk")
    write(tmp_path, CONS, CONS_HEADER + "\n" + GOOD_CONS + "\n"
          + GOOD_CONS.replace("0001", "0002").replace(",T1,", ",T404,") + "\n")
    result = load_file(con, tmp_path, CONS, DAY, "utf-8")
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    [(_, line, _, reason)] = quarantine(con)
    assert line == 3 and reason == "TG_ID: unknown to every G_TG snapshot (T404)"


def test_decimals_are_exact_and_bad_numbers_are_quarantined_with_the_reason(tmp_path, con):
    """`decimal` columns are DECIMAL(18,6) (docs/architecture.md "Numeric types"): a sum of
    two-decimal registers is exact; more than 6 decimals are rounded half away from zero
    (a float column's export noise); a malformed or too large number is quarantined."""
    header = "DATA_ID,DATA_DATE,COL_TIME,PAP_R,PAP_R1,PAP_R2,PAP_R3,PAP_R4,RAP_R,MARK"
    good = [f"D{i},2026-09-01,,{value},,,,,,0" for i, value in enumerate(
        ["0.1", "0.2", "2964.3499999999776", "1.23456789", "-0.0000005", "5.", ".5",
         "999999999999.999999"])]
    bad = ["B1,2026-09-01,,12,5,,,,0", "B2,2026-09-01,,1e400,,,,,,0",
           "B3,2026-09-01,,1000000000000,,,,,,0", "B4,2026-09-01,,\"1,5\",,,,,,0"]
    write(tmp_path, READS, "\n".join([header, *good, *bad]) + "\n")
    result = load_file(con, tmp_path, READS, DAY, "utf-8")
    assert (result.rows_loaded, result.rows_rejected) == (len(good), len(bad))
    [(column_type,)] = con.execute(
        "SELECT data_type FROM duckdb_columns() WHERE schema_name = 'raw_acquisition' "
        "AND table_name = 'E_MP_DAY_READ' AND column_name = 'PAP_R'").fetchall()
    assert column_type == "DECIMAL(18,6)"
    values = dict(con.execute('SELECT DATA_ID, CAST(PAP_R AS VARCHAR) '
                              'FROM raw_acquisition."E_MP_DAY_READ"').fetchall())
    assert values == {"D0": "0.100000", "D1": "0.200000", "D2": "2964.350000",
                      "D3": "1.234568", "D4": "-0.000001", "D5": "5.000000", "D6": "0.500000",
                      "D7": "999999999999.999999"}
    assert con.execute("SELECT CAST(sum(PAP_R) FILTER (WHERE DATA_ID IN ('D0', 'D1')) AS "
                       'VARCHAR) FROM raw_acquisition."E_MP_DAY_READ"').fetchone() == ("0.300000",)
    reasons = {raw.split(",")[0]: reason for _, _, raw, reason in quarantine(con)}
    assert reasons["B1"] == "expected 10 fields, found 9 (cut off)"  # an unquoted 12,5
    assert reasons["B2"] == "PAP_R: not a valid decimal (1e400)"
    assert reasons["B3"] == "PAP_R: out of range for DECIMAL(18,6) (1000000000000)"
    assert reasons["B4"] == "PAP_R: not a valid decimal (1,5)"


def test_a_warehouse_with_old_raw_column_types_is_refused(tmp_path, con):
    from dagster_project.lib.warehouse import WarehouseTypeError, ensure_schema

    ensure_schema(con)
    con.execute('ALTER TABLE raw_acquisition."E_MP_DAY_READ" ALTER PAP_R TYPE DOUBLE')
    write(tmp_path, READS, "DATA_ID,DATA_DATE,COL_TIME,PAP_R,PAP_R1,PAP_R2,PAP_R3,PAP_R4,"
          "RAP_R,MARK\nD1,2026-09-01,,1.5,,,,,,0\n")
    with pytest.raises(WarehouseTypeError, match=r'E_MP_DAY_READ"\.PAP_R is DOUBLE, the '
                                                 r"contract says DECIMAL\(18,6\)"):
        load_file(con, tmp_path, READS, DAY, "utf-8")
