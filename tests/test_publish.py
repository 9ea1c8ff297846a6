"""Write-audit-publish of the published DuckDB file (tmp_path only)."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib import publish as pub
from dagster_project.lib.settings import REPO_ROOT

N_ROWS = 5_000


def make_warehouse(path: Path, generation: int, n_rows: int = N_ROWS) -> Path:
    """A warehouse whose marts carry `generation` in every row and column (to tell
    publishes apart)."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema intermediate")
        con.execute("""
            create table marts.area_daily_loss (
                tg_id varchar not null, data_date date not null, loss_rate double,
                generation integer)""")
        con.execute(f"""
            insert into marts.area_daily_loss
            select 'TG{generation}' || lpad(i::varchar, 7, '0'),
                   date '2024-03-01' + (i % 30)::int, (i % 100) / 1000.0 + {generation},
                   {generation}
            from range({n_rows}) t(i)""")
        con.execute("comment on table marts.area_daily_loss is '台区日线损'")
        con.execute("comment on column marts.area_daily_loss.tg_id is '台区编号'")
        con.execute("comment on column marts.area_daily_loss.loss_rate is '线损率'")
        con.execute("""
            create table marts.area_problem_list (
                tg_id varchar, cons_no varchar, cons_name varchar, contact_name varchar,
                mobile varchar, elec_addr varchar, generation integer)""")
        con.execute(f"""
            insert into marts.area_problem_list values
            ('TG000001', 'C1', '张三明', '李四', '13812345678',
             '广东省深圳市南山区科技园路1号301室', {generation}),
            ('TG000002', 'C2', null, null, null, null, {generation})""")
        con.execute("comment on column marts.area_problem_list.cons_name is '户名'")
        con.execute("create table intermediate.not_published as select 1 as x")
    return path


