"""The landing loader on hand-made files: every row lands or is quarantined with its
file, line and reason; a file that cannot be read fails with a message naming it."""

import csv
import datetime as dt
import gzip
import hashlib

import duckdb
import pytest

from dagster_project.lib.extract import LandingFileError, load_file
from dagster_project.lib.landing_contract import TABLES_BY_NAME

DAY = dt.date(2026, 9, 1)
CONS = TABLES_BY_NAME["C_CONS"]
READS = TABLES_BY_NAME["E_MP_DAY_READ"]
CONS_HEADER = (
    "CONS_NO,CONS_NAME,ORG_NO,TG_ID,ELEC_ADDR,ELEC_TYPE_CODE,TRADE_CODE,VOLT_CODE,"
    "CONTRACT_CAP,PRC_CODE,URBAN_RURAL_FLAG,GEN_FLAG,STATUS_CODE,BUILD_DATE,CANCEL_DATE"
)
GOOD_CONS = '0001,张三,O1,T1,"幸福路,1号",201,,01,8,P1,1,0,1,2020-01-01,'


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
    return con.execute(
        "SELECT source_file, line_number, raw_line, reason FROM "
        "quarantine.rejected_rows ORDER BY line_number"
    ).fetchall()


def test_gbk_file_with_quoted_line_break_keeps_physical_line_numbers(tmp_path, con):
    text = (
        CONS_HEADER
        + "\r\n"
        + GOOD_CONS
        + "\r\n"
        + '0002,李四,O1,T1,"多行\n地址",201,,01,8,P1,1,0,1,2020-01-01,\r\n'
        + '0003,王五,O1,T1,addr,201,,1.0,"12,5",P1,1,0,1,2026-02-30,\r\n'
    )
    write(tmp_path, CONS, text, encoding="gbk")
    result = load_file(con, tmp_path, CONS, DAY, "gbk")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    rows = con.execute(
        "SELECT CONS_NO, CONS_NAME, ELEC_ADDR, _line_number, _source_file "
        'FROM raw_marketing."C_CONS" ORDER BY 1'
    ).fetchall()
    assert rows == [
        ("0001", "张三", "幸福路,1号", 2, "marketing/C_CONS/2026-09-01.csv"),
        ("0002", "李四", "多行\n地址", 3, "marketing/C_CONS/2026-09-01.csv"),
    ]
    [(file, line, raw, reason)] = quarantine(con)
    assert (file, line) == ("marketing/C_CONS/2026-09-01.csv", 5)
    assert raw.startswith("0003,王五")
    for part in (
        "VOLT_CODE: not one of 01/02/03 (1.0)",
        "CONTRACT_CAP: not a valid decimal (12,5)",
        "BUILD_DATE: not a valid date (2026-02-30)",
    ):
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
    write(
        tmp_path,
        CONS,
        CONS_HEADER + "\n" + GOOD_CONS.replace("0001", "0009") + "\n",
        day=DAY + dt.timedelta(days=1),
    )
    load_file(con, tmp_path, CONS, DAY, "utf-8")
    load_file(con, tmp_path, CONS, DAY + dt.timedelta(days=1), "utf-8")
    load_file(con, tmp_path, CONS, DAY, "utf-8")
    rows = con.execute(
        'SELECT _export_date, CONS_NO FROM raw_marketing."C_CONS" ORDER BY 1'
    ).fetchall()
    assert rows == [(DAY, "0001"), (DAY + dt.timedelta(days=1), "0009")]
    assert con.execute("SELECT count(*) FROM meta.extract_files").fetchone()[0] == 2


def test_columns_in_any_order_extra_column_is_reported_bom_and_gzip(tmp_path, con):
    header = "MARK,DATA_DATE,DATA_ID,COL_TIME,PAP_R,PAP_R1,PAP_R2,PAP_R3,PAP_R4,RAP_R,NEW_COL"
    line = "0,2026-09-01,D1,2026-09-02 01:10:00,100.5,10,20,30,40.5,0,x"
    write(tmp_path, READS, "\ufeff" + header + "\n" + line + "\n", gz=True)
    result = load_file(con, tmp_path, READS, DAY, "utf-8")
    assert result.extra_columns == ["NEW_COL"] and result.rows_loaded == 1
    assert con.execute(
        'SELECT DATA_ID, PAP_R, DATA_DATE FROM raw_acquisition."E_MP_DAY_READ"'
    ).fetchall() == [("D1", 100.5, DAY)]


