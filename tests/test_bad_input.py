"""Bad input: every corruption of source-extracts.md ("What a source extract can get
wrong"), plus an empty file, another table's file, a truncated gzip, a day with no files
and a day delivered twice, run through the whole pipeline (`run_pipeline`, one export day)
on a corrupted copy of the tiny landing tree and a copy of the tiny run's work directory.

For each: the run's outcome, the message the user sees (stderr of run_pipeline), the
quarantined rows (file relative to the landing directory, 1-based line counting the header,
raw text, reason), that every other row of every file of the day reached the raw table,
and for failures that the published file is byte-for-byte unchanged. Corruptions in
different files share one run (each run of one day on tiny takes ~30 s).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.cli import run_pipeline
from dagster_project.generator import corruptions as bad
from dagster_project.lib.landing_contract import DEFAULT_ENCODINGS, TABLES

PUBLISHED = "published/gridaudit.duckdb"
SNAPSHOT_DAY = dt.date(2026, 9, 12)  # a day with a file for every table of the tiny preset


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def warehouse(workdir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True)


@pytest.fixture
def workdir(tiny_run, tmp_path) -> Path:
    """A copy of the tiny run's work directory."""
    target = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], target)
    return target


def forget_day(workdir: Path, day: dt.date) -> None:
    """The warehouse as it was before day D's files arrived (raw, quarantine, extract log),
    so that a file missing from the landing tree is really absent from the run."""
    with duckdb.connect(str(workdir / "warehouse.duckdb")) as con:
        for t in TABLES:
            con.execute(f'delete from {t.schema}."{t.name}" where _export_date = ?', [day])
        con.execute("delete from quarantine.rejected_rows where export_date = ?", [day])
        con.execute("delete from meta.extract_files where export_date = ?", [day])


def run_day(day: dt.date, landing: Path, workdir: Path, capsys) -> tuple[bool, str]:
    capsys.readouterr()
    ok = run_pipeline(day, day, landing, workdir, instance=dg.DagsterInstance.ephemeral())
    captured = capsys.readouterr()
    return ok, captured.out + captured.err