def generation_of(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select distinct generation from marts.area_daily_loss").fetchone()[0]


def generations_of(db: Path) -> set[int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            g
            for (g,) in con.execute(
                "select distinct generation from marts.area_daily_loss"
            ).fetchall()
        }


def change_recent_days(warehouse: Path, generation: int) -> None:
    """What a daily run does: recomputes days from 2024-03-20 on (other values, fewer and
    more rows, a new day) and the current-state table; earlier days stay as they were."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"""update marts.area_daily_loss set loss_rate = loss_rate + 1,
                        generation = {generation} where data_date >= date '2024-03-20'""")
        con.execute("""delete from marts.area_daily_loss where tg_id in (
                        select tg_id from marts.area_daily_loss
                        where data_date = date '2024-03-25' order by tg_id limit 50)""")
        con.execute(f"""insert into marts.area_daily_loss
                        select 'TGNEW' || i, date '2024-03-31', 0.5, {generation}
                        from range(100) t(i)""")
        con.execute(f"""insert into marts.area_problem_list values
                        ('TG000003', 'C3', '王小二', null, '13900000000', '北京市朝阳区建国路88号',
                         {generation})""")


def published_tables(db: Path) -> dict:
    """Everything a reader sees: tables, columns (type, nullability, comment), table
    comments and every row (sorted), except the publish time."""
    with duckdb.connect(str(db), read_only=True) as con:
        out = {
            "tables": con.execute(
                "select schema_name, table_name, comment from duckdb_tables() order by 1, 2"
            ).fetchall(),
            "columns": con.execute(
                "select schema_name, table_name, column_name, data_type, is_nullable, comment "
                "from duckdb_columns() order by 1, 2, column_index"
            ).fetchall(),
        }
        for schema, table, _ in out["tables"]:
            if (schema, table) == ("meta", "publish_info"):
                out[table] = con.execute(
                    "select * exclude (published_at) from meta.publish_info"
                ).fetchall()
                continue
            out[f"{schema}.{table}"] = sorted(
                con.execute(f'select * from "{schema}"."{table}"').fetchall(), key=repr
            )
    return out


def assert_same_as_full(warehouse: Path, published: Path, tmp_path: Path, **kwargs) -> None:
    reference = tmp_path / "reference" / "gridaudit.duckdb"
    pub.publish(warehouse, reference, **kwargs)
    assert published_tables(published) == published_tables(reference)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "warehouse.duckdb", tmp_path / "published" / "gridaudit.duckdb"


# ------------------------------------------------------------------ masking (pure)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("cons_name", "张三明", "张*明"),
        ("cons_name", "张明", "张*"),
        ("cons_name", "欧阳明华", "欧**华"),
        ("contact_name", " 王五 ", "王*"),
        ("cons_name", "李", "*"),
        ("mobile", "13812345678", "138****5678"),
        ("mobile", "+8613812345678", "+86*******5678"),
        ("mobile", "0755-1234", "075**1234"),
        ("mobile", "12345", "***45"),
        ("elec_addr", "广东省深圳市南山区科技园路1号301室", "广东省深圳市南山区***"),
        ("elec_addr", "北京市朝阳区建国路88号", "北京市朝阳区***"),
        ("elec_addr", "某某镇某某村3组12号", "某某镇某某村***"),
        ("elec_addr", "科技园路1号301室", "科技园路***"),  # no division: half, no digits
        ("elec_addr", "XX区88栋", "XX区***"),
        ("elec_addr", "12栋3单元401", "***"),
        ("elec_addr", "深圳市南山区", "深圳市南山区"),  # only division names: nothing personal
        ("ELEC_ADDR", "广东省深圳市南山区科技园路1号", "广东省深圳市南山区***"),
        ("mobile", None, None),
        ("cons_no", "0001234567", "0001234567"),  # not a personal-data column
        ("cons_name", "", ""),
    ],
)
def test_mask_value(column, value, expected):
    assert pub.mask_value(column, value) == expected


def test_masked_address_never_keeps_the_house_number():
    long = "内蒙古自治区鄂尔多斯市伊金霍洛旗阿勒腾席热镇某某路12号"
    masked = pub.mask_address(long)
    assert masked.endswith("***") and "12号" not in masked
    assert len(masked) <= pub.ADDRESS_MAX_KEPT + 3


# ------------------------------------------------------------------ publish


def test_publish_creates_file_with_comments_masked_and_no_leftovers(paths):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    result = pub.publish(warehouse, published)

    assert published.is_file() and result.published_path == published
    assert result.tables == {"marts.area_daily_loss": N_ROWS, "marts.area_problem_list": 2}
    assert result.previous_version is None
    with duckdb.connect(str(published), read_only=True) as con:
        assert (
            con.execute(
                "select comment from duckdb_tables() where table_name = 'area_daily_loss'"
            ).fetchone()[0]
            == "台区日线损"
        )
        comments = dict(
            con.execute(
                "select column_name, comment from duckdb_columns() where table_name = "
                "'area_daily_loss' and comment is not null"
            ).fetchall()
        )
        assert comments == {"tg_id": "台区编号", "loss_rate": "线损率"}
        nullable = dict(
            con.execute(
                "select column_name, is_nullable from duckdb_columns() "
                "where table_name = 'area_daily_loss'"
            ).fetchall()
        )
        assert nullable["tg_id"] is False and nullable["loss_rate"] is True
        rows = con.execute(
            "select cons_name, contact_name, mobile, elec_addr from "
            "marts.area_problem_list order by tg_id"
        ).fetchall()
        assert rows == [
            ("张*明", "李*", "138****5678", "广东省深圳市南山区***"),
            (None, None, None, None),
        ]
        schemas = {
            s for (s,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()
        }
        assert schemas == {"marts", "meta"}  # intermediate is not published
        info = con.execute(
            "select personal_data_masked, settings_fingerprint from meta.publish_info"
        ).fetchone()
        assert info[0] is True and len(info[1]) == 12
    assert sorted(result.masked_columns) == sorted(
        f"marts.area_problem_list.{c}" for c in ("cons_name", "contact_name", "mobile", "elec_addr")
    )
    leftovers = [
        p.name
        for p in published.parent.iterdir()
        if p.name.startswith(".incoming-") or p.name.endswith(".wal")
    ]
    assert leftovers == []


def test_publish_without_masking_keeps_values(paths):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published, mask_personal_data=False)
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select cons_name, mobile from marts.area_problem_list where cons_no = 'C1'"
        ).fetchone() == ("张三明", "13812345678")


READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("select count(*), min(generation) from marts.area_daily_loss").fetchone(),
          flush=True)
    sys.stdin.readline()  # the test publishes a new file meanwhile
    # Columns and a table not read before: their pages come from the file now, and a
    # publish that wrote into the open file would show up here as other values or an error.
    print(con.execute("select count(*), sum(loss_rate), max(tg_id) "
                      "from marts.area_daily_loss").fetchone(),
          con.execute("select max(generation) from marts.area_problem_list").fetchone(),
          flush=True)
    con.close()
""")
READER_ROWS = 300_000  # several MB: more than the pages the first query reads


