"""Operations that run themselves (issue 12 item 1): the landing sensor on the tiny landing
tree, the per-system freshness checks evaluated on an instance, the run-failure alert with a
local command on a failing in-process run."""

import datetime as dt
import json
import os
import stat

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from dagster_project.defs.operations import alerts, landing
from dagster_project.defs.resources import GridauditPaths

SHANGHAI = landing.SHANGHAI


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def set_mtime(path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


@pytest.fixture
def tree(landing_copy, monkeypatch):
    """The tiny landing tree (2026-09-01 .. 14) as it stood at 2026-09-06 07:00: days up to
    09-04 delivered by 01:00 of the next day, 09-05 without its A_PAY_FLOW yet."""
    for path in landing_copy.rglob("*"):
        if path.is_file():
            day = next(
                (p for p in (path.stem.split(".")[0], path.parent.name) if p[:2] == "20"), None
            )
            set_mtime(path, at(f"{day}T00:00") + dt.timedelta(days=1, hours=1))
    (landing_copy / "collection" / "A_PAY_FLOW" / "2026-09-05.csv").rename(
        landing_copy.parent / "A_PAY_FLOW_late.csv"
    )
    monkeypatch.setenv("GRIDAUDIT_LANDING", str(landing_copy))
    monkeypatch.setenv("GRIDAUDIT_LANDING_LOOKBACK_DAYS", "3")
    monkeypatch.setenv("GRIDAUDIT_LANDING_DEADLINE_HOUR", "8")
    return landing_copy


def tick(tree, monkeypatch, now: str, cursor: str | None):
    monkeypatch.setattr(landing, "now_in_shanghai", lambda: at(now))
    context = dg.build_sensor_context(cursor=cursor)
    result = landing.landing_sensor(context)
    return result, result.cursor


def test_landing_sensor_runs_complete_days_once_and_waits_for_the_deadline(tree, monkeypatch):
    # 07:00 on 09-06: 09-03 and 09-04 are complete, 09-05 lacks A_PAY_FLOW (deadline 08:00)
    result, cursor = tick(tree, monkeypatch, "2026-09-06T07:00", None)
    requests = {r.partition_key: r for r in result.run_requests}
    assert sorted(requests) == ["2026-09-03", "2026-09-04"]
    for day, request in requests.items():
        fingerprint = request.tags[landing.TAG_FINGERPRINT]
        assert request.run_key == f"{day}:{fingerprint}"
        assert request.tags[landing.TAG_LANDING] == "complete"
        assert request.tags[landing.TAG_MISSING] == "none"
    assert requests["2026-09-03"].run_key != requests["2026-09-04"].run_key

    # the same files: nothing more, and the sensor says what it waits for
    result, cursor = tick(tree, monkeypatch, "2026-09-06T07:30", cursor)
    assert result.run_requests == []
    assert "2026-09-05: waiting for A_PAY_FLOW until 2026-09-06 08:00" in (
        result.skip_reason.skip_message
    )

    # past the deadline hour: 09-05 runs with what arrived, tagged with the missing table
    result, cursor = tick(tree, monkeypatch, "2026-09-06T08:01", cursor)
    [late_day] = result.run_requests
    assert late_day.partition_key == "2026-09-05"
    assert late_day.tags[landing.TAG_LANDING] == "incomplete"
    assert late_day.tags[landing.TAG_MISSING] == "A_PAY_FLOW"
    assert late_day.run_key == f"2026-09-05:{late_day.tags[landing.TAG_FINGERPRINT]}"
    result, cursor = tick(tree, monkeypatch, "2026-09-06T08:02", cursor)
    assert result.run_requests == []

    # a replaced snapshot of an earlier day (09-04, a snapshot day of tiny): that day re-runs
    g_tg = tree / "marketing" / "G_TG" / "2026-09-04.csv"
    g_tg.write_bytes(g_tg.read_bytes())
    set_mtime(g_tg, at("2026-09-06T08:03"))
    result, cursor = tick(tree, monkeypatch, "2026-09-06T08:03:30", cursor)
    assert result.run_requests == []  # still being written (GRIDAUDIT_LANDING_SETTLE_SECONDS)
    assert "2026-09-04: a file changed less than 60 s ago" in result.skip_reason.skip_message
    result, cursor = tick(tree, monkeypatch, "2026-09-06T08:05", cursor)
    [rerun] = result.run_requests
    assert rerun.partition_key == "2026-09-04"
    assert rerun.run_key != requests["2026-09-04"].run_key
    assert landing.TAG_RERUN in rerun.tags

    # the late A_PAY_FLOW of 09-05 lands: 09-05 re-runs, now complete
    late = tree / "collection" / "A_PAY_FLOW" / "2026-09-05.csv"
    (tree.parent / "A_PAY_FLOW_late.csv").rename(late)
    set_mtime(late, at("2026-09-06T09:00"))
    result, cursor = tick(tree, monkeypatch, "2026-09-06T09:05", cursor)
    [complete] = result.run_requests
    assert complete.partition_key == "2026-09-05"
    assert complete.tags[landing.TAG_LANDING] == "complete"
    assert complete.run_key != late_day.run_key
    # the cursor holds the watched window only
    assert sorted(json.loads(cursor)["requested"]) == ["2026-09-03", "2026-09-04", "2026-09-05"]


def test_landing_sensor_requests_are_runs_of_the_daily_pipeline(tree, monkeypatch):
    from dagster_project.definitions import defs

    monkeypatch.setattr(landing, "now_in_shanghai", lambda: at("2026-09-06T07:00"))
    context = dg.build_sensor_context(definitions=defs)
    result = defs.get_sensor_def("landing_sensor")(context)
    assert {r.partition_key for r in result.run_requests} == {"2026-09-03", "2026-09-04"}
    assert defs.get_sensor_def("landing_sensor").job_name == "daily_pipeline"
    assert defs.get_sensor_def("landing_sensor").minimum_interval_seconds == 30


def evaluate_freshness(instance, now: dt.datetime) -> dict[str, bool]:
    job_defs = dg.Definitions(
        assets=landing.landing_assets,
        asset_checks=landing.freshness_checks,
        jobs=[
            dg.define_asset_job(
                "freshness", selection=dg.AssetSelection.checks(*landing.freshness_checks)
            )
        ],
    )
    with freeze_time(now):
        result = job_defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    return {e.asset_key.path[1]: e.passed for e in result.get_asset_check_evaluations()}


def test_freshness_per_source_system(tree, monkeypatch):
    from dagster_project.definitions import defs

    checked = {
        k.asset_key.path[1]
        for k in defs.get_repository_def().asset_graph.asset_check_keys
        if k.name == "freshness_check"
    }
    assert checked == {"marketing", "collection", "pms", "acquisition"}

    # the acquisition system stops after 09-03; the others deliver up to 09-05
    for path in (tree / "acquisition").rglob("2026-09-0[45].csv*"):
        path.unlink()
    instance = dg.DagsterInstance.ephemeral()
    result, cursor = tick(tree, monkeypatch, "2026-09-06T09:00", None)
    observed = {}
    for event in result.asset_events:
        observed.setdefault(event.asset_key.path[1], []).append(event.partition)
        instance.report_runless_asset_event(event)
    # partition P is observed once the system's files reached P; each system's partitions
    # end freshness_days - 1 days before yesterday (09-05); a first look observes the
    # watched days' worth (GRIDAUDIT_LANDING_LOOKBACK_DAYS=3) of partitions before that
    assert observed["acquisition"] == ["2026-08-31", "2026-09-01", "2026-09-02", "2026-09-03"]
    assert observed["collection"] == ["2026-09-01", "2026-09-02", "2026-09-03", "2026-09-04"]
    assert observed["marketing"] == ["2026-08-26", "2026-08-27", "2026-08-28", "2026-08-29"]

    # 09-06 09:00, past the deadline hour: 2-day systems must have reached 09-04,
    # 8-day systems 08-29 (marketing and pms last delivered the snapshot of 09-04)
    evaluation = evaluate_freshness(instance, at("2026-09-06T09:00"))
    assert evaluation == {
        "acquisition": False,  # no new day since 09-03
        "collection": True,
        "marketing": True,
        "pms": True,
    }
    # before the deadline hour the day before counts: acquisition reached 09-03 in time
    evaluation = evaluate_freshness(instance, at("2026-09-06T07:00"))
    assert evaluation["acquisition"] is True and evaluation["collection"] is True

    # the next tick observes only what is new: the acquisition files of 09-04 land
    late = tree / "acquisition" / "E_MP_DAY_READ" / "2026-09-04.csv"
    late.write_text("DATA_ID,DATA_DATE,COL_TIME,PAP_R\n", encoding="utf-8")
    set_mtime(late, at("2026-09-06T09:10"))
    result, _ = tick(tree, monkeypatch, "2026-09-06T09:15", cursor)
    assert [(e.asset_key.path[1], e.partition) for e in result.asset_events] == [
        ("acquisition", "2026-09-04")
    ]
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    assert evaluate_freshness(instance, at("2026-09-06T09:20"))["acquisition"] is True


def failing_run():
    """A real failed run of a one-asset job, and the run-failure sensor's context of it."""
    instance = dg.DagsterInstance.ephemeral()

    @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2026-09-01"))
    def raw_broken():
        raise dg.Failure(
            description="landing/marketing/C_CONS/2026-09-05.csv: 文件无法读取\nsecond line"
        )

    result = dg.materialize(
        [raw_broken], instance=instance, partition_key="2026-09-05", raise_on_error=False
    )
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    [failure] = [
        r.event_log_entry.dagster_event
        for r in instance.get_records_for_run(
            run_id=run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records
    ]
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=run,
    ).for_run_failure()
    return run, context


def test_run_failure_alert_calls_the_command(tmp_path, monkeypatch):
    out = tmp_path / "alert.txt"
    script = tmp_path / "alert.sh"
    script.write_text(
        f'#!/bin/sh\n{{ env | grep ^GRIDAUDIT_ALERT_ | sort; echo "--- stdin"; cat; }} > "{out}"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("GRIDAUDIT_ALERT_COMMAND", str(script))
    monkeypatch.delenv("GRIDAUDIT_ALERT_WEBHOOK", raising=False)
    run, context = failing_run()
    alerts.run_failure_alert(context)
    text = out.read_text()
    assert f"GRIDAUDIT_ALERT_RUN_ID={run.run_id}" in text
    assert f"GRIDAUDIT_ALERT_JOB={run.job_name}" in text
    assert "GRIDAUDIT_ALERT_PARTITION=2026-09-05" in text
    assert "GRIDAUDIT_ALERT_STEP=raw_broken" in text
    assert "GRIDAUDIT_ALERT_ERROR=landing/marketing/C_CONS/2026-09-05.csv: 文件无法读取\n" in text
    stdin = text.split("--- stdin\n")[1]
    assert stdin.startswith("gridaudit 运行失败")
    assert "失败步骤 failed step: raw_broken" in stdin and "second line" not in stdin

    # a command that fails fails the tick (the sensor tries the run again next tick)
    monkeypatch.setenv("GRIDAUDIT_ALERT_COMMAND", "echo no mail server >&2; exit 3")
    with pytest.raises(Exception, match="exited 3: no mail server"):
        alerts.run_failure_alert(context)


def test_run_failure_alert_posts_wecom_json_to_the_webhook(tmp_path, monkeypatch):
    """The webhook gets 企业微信 robot JSON; a refusal (errcode != 0) fails the tick."""
    import http.server
    import threading

    received, answers = (
        [],
        [b'{"errcode":0,"errmsg":"ok"}', b'{"errcode":93000,"errmsg":"bad key"}'],
    )

    class Robot(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], json.loads(body)))
            answer = answers.pop(0)
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test"
        monkeypatch.setenv("GRIDAUDIT_ALERT_WEBHOOK", url)
        monkeypatch.delenv("GRIDAUDIT_ALERT_COMMAND", raising=False)
        run, context = failing_run()
        alerts.run_failure_alert(context)
        [(path, content_type, body)] = received
        assert path == "/cgi-bin/webhook/send?key=test"
        assert content_type.startswith("application/json")
        assert body["msgtype"] == "text"
        content = body["text"]["content"]
        assert content.startswith("gridaudit 运行失败")
        assert run.run_id in content and "raw_broken" in content
        assert "错误 error: landing/marketing/C_CONS/2026-09-05.csv: 文件无法读取" in content
        with pytest.raises(RuntimeError, match="refused the alert"):
            alerts.run_failure_alert(context)
    finally:
        server.shutdown()
        server.server_close()


