"""`gridaudit ui --watch` as an operator runs it: with the UI up, a day's landing files
dropped into the landing directory start that day's run within a minute (landing_sensor,
run by the daemon), the run publishes, and the report of the run is reachable over HTTP
from the link on the publish asset's page (the reports server `gridaudit ui` starts)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zoneinfo
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter
from ui_helpers import free_port, stop_process_group

BIN = Path(sys.executable).parent
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _wait(what: str, seconds: float, probe, ui: subprocess.Popen, log: Path):
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        assert ui.poll() is None, f"gridaudit ui exited:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, (
            f"{what}: not within {seconds} s\n" + (log.read_text()[-3000:])
        )
        time.sleep(2)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:
        return False


def _graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    assert not answer.get("errors"), answer["errors"]
    return answer["data"]


def _newest_published_day(published: Path):
    if not published.exists():
        return None
    with duckdb.connect(str(published), read_only=True) as con:
        return con.execute("select max(data_date) from marts.area_daily_loss").fetchone()[0]


def test_dropped_files_run_their_day_and_publish(tmp_path):
    from dagster_project.generator import generate

    # three export days ending yesterday (the sensor watches the days before today)
    yesterday = dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=1)
    first = yesterday - dt.timedelta(days=2)
    generated = tmp_path / "generated"
    generate("tiny", generated, seed=11, start=first, days=3)
    landing, workdir, dagster_home = tmp_path / "landing", tmp_path / "work", tmp_path / "home"
    shutil.copytree(generated / "landing", landing)
    held_back = sorted(landing.glob(f"*/*/{yesterday}.csv*")) + sorted(
        landing.glob(f"feedback/{yesterday}")
    )
    assert held_back, "the generator wrote no file of the last day"
    for path in held_back:  # the last day has not landed yet
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    port, reports_port = free_port(), free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "GRIDAUDIT_REPORTS_URL": f"http://127.0.0.1:{reports_port}",
        "GRIDAUDIT_LANDING_LOOKBACK_DAYS": "1",  # watch yesterday only: history is loaded
        "GRIDAUDIT_LANDING_SETTLE_SECONDS": "5",
    }
    history = subprocess.run(
        [str(BIN / "gridaudit"), "run", "--landing", str(landing), "--workdir", str(workdir),
         "--start", str(first), "--end", str(yesterday - dt.timedelta(days=1))],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert history.returncode == 0, history.stdout[-2000:] + history.stderr[-3000:]
    published = workdir / "published" / "gridaudit.duckdb"
    assert _newest_published_day(published) == yesterday - dt.timedelta(days=1)
    # the last line of the run says how to open the marts; that command works, elsewhere too
    (opener,) = [x for x in history.stdout.splitlines() if x.startswith("  open the marts: ")]
    opened = subprocess.run(
        opener.split(": ", 1)[1], shell=True, cwd=tmp_path, capture_output=True, text=True
    )
    assert opened.returncode == 0, opened.stderr
    assert "problem_code" in opened.stdout and "suggested_action" in opened.stdout

    log = tmp_path / "ui.log"
    with open(log, "w") as out:
        ui = subprocess.Popen(
            [str(BIN / "gridaudit"), "ui", "--watch", "--landing", str(landing),
             "--workdir", str(workdir), "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait("the UI", 180, lambda: _answers(f"http://127.0.0.1:{port}/server_info"), ui, log)
        instance = dg.DagsterInstance.from_config(str(dagster_home))
        # the daemon ticks the sensor: nothing new yet
        _wait(
            "a first tick of landing_sensor",
            120,
            lambda: any(
                state.instigator_name == "landing_sensor"
                and instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
                for state in instance.all_instigator_state()
            ),
            ui,
            log,
        )
        assert not instance.get_runs(RunsFilter(tags={"dagster/partition": str(yesterday)}))

        for path in held_back:  # the export job delivers the last day
            source = generated / "landing" / path.relative_to(landing)
            shutil.copytree(source, path) if source.is_dir() else shutil.copy(source, path)
        dropped = time.time()

        def the_days_run():
            runs = instance.get_runs(RunsFilter(tags={"dagster/partition": str(yesterday)}))
            return runs[0] if runs else None

        run = _wait("the run of the dropped day", 90, the_days_run, ui, log)
        record = instance.get_run_record_by_id(run.run_id)
        started_after = record.create_timestamp.timestamp() - dropped
        assert started_after <= 60, f"the run started {started_after:.0f} s after the drop"
        assert run.tags["gridaudit/landing"] == "complete"

        def finished():
            status = instance.get_run_by_id(run.run_id).status
            return (
                status if status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE) else None
            )

        assert _wait("the run's end", 600, finished, ui, log) == DagsterRunStatus.SUCCESS
        assert _newest_published_day(published) == yesterday

        # the publish asset's report link answers, with the run's report
        materialization = instance.get_latest_materialization_event(
            dg.AssetKey(["published", "gridaudit_duckdb"])
        ).asset_materialization
        url = materialization.metadata["report_url"].value
        assert url.startswith(f"http://127.0.0.1:{reports_port}/")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            page = response.read().decode("utf-8")
        assert "线损" in page and str(yesterday) in page
        print(f"run started {started_after:.1f} s after the files were dropped")

        # a backfill of the two history days, launched as the UI's "Materialize all" →
        # partitions dialog does: one run for both days (single-run backfill policy)
        graphql = f"http://127.0.0.1:{port}/graphql"
        nodes = _graphql(graphql, "{ assetNodes { assetKey { path } jobNames isPartitioned } }")
        selection = [
            {"path": node["assetKey"]["path"]}
            for node in nodes["assetNodes"]
            if "daily_pipeline" in node["jobNames"] and node["isPartitioned"]
        ]
        days = [str(first), str(first + dt.timedelta(days=1))]
        launched = _graphql(
            graphql,
            "mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p)"
            " { __typename ... on LaunchBackfillSuccess { backfillId }"
            " ... on PythonError { message } } }",
            {"p": {"assetSelection": selection, "partitionNames": days}},
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_tag = {"dagster/backfill": launched["backfillId"]}

        def backfill_ended():
            runs = instance.get_runs(RunsFilter(tags=backfill_tag))
            done = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)
            return runs if runs and all(r.status in done for r in runs) else None

        (backfill_run,) = _wait("the backfill's run", 600, backfill_ended, ui, log)
        assert backfill_run.status == DagsterRunStatus.SUCCESS
        assert [
            backfill_run.tags["dagster/asset_partition_range_start"],
            backfill_run.tags["dagster/asset_partition_range_end"],
        ] == days
        assert _newest_published_day(published) == yesterday  # later days kept
    finally:
        stop_process_group(ui)