def test_reader_keeps_old_data_while_publish_replaces_the_file(paths):
    warehouse, published = paths
    make_warehouse(warehouse, 1, READER_ROWS)
    pub.publish(warehouse, published)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == f"({READER_ROWS}, 1)"
        make_warehouse(warehouse, 2, READER_ROWS)
        started = time.monotonic()
        pub.publish(warehouse, published)  # not blocked by the open reader
        assert time.monotonic() - started < 30
        assert reader.poll() is None  # the reader still holds the old file open
        assert generation_of(published) == 2  # a new connection sees the new file
        out, _ = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0, out
    first, second = out.strip().split(") (")
    count, total, max_tg = ast.literal_eval(first + ")")
    assert (count, max_tg) == (READER_ROWS, f"TG1{READER_ROWS - 1:07d}")
    assert total == pytest.approx(sum((i % 100) / 1000.0 + 1 for i in range(READER_ROWS)))
    assert second == "1,)"


KILLED_PUBLISHER = textwrap.dedent("""
    import datetime as dt, sys, time
    from pathlib import Path
    from dagster_project.lib import publish
    flag = Path(sys.argv[3])
    from_date = dt.date.fromisoformat(sys.argv[4]) if sys.argv[4] else None
    def hang(incoming):
        flag.write_text(str(incoming))
        time.sleep(120)
    publish.publish(sys.argv[1], sys.argv[2], before_replace=hang, from_date=from_date)
""")


@pytest.mark.parametrize("from_date", ["", "2024-03-20"], ids=["full", "incremental"])
def test_sigkill_during_publish_leaves_published_file_byte_identical(paths, tmp_path, from_date):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)
    before = sha(published)
    if from_date:  # a change the incremental path patches (same counts before from_date)
        change_recent_days(warehouse, 2)
    else:
        make_warehouse(warehouse, 2)
    flag = tmp_path / "about-to-rename"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_PUBLISHER,
            str(warehouse),
            str(published),
            str(flag),
            from_date,
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert proc.poll() is None, "publisher exited before reaching the rename"
            assert time.monotonic() < deadline, "publisher never reached the rename"
            time.sleep(0.05)
        incoming = Path(flag.read_text())
        assert incoming.is_file() and 2 in generations_of(incoming)  # the new file was complete
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert sha(published) == before and generation_of(published) == 1
    assert incoming.exists()  # the killed run's file is left ...

    result = pub.publish(  # ... and the next publish removes it
        warehouse, published, from_date=dt.date.fromisoformat(from_date) if from_date else None
    )
    assert incoming in result.stale_removed and not incoming.exists()
    assert result.mode == ("incremental" if from_date else "full")
    assert 2 in generations_of(published)


def test_failed_publish_leaves_published_file_untouched(paths):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)
    before = sha(published)
    make_warehouse(warehouse, 2)

    def fail(incoming):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        pub.publish(warehouse, published, before_replace=fail)
    with pytest.raises(pub.PublishError, match="has no tables"):
        pub.publish(warehouse, published, schemas=("marts", "no_such_schema"))
    assert sha(published) == before
    assert not list(published.parent.glob(".incoming-*"))
    assert pub.list_versions(published) == []  # nothing was replaced, nothing kept