def landing_lines(path: Path, encoding: str) -> dict[int, str | None]:
    """Physical data lines of a landing file (line number -> text, None when the line
    cannot be decoded), blank lines left out."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    if data.startswith(bad.BOM):
        data = data[3:]
    enc = "utf-8" if encoding == "utf-8-sig" else encoding
    out: dict[int, str | None] = {}
    for number, raw in enumerate(data.split(b"\n")[1:], start=2):
        raw = raw.rstrip(b"\r")
        if not raw:
            continue
        try:
            out[number] = raw.decode(enc)
        except UnicodeDecodeError:
            out[number] = None
    return out


def assert_nothing_lost(
    landing: Path,
    workdir: Path,
    day: dt.date,
    expected: dict[str, dict[int, str]],
    skip: set[str] = frozenset(),
) -> None:
    """For every landing file of `day`: each data line is either in its raw table (with
    its key) or in quarantine, never both, never neither; quarantine holds exactly
    `expected[file]` (line -> reason fragment) with the raw text of the line. Files of
    `skip` (unreadable as a whole) are left out."""
    seen = set()
    with warehouse(workdir) as con:
        for t in TABLES:
            for path in sorted((landing / t.system / t.name).glob(f"{day}.csv*")):
                rel = path.relative_to(landing).as_posix()
                if rel in skip:
                    continue
                seen.add(rel)
                lines = landing_lines(path, DEFAULT_ENCODINGS[t.system])
                header = next(csv.reader([landing_lines_header(path, t.system)]))
                raw = dict(
                    con.execute(
                        f'select _line_number, "{t.key[0]}" from {t.schema}."{t.name}" '
                        "where _export_date = ? and _source_file = ?",
                        [day, rel],
                    ).fetchall()
                )
                quarantined = {
                    n: (text, reason)
                    for n, text, reason in con.execute(
                        "select line_number, raw_line, reason from quarantine.rejected_rows "
                        "where export_date = ? and source_file = ? and table_name = ?",
                        [day, rel, t.name],
                    ).fetchall()
                }
                assert not set(raw) & set(quarantined), rel
                assert set(raw) | set(quarantined) == set(lines), (
                    rel,
                    sorted(set(lines) - set(raw) - set(quarantined))[:10],
                )
                want = expected.get(rel, {})
                assert set(quarantined) == set(want), (rel, quarantined)
                for number, fragment in want.items():
                    text, reason = quarantined[number]
                    assert fragment in reason, (rel, number, reason)
                    if lines[number] is not None:
                        assert text == lines[number], (rel, number, text)
                key_pos = header.index(t.key[0])
                for number, key in raw.items():
                    assert next(csv.reader([lines[number]]))[key_pos] == str(key), (rel, number)
    assert set(expected) <= seen, set(expected) - seen


def landing_lines_header(path: Path, system: str) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    if data.startswith(bad.BOM):
        data = data[3:]
    return data.split(b"\n")[0].rstrip(b"\r").decode("ascii")


# ------------------------------------------------------------------------ loader only


def test_undecodable_line_is_quarantined_without_its_line_end(tmp_path):
    """raw_line is the physical line without its line end, decodable or not."""
    from dagster_project.lib.extract import load_file
    from dagster_project.lib.landing_contract import TABLES_BY_NAME

    landing, day = tmp_path / "landing", dt.date(2026, 9, 1)
    folder = landing / "marketing" / "K_PRC"
    folder.mkdir(parents=True)
    lines = [
        "PRC_CODE,PRC_NAME,ELEC_TYPE_CODE,UNIT_PRICE",
        "0101,居民生活,201,0.56",
        "0102,一般工商业,301,0.71",
    ]
    raw = [x.encode("gbk") for x in lines]
    raw[2] = lines[2].encode("utf-8")
    (folder / f"{day}.csv").write_bytes(b"\r\n".join(raw) + b"\r\n")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        result = load_file(con, landing, TABLES_BY_NAME["K_PRC"], day, "gbk")
        assert (result.rows_loaded, result.rows_rejected) == (1, 1)
        line, text = con.execute(
            "select line_number, raw_line from quarantine.rejected_rows"
        ).fetchone()
    assert line == 3
    assert text == raw[2].decode("gbk", errors="backslashreplace")


# ------------------------------------------------------------------------------ runs


def test_bad_rows_are_quarantined_with_file_and_line_and_the_rest_is_loaded(
    tiny_run, landing_copy, workdir, capsys
):
    """Row-level corruptions in several files of one day: the run succeeds, each bad row
    is in quarantine with its file, line, raw text and reason, every other row is loaded,
    duplicated / re-delivered / late rows are kept (staging resolves them), a new column is
    reported, a day without a file is no error."""
    day, landing = SNAPSHOT_DAY, landing_copy
    forget_day(workdir, day)
    cons = {
        10: (
            bad.set_field(landing, "C_CONS", day, 10, "BUILD_DATE", "2026-02-30"),
            "BUILD_DATE: not a valid date (2026-02-30)",
        ),
        20: (
            bad.set_field(landing, "C_CONS", day, 20, "VOLT_CODE", "1.0"),
            "VOLT_CODE: not one of 01/02/03 (1.0)",
        ),
        30: (
            bad.set_field(landing, "C_CONS", day, 30, "TG_ID", "2199999999"),
            "TG_ID: unknown to every G_TG snapshot (2199999999)",
        ),
        40: (bad.line_in_encoding(landing, "C_CONS", day, 40, "utf-8"), "cannot be decoded as gbk"),
    }
    duplicate = bad.append_copy(landing, "C_CONS", day, 50)
    meter_number = bad.set_field(landing, "C_METER", day, 10, "T_FACTOR", "12,5")
    meter_cut = bad.truncate_last_line(landing, "C_METER", day, keep_fields=3)
    unknown_read = bad.set_field(landing, "E_MP_DAY_READ", day, 5, "DATA_ID", "7999999999")
    read_id, read_date, pap_r = (
        bad.field(landing, "E_MP_DAY_READ", day, 6, c) for c in ("DATA_ID", "DATA_DATE", "PAP_R")
    )
    last_col_time = f"{day + dt.timedelta(days=1)} 23:00:00"  # after every delivered one
    corrected = bad.append_copy(
        landing, "E_MP_DAY_READ", day, 6, PAP_R=f"{float(pap_r) + 0.5:.2f}", COL_TIME=last_col_time
    )
    late_day = day - dt.timedelta(days=2)
    late_id, late_date = (
        bad.field(landing, "E_MP_DAY_READ", late_day, 7, c) for c in ("DATA_ID", "DATA_DATE")
    )
    late = bad.append_from_day(
        landing, "E_MP_DAY_READ", day, late_day, 7, MARK="1", COL_TIME=last_col_time
    )
    bad.add_column(landing, "T_TX_DYYH", day, "REMARK", "x")
    no_snapshot = bad.delete_file(landing, "ST_TQ_BYQ", day)
    no_delta = bad.delete_file(landing, "A_PAY_FLOW", day)
    published = sha256(workdir / PUBLISHED)

    ok, out = run_day(day, landing, workdir, capsys)

    assert ok, out
    cons_file = cons[10][0].file
    assert f"{cons_file}: 4 of" in out and "rows quarantined" in out, out
    assert f"{meter_number.file}: 2 of" in out, out
    assert "pms/T_TX_DYYH/2026-09-12.csv: new column(s) REMARK" in out, out
    assert_nothing_lost(
        landing,
        workdir,
        day,
        {
            cons_file: {n: reason for n, (_, reason) in cons.items()},
            meter_number.file: {
                10: "T_FACTOR: not a valid decimal (12,5)",
                meter_cut.line: "(cut off)",
            },
            unknown_read.file: {5: "DATA_ID: unknown to every E_DATA_MP snapshot (7999999999)"},
        },
    )
    with warehouse(workdir) as con:
        q = {
            n: (text, reason)
            for n, text, reason in con.execute(
                "select line_number, raw_line, reason from quarantine.rejected_rows "
                "where source_file = ?",
                [cons_file],
            ).fetchall()
        }
        # escaped bytes; the loader keeps the CR of a CRLF line that cannot be decoded
        # (test_undecodable_line_is_quarantined_without_its_line_end)
        assert q[40][0].removesuffix("\r") == cons[40][0].raw_line and "\\x" in q[40][0]
        assert q[10][0] == cons[10][0].raw_line
        assert (
            '"12,5"'
            in con.execute(
                "select raw_line from quarantine.rejected_rows where source_file = ? and "
                "line_number = 10",
                [meter_number.file],
            ).fetchone()[0]
        )
        # the duplicated row is kept in raw (staging keeps one), both lines present
        cons_no = bad.field(landing, "C_CONS", day, 50, "CONS_NO")
        assert con.execute(
            'select list(_line_number order by _line_number) from raw_marketing."C_CONS" '
            "where _export_date = ? and CONS_NO = ?",
            [day, cons_no],
        ).fetchone()[0] == [50, duplicate.line]
        assert (
            con.execute(
                "select count(*) from staging.stg_marketing__customers where "
                "snapshot_date = ? and cons_no = ?",
                [day, cons_no],
            ).fetchone()[0]
            == 1
        )
        # the correction wins (later COL_TIME), the late row of an earlier day reaches staging
        assert con.execute(
            'select "PAP_R" from staging.stg_acquisition__day_reads where "DATA_ID" = ? and '
            '"DATA_DATE" = ?',
            [read_id, read_date],
        ).fetchone()[0] == Decimal(
            f"{float(pap_r) + 0.5:.2f}"
        )  # exact: registers are DECIMAL(18,6)
        assert con.execute(
            'select "MARK", _export_date from staging.stg_acquisition__day_reads '
            'where "DATA_ID" = ? and "DATA_DATE" = ?',
            [late_id, late_date],
        ).fetchone() == ("1", day)
        assert corrected.line == late.line - 1
        # the new column is recorded; days without a file load nothing and fail nothing
        assert (
            con.execute(
                "select extra_columns from meta.extract_files where source_file = "
                "'pms/T_TX_DYYH/2026-09-12.csv'"
            ).fetchone()[0]
            == "REMARK"
        )
        for broken in (no_snapshot, no_delta):
            assert (
                con.execute(
                    "select count(*) from meta.extract_files where source_file = ?", [broken.file]
                ).fetchone()[0]
                == 0
            )
        assert (
            con.execute(
                'select count(*) from raw_pms."ST_TQ_BYQ" where _export_date = ?', [day]
            ).fetchone()[0]
            == 0
        )
    assert sha256(workdir / PUBLISHED) != published  # the day was published
    with duckdb.connect(str(workdir / PUBLISHED), read_only=True) as pub:
        assert (
            pub.execute(
                "select count(*) from marts.area_daily_loss where data_date = ?", [day]
            ).fetchone()[0]
            > 0
        )


def test_a_handful_of_bad_rows_in_small_files_publishes_with_warnings(
    tiny_run, landing_copy, workdir, capsys
):
    """One bad row in each of four small files (6, 18, 7 and 59 data rows: 17 %, 6 %, 14 %
    and 1.7 % of their table's day, all above quarantine_max_share, none above
    quarantine_min_rejected_rows): the day publishes; every bad row is in quarantine with
    its file, line and reason, every other row is loaded, and the run's summary warns about
    each table with its file and reason."""
    day, landing = SNAPSHOT_DAY, landing_copy
    forget_day(workdir, day)
    broken = {
        "E_EVENT": (
            bad.set_field(landing, "E_EVENT", day, 3, "START_TIME", "2026-13-01"),
            "START_TIME: not a valid timestamp (2026-13-01)",
        ),
        "APP_BIZ": (
            bad.set_field(landing, "APP_BIZ", day, 4, "APPLY_DATE", "2026-02-30"),
            "APPLY_DATE: not a valid date (2026-02-30)",
        ),
        "K_PRC": (
            bad.set_field(landing, "K_PRC", day, 2, "ELEC_TYPE_CODE", "1.0"),
            "ELEC_TYPE_CODE: not one of 201/202/301/302/401 (1.0)",
        ),
        "A_PAY_FLOW": (
            bad.set_field(landing, "A_PAY_FLOW", day, 5, "PAY_AMT", "12,5"),
            "PAY_AMT: not a valid decimal (12,5)",
        ),
    }
    published = sha256(workdir / PUBLISHED)

    ok, out = run_day(day, landing, workdir, capsys)

    assert ok, out
    assert sha256(workdir / PUBLISHED) != published  # the day was published
    assert_nothing_lost(
        landing, workdir, day, {b.file: {b.line: reason} for b, reason in broken.values()}
    )
    warnings = [line for line in out.splitlines() if line.startswith("  warning: ")]
    for table, (b, reason) in broken.items():
        t = next(x for x in TABLES if x.name == table)
        [line] = [w for w in warnings if f"raw_{t.system}.{table}: quarantined_rows" in w]
        assert f"files={b.file}" in line and "rows_rejected=1" in line, line
        assert reason.split(" (")[0] + " x 1" in line, line


def test_unreadable_files_fail_their_extract_naming_the_file_and_keep_the_published_file(
    tiny_run, landing_copy, workdir, capsys
):
    """File-level corruptions (one per table, one day): each fails its own table's extract
    with a message naming the file; the other tables' files are loaded; nothing is
    published."""
    day, landing = SNAPSHOT_DAY, landing_copy
    forget_day(workdir, day)
    published = sha256(workdir / PUBLISHED)
    broken = {
        "C_CONTACT": (bad.truncate_gzip(landing, "C_CONTACT", day), "cannot be decompressed"),
        "K_PRC": (bad.empty_file(landing, "K_PRC", day), "the file is empty"),
        "R_TMNL_RUN": (
            bad.other_tables_file(landing, "R_TMNL_RUN", day, "G_TG", day),
            "required column(s) missing from the header: TERMINAL_ID",
        ),
        "O_ORG": (
            bad.drop_column(landing, "O_ORG", day, "ORG_TYPE"),
            "required column(s) missing from the header: ORG_TYPE",
        ),
    }
    twice = bad.deliver_twice(landing, "E_EVENT", day)

    ok, out = run_day(day, landing, workdir, capsys)

    assert not ok
    for table, (b, message) in broken.items():
        assert f"{b.file}: {message}" in out, (table, out)
    assert (
        f"{twice[0].file} and {twice[1].file}: the same day is delivered twice" in out
        or f"{twice[1].file} and {twice[0].file}: the same day is delivered twice" in out
    ), out
    assert f"the published file {workdir / PUBLISHED} was left as it was" in out
    assert sha256(workdir / PUBLISHED) == published
    with warehouse(workdir) as con:
        for table in (*broken, "E_EVENT"):
            t = next(x for x in TABLES if x.name == table)
            assert (
                con.execute(
                    f'select count(*) from {t.schema}."{t.name}" where _export_date = ?', [day]
                ).fetchone()[0]
                == 0
            ), table
        assert (
            con.execute(
                "select count(*) from quarantine.rejected_rows where export_date = ?", [day]
            ).fetchone()[0]
            == 0
        )
    # the readable files of the day are loaded whole, nothing quarantined
    unreadable = {b.file for b, _ in broken.values()} | {twice[0].file, twice[1].file}
    assert_nothing_lost(landing, workdir, day, {}, skip=unreadable)


def test_a_whole_file_in_the_wrong_encoding_is_quarantined_and_fails_the_gate(
    tiny_run, landing_copy, workdir, capsys
):
    """A GBK system's file written in UTF-8: every line with Chinese text cannot be
    decoded; all are quarantined (none is loaded as mojibake), the quarantine share fails
    the gate naming the table, nothing is published."""
    day, landing = SNAPSHOT_DAY, landing_copy
    forget_day(workdir, day)
    published = sha256(workdir / PUBLISHED)
    b = bad.whole_file_in_encoding(landing, "C_CONS", day, "utf-8")

    ok, out = run_day(day, landing, workdir, capsys)

    assert not ok
    assert "raw_marketing.C_CONS: quarantine_share failed" in out, out
    assert sha256(workdir / PUBLISHED) == published
    lines = landing_lines(landing / b.file, "gbk")
    assert all(text is None for text in lines.values())  # no line decodes as GBK
    assert_nothing_lost(
        landing, workdir, day, {b.file: {number: "cannot be decoded as gbk" for number in lines}}
    )


def test_a_day_with_no_files_at_all_fails_the_gate_and_keeps_the_published_file(
    tiny_run, landing_copy, workdir, capsys
):
    day = tiny_run["end"] - dt.timedelta(days=1)
    forget_day(workdir, day)
    published = sha256(workdir / PUBLISHED)
    gone = bad.delete_day(landing_copy, day)
    assert {g.file.split("/")[1] for g in gone} >= {"E_MP_DAY_READ", "A_RCVBL_FLOW"}

    ok, out = run_day(day, landing_copy, workdir, capsys)

    assert not ok
    assert "raw_acquisition.E_MP_DAY_READ: read_count_vs_previous_day failed" in out, out
    assert f"export_date={day}, row_count=0" in out, out
    assert sha256(workdir / PUBLISHED) == published
    with warehouse(workdir) as con:
        assert (
            con.execute(
                "select count(*) from meta.extract_files where export_date = ?", [day]
            ).fetchone()[0]
            == 0
        )