@pytest.mark.parametrize(
    "case, expected",
    [
        ("empty", "the file is empty"),
        ("missing column", "required column(s) missing from the header: TRADE_CODE"),
        ("other table", "required column(s) missing"),
        ("truncated gzip", "cannot be decompressed"),
        ("twice", "the same day is delivered twice"),
    ],
)
def test_unreadable_file_fails_naming_the_file_and_changes_nothing(tmp_path, con, case, expected):
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
    write(
        tmp_path,
        areas,
        "TG_ID,TG_NO,TG_NAME,ORG_NO,TG_CAP,PUB_PRIV_FLAG,LINE_ID,"
        "RUN_STATUS_CODE\nT1,0001,一号台区,O1,400,01,L1,01\n",
        encoding="gbk",
    )
    load_file(con, tmp_path, areas, DAY, "gbk")
    write(
        tmp_path,
        CONS,
        CONS_HEADER
        + "\n"
        + GOOD_CONS
        + "\n"
        + GOOD_CONS.replace("0001", "0002").replace(",T1,", ",T404,")
        + "\n",
    )
    result = load_file(con, tmp_path, CONS, DAY, "utf-8")
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    [(_, line, _, reason)] = quarantine(con)
    assert line == 3 and reason == "TG_ID: unknown to every G_TG snapshot (T404)"


def test_decimals_are_exact_and_bad_numbers_are_quarantined_with_the_reason(tmp_path, con):
    """`decimal` columns are DECIMAL(18,6) (docs/architecture.md "Numeric types"): a sum of
    two-decimal registers is exact; more than 6 decimals are rounded half away from zero
    (a float column's export noise); a malformed or too large number is quarantined."""
    header = "DATA_ID,DATA_DATE,COL_TIME,PAP_R,PAP_R1,PAP_R2,PAP_R3,PAP_R4,RAP_R,MARK"
    good = [
        f"D{i},2026-09-01,,{value},,,,,,0"
        for i, value in enumerate(
            [
                "0.1",
                "0.2",
                "2964.3499999999776",
                "1.23456789",
                "-0.0000005",
                "5.",
                ".5",
                "999999999999.999999",
            ]
        )
    ]
    bad = [
        "B1,2026-09-01,,12,5,,,,0",
        "B2,2026-09-01,,1e400,,,,,,0",
        "B3,2026-09-01,,1000000000000,,,,,,0",
        'B4,2026-09-01,,"1,5",,,,,,0',
    ]
    write(tmp_path, READS, "\n".join([header, *good, *bad]) + "\n")
    result = load_file(con, tmp_path, READS, DAY, "utf-8")
    assert (result.rows_loaded, result.rows_rejected) == (len(good), len(bad))
    [(column_type,)] = con.execute(
        "SELECT data_type FROM duckdb_columns() WHERE schema_name = 'raw_acquisition' "
        "AND table_name = 'E_MP_DAY_READ' AND column_name = 'PAP_R'"
    ).fetchall()
    assert column_type == "DECIMAL(18,6)"
    values = dict(
        con.execute(
            'SELECT DATA_ID, CAST(PAP_R AS VARCHAR) FROM raw_acquisition."E_MP_DAY_READ"'
        ).fetchall()
    )
    assert values == {
        "D0": "0.100000",
        "D1": "0.200000",
        "D2": "2964.350000",
        "D3": "1.234568",
        "D4": "-0.000001",
        "D5": "5.000000",
        "D6": "0.500000",
        "D7": "999999999999.999999",
    }
    assert con.execute(
        "SELECT CAST(sum(PAP_R) FILTER (WHERE DATA_ID IN ('D0', 'D1')) AS "
        'VARCHAR) FROM raw_acquisition."E_MP_DAY_READ"'
    ).fetchone() == ("0.300000",)
    reasons = {raw.split(",")[0]: reason for _, _, raw, reason in quarantine(con)}
    assert reasons["B1"] == "expected 10 fields, found 9 (cut off)"  # an unquoted 12,5
    assert reasons["B2"] == "PAP_R: not a valid decimal (1e400)"
    assert reasons["B3"] == "PAP_R: out of range for DECIMAL(18,6) (1000000000000)"
    assert reasons["B4"] == "PAP_R: not a valid decimal (1,5)"