def test_rollback_restores_previous_version(paths):
    warehouse, published = paths
    for generation in (1, 2, 3):
        make_warehouse(warehouse, generation)
        inode_before = published.stat().st_ino if published.exists() else None
        result = pub.publish(warehouse, published)
    assert generation_of(published) == 3
    # the replaced file itself was kept (hard link: same inode, no copy)
    assert result.previous_version.path.stat().st_ino == inode_before
    assert generation_of(result.previous_version.path) == 2
    kept_2 = sha(result.previous_version.path)

    restored = pub.rollback(published)
    assert restored.path == result.previous_version.path
    assert generation_of(published) == 2 and sha(published) == kept_2

    oldest = pub.list_versions(published)[-1]
    pub.rollback(published, oldest.version)
    assert generation_of(published) == 1
    with pytest.raises(pub.PublishError, match="not kept"):
        pub.rollback(published, "19990101T000000000000Z")
    assert not list(published.parent.glob(".incoming-*"))


def test_rollback_without_versions_fails(paths):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)
    with pytest.raises(pub.PublishError, match="no kept versions"):
        pub.rollback(published)
    assert generation_of(published) == 1


def test_versions_are_pruned_to_keep(paths):
    warehouse, published = paths
    for generation in range(1, 6):
        make_warehouse(warehouse, generation)
        result = pub.publish(warehouse, published, keep=2)
    versions = pub.list_versions(published)
    assert [generation_of(v.path) for v in versions] == [4, 3]  # newest first
    assert len(result.pruned) == 1 and not result.pruned[0].exists()
    assert len(list((published.parent / "versions").iterdir())) == 2
    pub.publish(warehouse, published, keep=0)
    assert pub.list_versions(published) == []


# ------------------------------------------------------------------ incremental publish

FROM = dt.date(2024, 3, 20)


def test_incremental_publish_equals_full_publish(paths, tmp_path):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)
    change_recent_days(warehouse, 2)
    with duckdb.connect(str(warehouse)) as con:  # a table dropped, one added, a comment
        con.execute("create table marts.dim_code as select 'L01' as code, '高损' as name")
        con.execute("comment on column marts.area_daily_loss.loss_rate is '线损率(%)'")
        con.execute("comment on column marts.area_daily_loss.tg_id is null")
    pub.publish(warehouse, published)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table marts.dim_code")
        con.execute("create table marts.dim_other as select 1 as x")
        con.execute(
            "update marts.area_daily_loss set generation = 3 where data_date >= date '2024-03-28'"
        )

    result = pub.publish(warehouse, published, from_date=FROM)
    assert (result.mode, result.fallback_reason) == ("incremental", None)
    assert result.previous_version is not None and generations_of(published) == {1, 2, 3}
    assert result.tables["marts.area_daily_loss"] == N_ROWS - 50 + 100
    assert "marts.dim_code" not in result.tables and result.tables["marts.dim_other"] == 1
    assert sorted(result.masked_columns) == sorted(
        f"marts.area_problem_list.{c}" for c in ("cons_name", "contact_name", "mobile", "elec_addr")
    )
    assert result.metadata()["mode"] == "incremental"
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select cons_name, mobile from marts.area_problem_list where cons_no = 'C3'"
        ).fetchone() == ("王*二", "139****0000")
    assert_same_as_full(warehouse, published, tmp_path)
    assert oct(published.stat().st_mode & 0o777) == "0o444"
    assert not list(published.parent.glob(".incoming-*"))


