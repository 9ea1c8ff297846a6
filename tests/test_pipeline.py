"""The whole graph on the `tiny` preset: truth, idempotence, and a gate that really blocks."""

import dataclasses
import datetime as dt
import hashlib
import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagster_project.cli import run_pipeline

PUBLISHED = "published/gridaudit.duckdb"


def published_table(workdir, table):
    with duckdb.connect(str(workdir / PUBLISHED), read_only=True) as con:
        return con.execute(f"SELECT * FROM marts.{table}").df()


def test_area_daily_loss_equals_the_generator_truth(tiny_run):
    got = published_table(tiny_run["workdir"], "area_daily_loss")
    truth = pd.read_csv(tiny_run["truth"] / "area_daily_loss.csv", dtype={"tg_id": str})
    got["data_date"] = pd.to_datetime(got["data_date"]).dt.date.astype(str)
    truth["data_date"] = truth["data_date"].astype(str)
    merged = truth.merge(
        got, on=["tg_id", "data_date"], how="outer", suffixes=("_truth", "_got"), indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head(10)
    status_diff = merged[merged["loss_status_truth"] != merged["loss_status_got"]]
    assert status_diff.empty, status_diff[
        ["tg_id", "data_date", "loss_status_truth", "loss_status_got"]
    ].head(10)
    computable = merged[merged["loss_status_truth"] != "uncomputable"]
    assert len(computable) > 0
    rate_diff = (computable["loss_rate_truth"] - computable["loss_rate_got"]).abs()
    assert rate_diff.max() <= 1e-9, computable.loc[rate_diff.idxmax()]
    for column in ("meter_count", "meter_read_count"):
        assert (merged[f"{column}_truth"] == merged[f"{column}_got"]).all(), column
    statuses = set(merged["loss_status_truth"])
    assert {"qualified", "high", "negative", "uncomputable"} <= statuses


def published_differences(before, after) -> dict[str, str]:
    """What differs between the marts of two published files, compared exactly in DuckDB
    (no float tolerance): the tables, each table's column names and types, and its rows as
    a multiset (EXCEPT ALL both ways: a double differing in its last bit is a difference)."""
    differences = {}
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{before}' AS before (READ_ONLY)")
        con.execute(f"ATTACH '{after}' AS after (READ_ONLY)")
        columns = {"before": {}, "after": {}}
        for db, table, column, data_type in con.execute(
            "SELECT database_name, table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name IN ('before', 'after') AND schema_name = 'marts' "
            "ORDER BY database_name, table_name, column_index"
        ).fetchall():
            columns[db].setdefault(table, []).append((column, data_type))
        if columns["before"].keys() != columns["after"].keys():
            differences["tables"] = f"{sorted(columns['before'])} != {sorted(columns['after'])}"
        for table in sorted(columns["before"].keys() & columns["after"].keys()):
            if columns["before"][table] != columns["after"][table]:
                differences[table] = (
                    f"columns {columns['before'][table]} != {columns['after'][table]}"
                )
                continue
            only = {
                side: con.execute(
                    f"SELECT * FROM {one}.marts.{table}"
                    f" EXCEPT ALL SELECT * FROM {other}.marts.{table}"
                ).fetchall()
                for side, one, other in (
                    ("before", "before", "after"),
                    ("after", "after", "before"),
                )
            }
            if only["before"] or only["after"]:
                differences[table] = (
                    f"{len(only['before'])} rows only before, {len(only['after'])} only after; "
                    f"e.g. before {only['before'][:2]} after {only['after'][:2]}"
                )
    return differences


def test_rerunning_a_day_gives_identical_published_tables(tiny_run, tmp_path):
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    day = tiny_run["end"] - dt.timedelta(days=3)
    assert run_pipeline(
        day, day, tiny_run["landing"], workdir, instance=dg.DagsterInstance.ephemeral()
    )
    assert published_differences(tiny_run["workdir"] / PUBLISHED, workdir / PUBLISHED) == {}


# Large enough that DuckDB aggregates a day's meters in parallel (more than one row group
# of 122,880 rows in the energy tables; 2 threads on a 2-core machine), short enough for
# CI: about 2 minutes on 2 cores. With DOUBLE energies, 6 to 7 of the 1,500 area-days of
# area_daily_loss and 35 unit_kpis rows differed in their last digits after a re-run.
PARALLEL_SIZED = {"n_customers": 30_000, "n_areas": 300}
PARALLEL_SIZED_DAYS = 6


def test_rerunning_the_last_day_of_a_parallel_sized_tree_gives_identical_published_tables(
    tmp_path, monkeypatch
):
    from dagster_project.generator import PRESETS, generate

    monkeypatch.setitem(
        PRESETS, "parallel", dataclasses.replace(PRESETS["tiny"], name="parallel", **PARALLEL_SIZED)
    )
    generate("parallel", tmp_path, seed=7, days=PARALLEL_SIZED_DAYS)
    landing = tmp_path / "landing"
    days = sorted({p.name.split(".")[0] for p in landing.glob("*/*/*.csv*")})
    start, end = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    first, rerun = tmp_path / "work", tmp_path / "rerun"
    assert run_pipeline(start, end, landing, first, instance=dg.DagsterInstance.ephemeral())
    shutil.copytree(first, rerun)
    assert run_pipeline(end, end, landing, rerun, instance=dg.DagsterInstance.ephemeral())
    assert published_differences(first / PUBLISHED, rerun / PUBLISHED) == {}
    with duckdb.connect(str(rerun / PUBLISHED), read_only=True) as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'marts' "
                "AND table_name = 'area_daily_loss'"
            ).fetchall()
        )
    assert {types[c] for c in ("supply_kwh", "sales_kwh", "loss_kwh")} == {"DECIMAL(18,4)"}


def test_truncated_acquisition_export_fails_the_gate_and_keeps_the_published_file(
    tiny_run, landing_copy, tmp_path, capsys
):
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    published = workdir / PUBLISHED
    digest_before = hashlib.sha256(published.read_bytes()).hexdigest()

    day = tiny_run["end"]
    [reads] = list((landing_copy / "acquisition" / "E_MP_DAY_READ").glob(f"{day}.csv*"))
    frame = pd.read_csv(reads, dtype=str, keep_default_na=False)
    reads.unlink()
    frame.head(len(frame) // 10).to_csv(
        reads.with_name(f"{day}.csv"), index=False
    )  # a truncated export: 10 % of the rows

    ok = run_pipeline(day, day, landing_copy, workdir, instance=dg.DagsterInstance.ephemeral())
    assert not ok
    message = capsys.readouterr().err
    assert "raw_acquisition.E_MP_DAY_READ: read_count_vs_previous_day failed" in message, message
    assert hashlib.sha256(published.read_bytes()).hexdigest() == digest_before


@pytest.mark.parametrize("bad", ["missing column"])
def test_unreadable_file_fails_its_step_naming_the_file(
    tiny_run, landing_copy, tmp_path, capsys, bad
):
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    day = tiny_run["end"]
    [cons] = list((landing_copy / "acquisition" / "E_MP_DAY_READ").glob(f"{day}.csv*"))
    cons.unlink()
    cons.with_name(f"{day}.csv").write_text("DATA_ID,DATA_DATE\nX,2026-09-01\n")
    assert not run_pipeline(
        day, day, landing_copy, workdir, instance=dg.DagsterInstance.ephemeral()
    )
    err = capsys.readouterr().err
    assert f"acquisition/E_MP_DAY_READ/{day}.csv" in err and "missing" in err, err