def test_a_warehouse_with_old_raw_column_types_is_refused(tmp_path, con):
    from dagster_project.lib.warehouse import WarehouseTypeError, ensure_schema

    ensure_schema(con)
    con.execute('ALTER TABLE raw_acquisition."E_MP_DAY_READ" ALTER PAP_R TYPE DOUBLE')
    write(
        tmp_path,
        READS,
        "DATA_ID,DATA_DATE,COL_TIME,PAP_R,PAP_R1,PAP_R2,PAP_R3,PAP_R4,"
        "RAP_R,MARK\nD1,2026-09-01,,1.5,,,,,,0\n",
    )
    with pytest.raises(
        WarehouseTypeError,
        match=r'E_MP_DAY_READ"\.PAP_R is DOUBLE, the '
        r"contract says DECIMAL\(18,6\)",
    ):
        load_file(con, tmp_path, READS, DAY, "utf-8")


# ------------------------------------------------------------------ the streaming loader
# (issue 10: blocks of whole lines, DuckDB splits and types them; docs/architecture.md)


def loaded(con, table=CONS):
    """Everything a load left behind: raw rows, quarantine, the extract log."""
    names = ", ".join(f'"{c}"' for c in table.column_names)
    return (
        con.execute(
            f"SELECT {names}, _line_number, _source_file FROM {table.schema}."
            f'"{table.name}" ORDER BY _line_number'
        ).fetchall(),
        quarantine(con),
        con.execute(
            "SELECT source_file, sha256, rows_read, rows_loaded, rows_rejected, "
            "extra_columns FROM meta.extract_files"
        ).fetchall(),
    )


TRICKY_CONS = b"".join(
    [
        (CONS_HEADER + ",REMARK\r\n").encode("gbk"),
        (GOOD_CONS + ",x\r\n").encode("gbk"),
        b"\r\n",  # a blank line is no record
        '0002,李四,O1,T1,"多行\r\n地址,\r\n还有一行",201,,01,8,P1,1,0,1,2020-01-01,,y\r\n'.encode(
            "gbk"
        ),
        b'""\r\n',  # one empty quoted field: csv reads it as a blank line
        b"0003,\xff\xfe,O1,T1,a,201,,01,8,P1,1,0,1,2020-01-01,,z\r\n",  # cannot be decoded
        '0004,"ab"c,O1,T1,"一号""楼""",201,,01,8,P1,1,0,1,2020-01-01,,w\r\n'.encode("gbk"),
        '0005,赵六,O1,T1,b"c,201,,01,8.1.2,P1,1,0,1,2020-01-01,,v\r\n'.encode("gbk"),
        '0006,钱七,O1,T1,"多行\n地址",201,,01,12,5,P1,1,0,1,2020-01-01,,u\r\n'.encode("gbk"),
        "0007,孙八,O1,T1,c,301,,02,1e3,P1,1,0,1,2026-02-30,,t\r\n".encode("gbk"),
        "0008,周九,O1,T".encode("gbk"),  # cut off, no line break
    ]
)


@pytest.mark.parametrize("block_bytes", [1, 7, 64, 300])
def test_block_boundaries_change_nothing(tmp_path, block_bytes):
    """The same file read in blocks of any size (a block is cut after its last line break;
    a record with quoted line breaks that goes on in the next block waits for it) loads the
    same rows, quarantine and log as when it is read in one block."""
    write(tmp_path, CONS, "", raw=TRICKY_CONS)
    results = []
    for size in (None, block_bytes):
        with duckdb.connect(str(tmp_path / f"w{size}.duckdb")) as c:
            load_file(c, tmp_path, CONS, DAY, "gbk", block_bytes=size)
            results.append(loaded(c))
    assert results[0] == results[1]
    raw, rejected, [log] = results[0]
    assert [(row[0], row[-2]) for row in raw] == [("0001", 2), ("0002", 4), ("0004", 9)]
    assert raw[1][4] == "多行\n地址,\n还有一行"  # quoted CRLF line breaks read as \n
    assert raw[2][1] == "abc" and raw[2][4] == '一号"楼"'
    assert [(line, reason.split(" (")[0]) for _, line, _, reason in rejected] == [
        (8, "cannot be decoded as gbk"),
        (10, "CONTRACT_CAP: not a valid decimal"),  # b"c is csv's: a stray quote is text
        (11, "expected 16 fields, found 17"),  # an unquoted 12,5; the record spans 2 lines
        (13, "CONTRACT_CAP: not a valid decimal"),
        (14, "expected 16 fields, found 4"),
    ]
    assert rejected[0][2] == "0003,\\xff\\xfe,O1,T1,a,201,,01,8,P1,1,0,1,2020-01-01,,z"
    assert rejected[2][2] == '0006,钱七,O1,T1,"多行\n地址",201,,01,12,5,P1,1,0,1,2020-01-01,,u'
    assert "BUILD_DATE: not a valid date (2026-02-30)" in rejected[3][3]
    assert rejected[4][2] == "0008,周九,O1,T"
    assert log[2:] == (8, 3, 5, "REMARK")