def test_change_before_from_date_is_caught_by_the_safety_net(paths, tmp_path):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)
    change_recent_days(warehouse, 2)
    with duckdb.connect(str(warehouse)) as con:  # a day the lookback does not cover
        con.execute("""delete from marts.area_daily_loss where tg_id in (
                        select tg_id from marts.area_daily_loss
                        where data_date = date '2024-03-05' order by tg_id limit 3)""")
    result = pub.publish(warehouse, published, from_date=FROM)
    assert result.mode == "full"
    assert "safety net" in result.fallback_reason
    assert "marts.area_daily_loss" in result.fallback_reason
    assert "2024-03-05" in result.fallback_reason
    assert_same_as_full(warehouse, published, tmp_path)
    assert not list(published.parent.glob(".incoming-*"))


def test_changed_settings_or_masking_publishes_in_full(paths, tmp_path):
    warehouse, published = paths
    settings = tmp_path / "audit_settings.csv"
    settings.write_text(
        "setting_name,setting_value,unit,description\nloss_rate_high_above,0.10,share,x\n",
        encoding="utf-8",
    )
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published, settings_path=settings)
    change_recent_days(warehouse, 2)

    settings.write_text(
        "setting_name,setting_value,unit,description\nloss_rate_high_above,0.12,share,x\n",
        encoding="utf-8",
    )
    result = pub.publish(warehouse, published, from_date=FROM, settings_path=settings)
    assert result.mode == "full" and "settings fingerprint" in result.fallback_reason

    result = pub.publish(
        warehouse, published, from_date=FROM, settings_path=settings, mask_personal_data=False
    )
    assert result.mode == "full" and "personal_data_masked" in result.fallback_reason
    assert_same_as_full(
        warehouse, published, tmp_path, settings_path=settings, mask_personal_data=False
    )

    result = pub.publish(
        warehouse, published, from_date=FROM, settings_path=settings, mask_personal_data=False
    )
    assert result.mode == "incremental"


def test_table_with_changed_columns_is_copied_whole(paths, tmp_path):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)
    with duckdb.connect(str(warehouse)) as con:  # a new column, filled on every day
        con.execute("alter table marts.area_daily_loss add column energy_kwh double")
        con.execute("update marts.area_daily_loss set energy_kwh = 7, generation = 2")
    result = pub.publish(warehouse, published, from_date=FROM)
    assert (result.mode, result.fallback_reason) == ("incremental", None)
    assert generations_of(published) == {2}  # early days too: the table was copied whole
    assert_same_as_full(warehouse, published, tmp_path)


def test_no_published_file_yet_publishes_in_full(paths, tmp_path):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    result = pub.publish(warehouse, published, from_date=FROM)
    assert (result.mode, result.fallback_reason) == ("full", "no published file yet")
    assert_same_as_full(warehouse, published, tmp_path)


def test_publish_after_rollback_is_full(paths):
    warehouse, published = paths
    for generation in (1, 2):
        make_warehouse(warehouse, generation)
        pub.publish(warehouse, published)
    pub.rollback(published)
    change_recent_days(warehouse, 3)
    result = pub.publish(warehouse, published, from_date=FROM)
    assert result.mode == "full" and "rolled back" in result.fallback_reason
    assert pub.publish(warehouse, published, from_date=FROM).mode == "incremental"


def test_error_in_incremental_path_falls_back_to_full(paths, tmp_path, monkeypatch):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)
    change_recent_days(warehouse, 2)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pub, "_earlier_days_differ", broken)
    result = pub.publish(warehouse, published, from_date=FROM)
    assert result.mode == "full"
    assert result.fallback_reason == "incremental publish failed: RuntimeError: boom"
    assert_same_as_full(warehouse, published, tmp_path)
    assert not list(published.parent.glob(".incoming-*"))
    assert not list(published.parent.glob("*.wal"))


def test_incremental_publish_never_writes_the_published_file(paths):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)
    before, inode = sha(published), published.stat().st_ino
    change_recent_days(warehouse, 2)
    seen = {}

    def fail(incoming):
        seen["incoming"] = generations_of(incoming)
        seen["published"] = sha(published)
        raise OSError("killed before the rename")

    with pytest.raises(OSError, match="killed before the rename"):
        pub.publish(warehouse, published, from_date=FROM, before_replace=fail)
    assert seen == {"incoming": {1, 2}, "published": before}
    assert sha(published) == before and published.stat().st_ino == inode
    assert oct(published.stat().st_mode & 0o777) == "0o444"
    assert not list(published.parent.glob(".incoming-*"))
    assert pub.list_versions(published) == []


