"""The same dbt project on Spark gives the same marts as on DuckDB (issue 14, docs/spark.md).

The tiny pipeline (`tiny_run`) built the marts on DuckDB. Its raw tables are exported as
Parquet (dagster_project/lib/spark_raw.py), `dbt build --full-refresh` runs on an
in-process pyspark session (the profile's `spark` target, local[2]) with every Spark file
under this test's tmp_path, and every marts table is compared row for row with DuckDB's:
same columns, same types, same rows (sorted; DOUBLE within 1e-9). Spark's tables are
Parquet files in its warehouse directory, read here by DuckDB.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.settings import DBT_PROJECT_DIR
from dagster_project.lib.spark_raw import export_raw_parquet

FLOAT_TOLERANCE = 1e-9

# Marts that do not run on Spark, each with the reason; the Spark build excludes exactly
# these (and nothing else), and the test fails if a marts table is neither compared nor
# listed here. Empty: every mart of the project runs on Spark.
SPARK_EXCLUDED: dict[str, str] = {}


def _spark_dbt(tiny_run, spark_dir: Path, *dbt_args: str) -> subprocess.CompletedProcess:
    """A dbt command on the `spark` target, every Spark file under spark_dir."""
    env = dict(os.environ)
    env.update(
        GRIDAUDIT_DBT_TARGET="spark",
        GRIDAUDIT_SPARK_DIR=str(spark_dir),
        GRIDAUDIT_SPARK_RAW_PATH=str(spark_dir / "raw"),
        # the window the Dagster run gave dbt (defs/dbt/assets.py), so the audit window
        # and the first computable day are the same
        GRIDAUDIT_RUN_START_DATE=tiny_run["start"].isoformat(),
        GRIDAUDIT_RUN_END_DATE=tiny_run["end"].isoformat(),
    )
    dbt = Path(sys.executable).parent / "dbt"
    args = [
        str(dbt), *dbt_args,
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        # not dbt/target: that manifest is Dagster's (DuckDB)
        "--target-path", str(spark_dir / "target"), "--log-path", str(spark_dir / "logs"),
    ]  # fmt: skip
    # cwd: whatever Spark or derby writes beside the configured paths stays in tmp_path
    return subprocess.run(args, cwd=spark_dir, env=env, capture_output=True, text=True)


def _spark_build(tiny_run, spark_dir: Path) -> float:
    """`dbt build --full-refresh` on Spark over the exported raw layer; its wall time."""
    started = time.perf_counter()
    done = _spark_dbt(
        tiny_run, spark_dir, "build", "--full-refresh",
        # the models and seeds only: the unit and data tests are the suite's on DuckDB
        # (each data test is one more Spark job); the identity of the marts is the check
        "--exclude", "test_type:unit", "resource_type:test",
        *[f"{model}+" for model in SPARK_EXCLUDED],
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, "dbt build on Spark failed:\n" + done.stdout[-8000:]
    return elapsed


def _sort_key(row: tuple) -> tuple:
    # None first, then the value; floats rounded so that a 1e-12 difference sorts alike
    return tuple(
        (0, 0) if v is None else (1, round(v, 6) if isinstance(v, float) else v) for v in row
    )


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= FLOAT_TOLERANCE
    return a == b


def compare_tables(con: duckdb.DuckDBPyConnection, left: str, right: str) -> list[str]:
    """The differences between two relations of `con`: columns, types, then rows."""
    lcols = con.execute(f"describe select * from {left}").fetchall()
    rcols = con.execute(f"describe select * from {right}").fetchall()
    ltypes = {name: typ for name, typ, *_ in lcols}
    rtypes = {name: typ for name, typ, *_ in rcols}
    if ltypes != rtypes:
        return [f"columns differ: duckdb {ltypes} spark {rtypes}"]
    names = ", ".join(f'"{name}"' for name in ltypes)
    lrows = sorted(con.execute(f"select {names} from {left}").fetchall(), key=_sort_key)
    rrows = sorted(con.execute(f"select {names} from {right}").fetchall(), key=_sort_key)
    problems = []
    if len(lrows) != len(rrows):
        problems.append(f"{len(lrows)} rows on duckdb, {len(rrows)} on spark")
    for lrow, rrow in zip(lrows, rrows, strict=False):
        if not all(_same(a, b) for a, b in zip(lrow, rrow, strict=True)):
            problems.append(f"duckdb {lrow}\n   spark  {rrow}")
        if len(problems) >= 5:
            break
    return problems


@pytest.fixture(scope="module")
def spark_marts(tiny_run, tmp_path_factory):
    spark_dir = tmp_path_factory.mktemp("spark")
    warehouse = tiny_run["workdir"] / "warehouse.duckdb"
    counts = export_raw_parquet(warehouse, spark_dir / "raw")
    assert counts["raw_acquisition.E_MP_DAY_READ"] > 0
    elapsed = _spark_build(tiny_run, spark_dir)
    print(f"\ndbt build on Spark (local[2], tiny): {elapsed:.1f} s")
    return {"dir": spark_dir, "warehouse": warehouse, "build_seconds": elapsed, "run": tiny_run}


def test_every_mart_is_identical_on_spark(spark_marts):
    marts_dir = spark_marts["dir"] / "warehouse" / "marts.db"
    con = duckdb.connect()
    con.execute(f"attach '{spark_marts['warehouse']}' as duck (read_only)")
    duck_marts = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = 'duck' and table_schema = 'marts'"
        ).fetchall()
    }
    spark_marts_built = {p.name for p in marts_dir.iterdir() if p.is_dir()}
    assert duck_marts - set(SPARK_EXCLUDED) == spark_marts_built, (
        "a mart is neither compared nor listed in SPARK_EXCLUDED with its reason"
    )
    differences = {}
    for name in sorted(spark_marts_built):
        spark_rel = f"read_parquet('{marts_dir / name}/*.parquet')"
        problems = compare_tables(con, f"duck.marts.{name}", spark_rel)
        if problems:
            differences[name] = problems
    assert not differences, "\n".join(
        f"marts.{name}:\n  " + "\n  ".join(problems) for name, problems in differences.items()
    )


def test_compare_tables_sees_a_changed_row():
    """The comparison above can fail: one changed value, one float beyond the tolerance,
    one missing row and one changed type are each reported; a float within it is not."""
    con = duckdb.connect()
    con.execute(
        "create table a as select * from (values (1, 'x', 0.5::double), (2, 'y', 1.0::double))"
        " t(k, s, f)"
    )
    con.execute("create table same as select k, s, f + 1e-12 as f from a")
    con.execute("create table changed as select k, if(k = 2, 'z', s) as s, f from a")
    con.execute("create table drifted as select k, s, f + if(k = 1, 1e-8, 0) as f from a")
    con.execute("create table shorter as select * from a where k = 1")
    con.execute("create table retyped as select k, s, cast(f as decimal(18, 4)) as f from a")
    assert compare_tables(con, "a", "same") == []
    for other in ("changed", "drifted", "shorter", "retyped"):
        assert compare_tables(con, "a", other), other


def test_an_incremental_run_on_spark_stops_with_the_reason(spark_marts):
    """On Spark the project builds in full only (Parquet cannot delete a run's days): a run
    without --full-refresh over the built tables fails with the reason instead of appending
    the window's days a second time (macros/spark/incremental_strategy.sql)."""
    done = _spark_dbt(spark_marts["run"], spark_marts["dir"], "run", "--select", "area_daily_loss")
    assert done.returncode != 0
    assert "on Spark this project builds in full only" in done.stdout, done.stdout[-4000:]
    # and the table is as the full build left it
    con = duckdb.connect()
    con.execute(f"attach '{spark_marts['warehouse']}' as duck (read_only)")
    spark_rows = con.execute(
        f"select count(*) from read_parquet('{spark_marts['dir']}/warehouse/marts.db/"
        "area_daily_loss/*.parquet')"
    ).fetchone()
    assert spark_rows == con.execute("select count(*) from duck.marts.area_daily_loss").fetchone()