def test_an_undecodable_cut_off_last_line_is_quarantined(tmp_path, con):
    """The last line of a cut-off export, without its line break and not decodable (the
    loader before issue 10 dropped it silently)."""
    body = (CONS_HEADER + "\n" + GOOD_CONS + "\n").encode("gbk") + b"0002,\xff"
    write(tmp_path, CONS, "", raw=body)
    result = load_file(con, tmp_path, CONS, DAY, "gbk")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert quarantine(con) == [
        ("marketing/C_CONS/2026-09-01.csv", 3, "0002,\\xff", "cannot be decoded as gbk")
    ]


def test_an_unterminated_quote_takes_the_rest_of_the_file_as_one_bad_record(tmp_path, con):
    plain = GOOD_CONS.replace('"幸福路,1号"', "幸福路1号")  # no quote closes it
    lines = [
        CONS_HEADER,
        plain,
        '0002,"李四,O1,T1,a,201,,01,8,P1,1,0,1,2020-01-01,',
        plain.replace("0001", "0003"),
        plain.replace("0001", "0004"),
    ]
    write(tmp_path, CONS, "\n".join(lines) + "\n")
    result = load_file(con, tmp_path, CONS, DAY, "utf-8", block_bytes=50)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    [(_, line, raw, reason)] = quarantine(con)
    assert (line, raw) == (3, "\n".join(lines[2:]))
    assert reason.startswith("expected 15 fields, found 2")


def test_a_carriage_return_inside_a_line_is_text(tmp_path, con):
    """Only the `\\r` of a `\\r\\n` line end is dropped; one inside a line without quotes is
    an ordinary character of its field (as the loader always read files without quotes)."""
    write(tmp_path, CONS, CONS_HEADER + "\n" + GOOD_CONS.replace("张三", "张\r三") + "\n")
    assert load_file(con, tmp_path, CONS, DAY, "utf-8").rows_loaded == 1
    assert con.execute('SELECT CONS_NAME FROM raw_marketing."C_CONS"').fetchall() == [("张\r三",)]


@pytest.mark.parametrize("table", [READS, CONS])
def test_a_quoted_field_gets_the_verdict_of_the_same_value_unquoted(tmp_path, table):
    """Lines with quotes are split by `_SPLIT_QUOTED`, lines without by `string_split`:
    every value of a pool, in every column, gets the same verdict and reason (and, loaded,
    the same value) both ways."""
    good = (
        {
            "DATA_ID": "D1",
            "DATA_DATE": "2026-09-01",
            "COL_TIME": "2026-09-02 01:10:00",
            "PAP_R": "1.5",
            "PAP_R1": "",
            "PAP_R2": "2",
            "PAP_R3": "3",
            "PAP_R4": "4",
            "RAP_R": "0",
            "MARK": "0",
        }
        if table is READS
        else dict(zip(CONS_HEADER.split(","), next(csv.reader([GOOD_CONS])), strict=True))
    )
    pools = {
        "date": [
            "2026-09-01",
            "2026-02-30",
            "2026-13-01",
            "2024-02-29",
            "2026-9-1",
            "",
            " 2026-09-01",
            "0000-01-01",
        ],
        "timestamp": [
            "2026-09-01 23:59:59",
            "2026-09-01 24:00:00",
            "2026-09-01 12:60:00",
            "",
            "2026-09-01T10:00:00",
            "2026-02-30 01:00:00",
        ],
        "decimal": [
            "0.1",
            "+.5",
            "5.",
            ".",
            "-",
            "1e5",
            "999999999999.9999995",
            "1000000000000",
            "-999999999999.999999",
            " 1",
            "1 ",
            "",
            "1.2.3",
            "+-1",
            "NaN",
            "inf",
            "0x10",
        ],
        "code": ["", " ", "x", "1", "0", "01", "02", "1.0", "201", "9"],
        "text": ["", "张三", " ", "x y"],
    }
    names = list(good)
    lines, pairs = [",".join(names)], []
    for name in names:
        for value in pools[
            "code" if table.column(name).type == "code" else table.column(name).type
        ]:
            for quoted in (False, True):
                row = dict(good)
                row[name] = value
                lines.append(
                    ",".join(
                        '"' + v + '"' if (quoted and k == name) or "," in v else v
                        for k, v in row.items()
                    )
                )
            pairs.append((len(lines) - 1, len(lines)))
    write(tmp_path, table, "\n".join(lines) + "\n")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        load_file(c, tmp_path, table, DAY, "utf-8")
        raw, rejected, _ = loaded(c, table)
    verdict = {row[-2]: row[:-2] for row in raw} | {line: reason for _, line, _, reason in rejected}
    assert len(verdict) == len(lines) - 1
    for plain, quoted in pairs:
        assert verdict[plain] == verdict[quoted], (
            lines[plain - 1],
            verdict[plain],
            verdict[quoted],
        )
    assert len(raw) > 20 and len(rejected) > 20


