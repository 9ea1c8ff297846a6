"""The whole graph on the `tiny` preset: truth, idempotence, and a gate that really blocks."""

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
    merged = truth.merge(got, on=["tg_id", "data_date"], how="outer",
                         suffixes=("_truth", "_got"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head(10)
    status_diff = merged[merged["loss_status_truth"] != merged["loss_status_got"]]
    assert status_diff.empty, status_diff[["tg_id", "data_date", "loss_status_truth",
                                           "loss_status_got"]].head(10)
    computable = merged[merged["loss_status_truth"] != "uncomputable"]
    assert len(computable) > 0
    rate_diff = (computable["loss_rate_truth"] - computable["loss_rate_got"]).abs()
    assert rate_diff.max() <= 1e-9, computable.loc[rate_diff.idxmax()]
    for column in ("meter_count", "meter_read_count"):
        assert (merged[f"{column}_truth"] == merged[f"{column}_got"]).all(), column
    statuses = set(merged["loss_status_truth"])
    assert {"qualified", "high", "negative", "uncomputable"} <= statuses


def _digest(workdir):
    with duckdb.connect(str(workdir / PUBLISHED), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "ORDER BY 1").fetchall()]
        return {t: con.execute(f"SELECT * FROM marts.{t}").df().sort_values(
                    by=list(con.execute(f"SELECT * FROM marts.{t} LIMIT 0").df().columns)
                ).reset_index(drop=True) for t in tables}


def test_rerunning_a_day_gives_identical_published_tables(tiny_run, tmp_path):
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    before = _digest(workdir)
    day = tiny_run["end"] - dt.timedelta(days=3)
    assert run_pipeline(day, day, tiny_run["landing"], workdir,
                        instance=dg.DagsterInstance.ephemeral())
    after = _digest(workdir)
    assert before.keys() == after.keys()
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table], obj=table)


def test_truncated_acquisition_export_fails_the_gate_and_keeps_the_published_file(
        tiny_run, landing_copy, tmp_path, capsys):
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    published = workdir / PUBLISHED
    digest_before = hashlib.sha256(published.read_bytes()).hexdigest()

    day = tiny_run["end"]
    [reads] = list((landing_copy / "acquisition" / "E_MP_DAY_READ").glob(f"{day}.csv*"))
    frame = pd.read_csv(reads, dtype=str, keep_default_na=False)
    reads.unlink()
    frame.head(len(frame) // 10).to_csv(
        reads.with_name(f"{day}.csv"), index=False)  # a truncated export: 10 % of the rows

    ok = run_pipeline(day, day, landing_copy, workdir, instance=dg.DagsterInstance.ephemeral())
    assert not ok
    message = capsys.readouterr().err
    assert "raw_acquisition.E_MP_DAY_READ: read_count_vs_previous_day failed" in message, message
    assert hashlib.sha256(published.read_bytes()).hexdigest() == digest_before


@pytest.mark.parametrize("bad", ["missing column"])
def test_unreadable_file_fails_its_step_naming_the_file(tiny_run, landing_copy, tmp_path,
                                                        capsys, bad):
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    day = tiny_run["end"]
    [cons] = list((landing_copy / "acquisition" / "E_MP_DAY_READ").glob(f"{day}.csv*"))
    cons.unlink()
    cons.with_name(f"{day}.csv").write_text("DATA_ID,DATA_DATE\nX,2026-09-01\n")
    assert not run_pipeline(day, day, landing_copy, workdir,
                            instance=dg.DagsterInstance.ephemeral())
    err = capsys.readouterr().err
    assert f"acquisition/E_MP_DAY_READ/{day}.csv" in err and "missing" in err, err