def test_table_mostly_re_copied_is_copied_whole(paths, tmp_path):
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)
    make_warehouse(warehouse, 2)  # every day changed; from 03-05 on is > half the rows
    result = pub.publish(warehouse, published, from_date=dt.date(2024, 3, 5))
    assert (result.mode, result.fallback_reason) == ("incremental", None)
    assert generations_of(published) == {2}
    assert_same_as_full(warehouse, published, tmp_path)


# ------------------------------------------------------------------ DuckDB 1.x readers
# BI drivers (JDBC in DBeaver and Metabase, duckdb-engine, Evidence, the duckdb CLI) embed
# DuckDB 1.x, which refuses DuckDB 2.0's own storage format: every path that writes the
# published file must leave one a DuckDB 1.x client opens. The client runs in its own
# environment (uv), never in this one (which has DuckDB 2.0).

DUCKDB_1X = "duckdb==1.4.*"
# Every table's rows (count and a digest of the sorted Python values) and every column's
# type, nullability and comment, as one client reads them.
READ_EVERYTHING = textwrap.dedent("""
    import hashlib, json, sys
    import duckdb
    out = {"duckdb": duckdb.__version__, "files": {}}
    for path in sys.argv[1:]:
        # no progress bar: on a slow machine it would be printed into the JSON on stdout
        con = duckdb.connect(path, read_only=True)
        con.execute("set enable_progress_bar = false")
        tables = {}
        for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where database_name = current_database() order by 1, 2").fetchall():
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            digest = hashlib.sha256("\\n".join(sorted(map(repr, rows))).encode()).hexdigest()
            tables[f"{schema}.{table}"] = [len(rows), digest]
        columns = con.execute(
            "select schema_name, table_name, column_name, data_type, is_nullable, comment "
            "from duckdb_columns() where database_name = current_database() "
            "order by all").fetchall()
        out["files"][path] = {"tables": tables, "columns": [list(c) for c in columns]}
        con.close()
    print(json.dumps(out, ensure_ascii=False))
""")
# what uv prints when it cannot reach a package registry (no network, or UV_OFFLINE)
NO_REGISTRY = (
    "error sending request",
    "dns error",
    "failed to fetch",
    "failed to download",
    "connection refused",
    "network is unreachable",
    "timed out",
    "offline",
)


def _uv() -> list[str] | None:
    if os.environ.get("UV"):  # set by `uv run`
        return [os.environ["UV"]]
    if shutil.which("uv"):
        return ["uv"]
    python3 = shutil.which("python3")
    if (
        python3
        and subprocess.run(
            [python3, "-m", "uv", "--version"], check=False, capture_output=True
        ).returncode
        == 0
    ):
        return [python3, "-m", "uv"]
    return None