def test_a_truncated_gzip_found_after_some_blocks_changes_nothing(tmp_path, con):
    """The cut-off is only noticed when the stream gets there, after blocks were already
    inserted: the transaction is rolled back, the day keeps its earlier delivery."""
    write(
        tmp_path,
        READS,
        "DATA_ID,DATA_DATE,COL_TIME,PAP_R,PAP_R1,PAP_R2,PAP_R3,PAP_R4,"
        "RAP_R,MARK\nD0,2026-09-01,,1.5,,,,,,0\n",
    )
    load_file(con, tmp_path, READS, DAY, "utf-8")
    rows = "".join(f"D{i},2026-09-01,,{i}.25,,,,,,0\n" for i in range(20_000))
    whole = gzip.compress(
        (
            "DATA_ID,DATA_DATE,COL_TIME,PAP_R,PAP_R1,PAP_R2,PAP_R3,PAP_R4,RAP_R,MARK\n" + rows
        ).encode(),
        mtime=0,
    )
    folder = tmp_path / "acquisition/E_MP_DAY_READ"
    (folder / "2026-09-01.csv").unlink()
    (folder / "2026-09-01.csv.gz").write_bytes(whole[: len(whole) * 3 // 4])
    with pytest.raises(
        LandingFileError,
        match=r"acquisition/E_MP_DAY_READ/2026-09-01\.csv\.gz"
        r": cannot be decompressed",
    ):
        load_file(con, tmp_path, READS, DAY, "utf-8", block_bytes=4096)
    assert con.execute('SELECT DATA_ID FROM raw_acquisition."E_MP_DAY_READ"').fetchall() == [
        ("D0",)
    ]
    assert con.execute("SELECT count(*) FROM meta.extract_files").fetchone()[0] == 1


@pytest.mark.parametrize("gz", [False, True])
def test_sha256_is_the_hash_of_the_file_as_delivered(tmp_path, con, gz):
    path = write(tmp_path, CONS, CONS_HEADER + "\n" + GOOD_CONS + "\n", gz=gz)
    result = load_file(con, tmp_path, CONS, DAY, "utf-8", block_bytes=16)
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_file_is_read_in_bounded_blocks_of_whole_lines(tmp_path):
    """Memory does not grow with the file: no block is larger than block_bytes (unless one
    line is), and the blocks hold every line once, numbered as in the file."""
    from dagster_project.lib.landing_stream import LandingStream

    lines = [f"{i},{'x' * (i % 97)}" for i in range(5_000)] + ["y" * 10_000, "z"]
    path = write(tmp_path, CONS, "\n".join(["H"] + lines) + "\n", gz=True)
    seen = []
    with LandingStream(path, "f", "utf-8", block_bytes=4096) as stream:
        assert stream.header() == (True, "H")
        for block in stream.blocks():
            assert len(block.data) <= 4096 or block.line_count == 1
            seen += [
                (block.first_line + i, text)
                for i, text in enumerate(block.arrow_lines().to_pylist())
            ]
    assert seen == [(n, text) for n, text in enumerate(lines, start=2)]


def test_a_header_that_cannot_be_decoded_names_the_file(tmp_path, con):
    write(tmp_path, CONS, "", raw=b"\xff\xfe" + CONS_HEADER.encode() + b"\n")
    with pytest.raises(
        LandingFileError, match="C_CONS/2026-09-01.csv: the header cannot be decoded as gbk"
    ):
        load_file(con, tmp_path, CONS, DAY, "gbk")