def test_extract_retries_a_warehouse_locked_by_another_process(tree, tmp_path):
    """A transient failure (another process holds the warehouse's write lock) is retried
    with back-off; the step succeeds once the lock is gone."""
    import subprocess
    import sys

    from dagster_project.defs.extract.assets import extract_assets

    o_org = next(a for a in extract_assets if a.key == dg.AssetKey(["raw_marketing", "O_ORG"]))
    policy = o_org.op.retry_policy
    assert policy.max_retries == 2 and policy.backoff == dg.Backoff.EXPONENTIAL

    workdir = tmp_path / "work"
    workdir.mkdir()
    warehouse = workdir / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(warehouse)!r})\n"
            "print('holding', flush=True)\n"
            "time.sleep(4)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize(
            [o_org],
            partition_key="2026-09-01",
            instance=instance,
            resources={
                "gridaudit_paths": GridauditPaths(landing_dir=str(tree), workdir=str(workdir))
            },
        )
    finally:
        holder.wait(timeout=30)
    assert result.success
    restarts = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_RESTARTED]
    assert len(restarts) >= 1
    [up_for_retry, *_] = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "STEP_UP_FOR_RETRY"
    ]
    assert up_for_retry.seconds_to_wait == 10  # the first back-off
    assert "IOException" in up_for_retry.error.to_string()
    assert "lock" in up_for_retry.error.to_string().lower()


def test_freshness_sees_a_weekly_snapshot_older_than_the_watched_days(tree, monkeypatch):
    """With one watched day (09-05, no marketing file), marketing's snapshot of 09-04 still
    keeps it fresh: the observations look back over the freshness days."""
    monkeypatch.setenv("GRIDAUDIT_LANDING_LOOKBACK_DAYS", "1")
    result, _ = tick(tree, monkeypatch, "2026-09-06T09:00", None)
    assert {r.partition_key for r in result.run_requests} == {"2026-09-05"}
    instance = dg.DagsterInstance.ephemeral()
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    evaluation = evaluate_freshness(instance, at("2026-09-06T09:00"))
    assert evaluation == {"marketing": True, "pms": True, "collection": True, "acquisition": True}
    # eight days later without a new file, every system is stale
    assert set(evaluate_freshness(instance, at("2026-09-14T09:00")).values()) == {False}
