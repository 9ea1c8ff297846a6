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