def read_with_duckdb_1x(*paths: Path) -> dict:
    """READ_EVERYTHING in a DuckDB 1.4 client of its own environment (uv, isolated)."""
    uv = _uv()
    if uv is None:
        pytest.skip("no uv to make a DuckDB 1.x environment (python3 -m pip install uv)")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT")
    }
    proc = subprocess.run(
        [
            *uv,
            "run",
            "--isolated",
            "--no-project",
            "--with",
            DUCKDB_1X,
            "python",
            "-c",
            READ_EVERYTHING,
            *map(str, paths),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if (
        proc.returncode != 0
        and "Traceback" not in proc.stderr
        and any(marker in proc.stderr.lower() for marker in NO_REGISTRY)
    ):
        pytest.skip(
            f"no package registry reachable to install {DUCKDB_1X}: "
            + proc.stderr.strip().splitlines()[-1]
        )
    assert proc.returncode == 0, f"DuckDB 1.x could not read {paths}:\n{proc.stderr}"
    out = json.loads(proc.stdout)
    assert out["duckdb"].startswith("1.4."), out["duckdb"]  # not this environment's 2.0
    return out


def read_with_this_duckdb(*paths: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", READ_EVERYTHING, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(proc.stdout)


def assert_duckdb_1x_reads_the_same(*paths: Path) -> dict:
    """Each file is at the storage version of the setting, and DuckDB 1.4 reads every table,
    row and comment of it as DuckDB 2.0 does. Returns 1.4's reading."""
    for path in paths:
        assert pub.file_storage_version(path) == "v1.4.0+", path
    old, new = read_with_duckdb_1x(*paths), read_with_this_duckdb(*paths)
    assert new["duckdb"].startswith("2.")
    for path in map(str, paths):
        assert old["files"][path]["tables"] == new["files"][path]["tables"], path
        assert old["files"][path]["columns"] == new["files"][path]["columns"], path
    return old


def make_typed_warehouse(path: Path, generation: int) -> Path:
    """make_warehouse plus a table of every column type the marts use (DECIMAL for kWh and
    元 included), with comments."""
    make_warehouse(path, generation)
    with duckdb.connect(str(path)) as con:
        con.execute("""
            create table marts.unit_kpi_facts (
                data_date date not null, org_no varchar not null, energy_kwh decimal(18, 3),
                amount_yuan decimal(38, 6), share double, object_count bigint,
                days integer, counted boolean, computed_at timestamp)""")
        con.execute(f"""
            insert into marts.unit_kpi_facts
            select date '2024-03-01' + (i % 30)::int, 'ORG' || (i % 7),
                   (i * 1.125 + {generation})::decimal(18, 3),
                   (i * 3.141593)::decimal(38, 6), i / 7.0, i * 1000000000, i % 31,
                   i % 3 = 0, timestamp '2024-03-01 06:00:00' + to_seconds(i)
            from range(20000) t(i)""")
        con.execute("comment on table marts.unit_kpi_facts is '同业对标明细'")
        con.execute("comment on column marts.unit_kpi_facts.energy_kwh is '电量(kWh)'")
        con.execute("comment on column marts.unit_kpi_facts.amount_yuan is '金额(元)'")
    return path


def test_every_publish_path_leaves_a_file_duckdb_1x_opens(paths, tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDAUDIT_PUBLISHED_STORAGE_VERSION", raising=False)  # the default
    warehouse, published = paths
    seen = tmp_path / "seen"
    seen.mkdir()

    def keep(name: str) -> Path:
        target = seen / f"{name}.duckdb"
        shutil.copyfile(published, target)
        return target

    make_typed_warehouse(warehouse, 1)
    assert pub.publish(warehouse, published).mode == "full"
    full = keep("full")
    change_recent_days(warehouse, 2)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.unit_kpi_facts set energy_kwh = energy_kwh + 1 "
            "where data_date >= date '2024-03-20'"
        )
    result = pub.publish(warehouse, published, from_date=FROM)
    assert (result.mode, result.fallback_reason) == ("incremental", None)
    incremental = keep("incremental")
    pub.rollback(published)
    rolled_back = keep("rolled_back")

    # A published file and a kept version from before the setting (DuckDB 2.0's format)
    pub.publish(warehouse, published, storage_version="latest")
    assert pub.file_storage_version(published) == "v2.0.0+"
    result = pub.publish(warehouse, published, from_date=FROM)
    assert result.mode == "full"
    assert result.fallback_reason == (
        "the published file has DuckDB storage version "
        "v2.0.0+, the setting asks for v1.4.0 (v1.4.0+)"
    )
    after_old_format = keep("after_old_format")
    old_format = pub.list_versions(published)[0]
    assert pub.file_storage_version(old_format.path) == "v2.0.0+"
    pub.rollback(published, old_format.version)  # rewritten, not copied byte for byte
    rolled_back_old = keep("rolled_back_old_format")
    assert published_tables(rolled_back_old) == published_tables(old_format.path)

    read = assert_duckdb_1x_reads_the_same(
        full, incremental, rolled_back, after_old_format, rolled_back_old
    )
    facts = read["files"][str(incremental)]["tables"]["marts.unit_kpi_facts"]
    assert facts[0] == 20000
    types = {(t, c): d for _, t, c, d, _, _ in read["files"][str(full)]["columns"]}
    assert types["unit_kpi_facts", "energy_kwh"] == "DECIMAL(18,3)"
    assert types["unit_kpi_facts", "amount_yuan"] == "DECIMAL(38,6)"
    with duckdb.connect(str(incremental), read_only=True) as con:
        assert con.execute("select storage_version from meta.publish_info").fetchone() == (
            "v1.4.0",
        )


def test_storage_version_setting(monkeypatch, paths):
    from dagster_project.lib import settings

    monkeypatch.delenv("GRIDAUDIT_PUBLISHED_STORAGE_VERSION", raising=False)
    assert settings.published_storage_version() == "v1.4.0"
    monkeypatch.setenv("GRIDAUDIT_PUBLISHED_STORAGE_VERSION", "v1.0.0")
    assert settings.published_storage_version() == "v1.0.0"
    warehouse, published = paths
    make_warehouse(warehouse, 1)
    pub.publish(warehouse, published)  # the environment's version when none is passed
    assert pub.file_storage_version(published) == "v1.0.0+"
    monkeypatch.setenv("GRIDAUDIT_PUBLISHED_STORAGE_VERSION", "1.4")
    with pytest.raises(ValueError, match="must be a DuckDB version such as v1.4.0"):
        settings.published_storage_version()
    before = sha(published)
    with pytest.raises(pub.PublishError, match="'v1.9.0' is not one DuckDB"):
        pub.publish(warehouse, published, storage_version="v1.9.0")
    assert sha(published) == before


def test_duckdb_1x_reads_the_published_marts_of_a_pipeline_run(tiny_run, tmp_path):
    """The published file of a real run (full publish through the Dagster asset), and a
    second publish into it (the incremental patch of an existing file): DuckDB 1.4 reads
    every marts table with the row counts DuckDB 2.0 reads."""
    published = tiny_run["workdir"] / "published" / "gridaudit.duckdb"
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    warehouse, copy = workdir / "warehouse.duckdb", workdir / "published" / "gridaudit.duckdb"
    first = pub.publish(warehouse, copy, from_date=tiny_run["end"])
    assert first.fallback_reason and "source warehouse changed" in first.fallback_reason
    second = pub.publish(warehouse, copy, from_date=tiny_run["end"])
    assert (second.mode, second.fallback_reason) == ("incremental", None)

    read = assert_duckdb_1x_reads_the_same(published, copy)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marts = {
            f"marts.{t}": con.execute(f'select count(*) from marts."{t}"').fetchone()[0]
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }
    assert marts["marts.area_daily_loss"] > 0 and marts["marts.unit_kpi_facts"] > 0
    for path in (published, copy):
        tables = read["files"][str(path)]["tables"]
        assert {name: n for name, (n, _) in tables.items() if name.startswith("marts.")} == marts


def test_the_duckdb_command_line_opens_the_published_file(tiny_run):
    """The command the demo prints (`python3 -m uv run duckdb -readonly ...`) runs the
    duckdb-cli dependency's DuckDB 1.x; it opens the published file read-only."""
    duckdb_cli = Path(sys.executable).parent / "duckdb"
    if not duckdb_cli.exists():
        pytest.skip("duckdb-cli is not installed in this environment (python3 -m uv sync)")
    version = subprocess.run(
        [str(duckdb_cli), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert version.startswith("v1."), version
    published = tiny_run["workdir"] / "published" / "gridaudit.duckdb"
    proc = subprocess.run(
        [
            str(duckdb_cli),
            "-readonly",
            "-csv",
            str(published),
            "-c",
            "select count(*) from marts.area_daily_loss",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute("select count(*) from marts.area_daily_loss").fetchone()[0]
    assert proc.stdout.split() == ["count_star()", str(rows)]
