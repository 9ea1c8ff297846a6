"""One run at a time per work directory (lib/workdir_lock.py): the lock of the CLI and of
Dagster runs, and the run queue of the Dagster instance."""

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.defs.resources import GridauditPaths
from dagster_project.lib import publish as pub
from dagster_project.lib import workdir_lock
from dagster_project.lib.settings import REPO_ROOT
from dagster_project.lib.workdir_lock import RUN_QUEUE_TAG, WorkdirBusy

DAYS = "2026-09-01 .. 2026-09-14"
COMMAND = "gridaudit run --start 2026-09-01 --end 2026-09-14"
# Holds a work directory until a line arrives on stdin (or it is killed).
HOLDER = textwrap.dedent("""
    import sys
    from dagster_project.lib import workdir_lock
    with workdir_lock.hold(sys.argv[1], sys.argv[2], days=sys.argv[3]):
        print("held", flush=True)
        sys.stdin.readline()
""")


def env_for_subprocess(**extra) -> dict:
    # the venv's bin first: the CLI runs dbt from PATH
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PATH": path, **extra}


def start_holder(workdir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(workdir), COMMAND, DAYS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env_for_subprocess(),
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def release(proc: subprocess.Popen) -> None:
    proc.communicate("done\n", timeout=30)
    assert proc.returncode == 0


# ------------------------------------------------------------------ the lock


def test_busy_work_directory_names_its_holder_and_a_killed_holder_leaves_no_lock(tmp_path):
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(WorkdirBusy) as busy, workdir_lock.hold(tmp_path, "gridaudit run"):
            pytest.fail("entered a work directory another process holds")
        assert busy.value.holder.pid == holder.pid
        assert (busy.value.holder.command, busy.value.holder.days) == (COMMAND, DAYS)
        assert f"is busy: PID {holder.pid} on " in str(busy.value)
        assert f": {COMMAND} (days {DAYS})" in str(busy.value)
    finally:
        holder.kill()  # SIGKILL: no cleanup code runs
        holder.wait(timeout=30)
    with workdir_lock.hold(tmp_path, "gridaudit run") as mine:  # the kernel released it
        assert mine.pid == os.getpid()
        assert workdir_lock.read_holder(tmp_path) == mine
    assert workdir_lock.read_holder(tmp_path, attempts=1) is None  # emptied on release


def test_lock_is_reentrant_within_a_process(tmp_path):
    probe = textwrap.dedent("""
        import sys
        from dagster_project.lib import workdir_lock
        try:
            with workdir_lock.hold(sys.argv[1], "probe"):
                print("free")
        except workdir_lock.WorkdirBusy as busy:
            print("busy", busy.holder.pid, busy.holder.run_id)
    """)

    def other_process_sees() -> str:
        return subprocess.run(
            [sys.executable, "-c", probe, str(tmp_path)],
            check=True,
            capture_output=True,
            text=True,
            env=env_for_subprocess(),
        ).stdout.strip()

    with workdir_lock.hold(tmp_path, COMMAND, days=DAYS) as outer:
        # what an in-process Dagster run's GridauditPaths resource does
        with workdir_lock.hold(tmp_path, "Dagster run of daily_pipeline", run_id="run-1") as inner:
            assert inner.pid == outer.pid and inner.command == COMMAND
            assert workdir_lock.read_holder(tmp_path).run_id == "run-1"
            assert other_process_sees() == f"busy {os.getpid()} run-1"
        assert workdir_lock.read_holder(tmp_path) == outer
        assert other_process_sees() == f"busy {os.getpid()} None"
    assert other_process_sees() == "free"


def test_wait_blocks_until_the_holder_is_done(tmp_path):
    holder = start_holder(tmp_path)
    told, entered = [], threading.Event()

    def second():
        with workdir_lock.hold(tmp_path, "gridaudit run", wait=True, on_wait=told.append):
            entered.set()

    thread = threading.Thread(target=second)
    try:
        thread.start()
        assert not entered.wait(2.0)  # still waiting
        assert [h.pid for h in told] == [holder.pid]
        release(holder)
        assert entered.wait(10.0)
    finally:
        holder.kill()
        thread.join(timeout=30)

    holder = start_holder(tmp_path)
    try:
        with (
            pytest.raises(WorkdirBusy),
            workdir_lock.hold(  # and a timeout gives up
                tmp_path, "gridaudit run", wait=True, timeout=1.0
            ),
        ):
            pass
    finally:
        release(holder)


# ------------------------------------------------------------------ the command line


def cli(*args: str, workdir: Path) -> list[str]:
    return [sys.executable, "-m", "dagster_project.cli", *args, "--workdir", str(workdir)]


def test_rollback_on_a_busy_work_directory_is_refused_or_waits(tmp_path):
    from tests.test_publish import generation_of, make_warehouse, sha

    workdir = tmp_path / "work"
    published = workdir / "published" / "gridaudit.duckdb"
    workdir.mkdir()
    for generation in (1, 2):
        make_warehouse(workdir / "warehouse.duckdb", generation)
        pub.publish(workdir / "warehouse.duckdb", published)
    before = sha(published)
    env = env_for_subprocess(DAGSTER_HOME=str(tmp_path / "dagster_home"))
    holder = start_holder(workdir)
    try:
        refused = subprocess.run(
            cli("rollback", workdir=workdir),
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert refused.returncode != 0
        assert f"the work directory {workdir} is busy: PID {holder.pid} on " in refused.stderr
        assert f"{COMMAND} (days {DAYS})" in refused.stderr
        assert "this one changed nothing" in refused.stderr and "--wait" in refused.stderr
        assert sha(published) == before

        waiting = subprocess.Popen(
            cli("rollback", "--wait", workdir=workdir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        try:
            lines = []
            while not any("gridaudit: waiting for the work directory" in x for x in lines):
                line = waiting.stdout.readline()
                assert line, "".join(lines)
                lines.append(line)
            assert f"held by PID {holder.pid} on " in lines[-1]
            time.sleep(1.0)
            assert waiting.poll() is None and sha(published) == before  # it waits
            release(holder)
            out = "".join(lines) + waiting.communicate(timeout=120)[0]
        finally:
            waiting.kill()
        assert waiting.returncode == 0, out
        assert "is free, going on" in out and "now holds" in out
        assert generation_of(published) == 1
    finally:
        holder.kill()
        holder.wait(timeout=30)


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root (the warehouse and its WAL, raw rows included, the published
    file and its versions, the Dagster instance, the lock file) by content."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_second_cli_run_on_a_busy_work_directory_is_refused_and_changes_nothing(tiny_run, tmp_path):
    """`gridaudit run` twice at once on one work directory: the second exits non-zero,
    naming the first (PID, days), and changes no file of the work directory; the first
    goes on and succeeds."""
    workdir = tmp_path / "work"
    shutil.copytree(tiny_run["workdir"], workdir)
    day = tiny_run["end"].isoformat()
    command = cli(
        "run", "--landing", str(tiny_run["landing"]), "--start", day, "--end", day, workdir=workdir
    )
    env = env_for_subprocess(DAGSTER_HOME=str(workdir / "dagster_home"))
    log = tmp_path / "first.log"
    with open(log, "w") as out:
        # its own process group: stopping it also stops dbt, which it runs as a child
        first = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 300
        while "gridaudit: running" not in log.read_text():  # holds the lock, runs the job
            assert first.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        holder = workdir_lock.read_holder(workdir)
        assert holder.pid == first.pid and holder.days == f"{day} .. {day}"
        time.sleep(3.0)  # into its extract / dbt
        os.killpg(first.pid, signal.SIGSTOP)  # frozen mid-run, still holding the lock
        time.sleep(0.5)
        before = tree_digest(workdir)
        time.sleep(1.0)
        assert tree_digest(workdir) == before, "the stopped run still writes"

        began = time.monotonic()
        second = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=300, check=False
        )
        refused_in = time.monotonic() - began
        after = tree_digest(workdir)
        os.killpg(first.pid, signal.SIGCONT)

        assert second.returncode != 0, second.stdout + second.stderr
        assert f"the work directory {workdir} is busy: PID {first.pid} on " in second.stderr
        assert f"gridaudit run --start {day} --end {day} (days {day} .. {day}" in second.stderr
        assert "--wait" in second.stderr
        assert "gridaudit: running" not in second.stdout  # it never started a run
        assert after == before
        print(f"refused in {refused_in:.1f} s:\n{second.stderr}")
        assert first.wait(timeout=900) == 0, log.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGCONT)
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
    assert "succeeded" in log.read_text()
    assert workdir_lock.read_holder(workdir, attempts=1) is None


# ------------------------------------------------------------------ Dagster runs


def _paths_asset(seen: list):
    @dg.asset
    def probe(context: dg.AssetExecutionContext, gridaudit_paths: GridauditPaths):
        seen.append(
            (context.run.run_id, workdir_lock.held_by_this_process(gridaudit_paths.paths.workdir))
        )

    return probe


def _materialize(asset, workdir: Path, instance):
    return dg.materialize(
        [asset],
        instance=instance,
        resources={
            "gridaudit_paths": GridauditPaths(workdir=str(workdir), landing_dir=str(workdir))
        },
    )


def test_a_dagster_run_holds_the_work_directory_and_waits_for_it(tmp_path):
    seen: list = []
    asset = _paths_asset(seen)
    with dg.instance_for_test() as instance:
        result = _materialize(asset, tmp_path, instance)
        assert result.success
        _, holder = seen.pop()
        assert (holder.pid, holder.run_id, holder.command) == (
            os.getpid(),
            result.run_id,
            "Dagster run of __ephemeral_asset_job__",
        )
        assert workdir_lock.read_holder(tmp_path, attempts=1) is None  # released at the end

        # inside `gridaudit run` (same process): re-entered, no deadlock
        with workdir_lock.hold(tmp_path, COMMAND, days=DAYS):
            inner = _materialize(asset, tmp_path, instance)
            assert inner.success
        _, held = seen.pop()
        assert (held.command, held.days, held.run_id) == (COMMAND, DAYS, inner.run_id)

        # another process holds the work directory: the run waits instead of failing
        holder_proc = start_holder(tmp_path)
        results = []
        thread = threading.Thread(
            target=lambda: results.append(_materialize(asset, tmp_path, instance))
        )
        try:
            thread.start()
            time.sleep(3.0)
            assert not results and not seen  # no step ran yet
            release(holder_proc)
            thread.join(timeout=120)
        finally:
            holder_proc.kill()
        assert results[0].success and seen
        messages = [e.message for e in instance.all_logs(results[0].run_id)]
        assert any(
            f"is busy (PID {holder_proc.pid} on " in m and "this run waits" in m for m in messages
        ), messages
        assert any("is free: this run goes on" in m for m in messages)


def test_every_run_of_the_daily_pipeline_job_carries_its_work_directory(tmp_path):
    """The tag is the work directory of the environment the code location is loaded in
    (`gridaudit ui` sets it first): load the definitions in a fresh interpreter, as
    `dagster dev` does, since this test session's environment moves between work
    directories."""
    import json

    code = (
        "import json; from dagster_project.definitions import defs; "
        "print(json.dumps(defs.resolve_job_def('daily_pipeline').run_tags))"
    )
    env = {**os.environ, "GRIDAUDIT_WORKDIR": str(tmp_path / "work")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1])[RUN_QUEUE_TAG] == str(tmp_path / "work")


def test_the_run_queue_starts_one_run_per_work_directory(tmp_path, capsys):
    """Two queued runs of one work directory: the second stays QUEUED while the first is in
    progress and starts when it is done; another work directory's run is not held up."""
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.remote_origin import (
        RegisteredCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.run_coordinator import SubmitRunContext
    from dagster._core.storage.dagster_run import DagsterRunStatus
    from dagster._core.test_utils import create_run_for_test, create_test_daemon_workspace_context
    from dagster._core.workspace.load_target import EmptyWorkspaceTarget
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
        QueuedRunCoordinatorDaemon,
    )

    from dagster_project.cli import IN_PROCESS_RUN_TAG_SUFFIX, _ensure_run_queue

    home = tmp_path / "dagster_home"
    home.mkdir()
    _ensure_run_queue(home)  # what every gridaudit command does
    assert "wrote" in capsys.readouterr().out
    written = (home / "dagster.yaml").read_text()
    assert workdir_lock.ensure_instance_config(home)[0] == "present"  # never rewritten
    assert (home / "dagster.yaml").read_text() == written

    def instance_of(config_dir: Path):
        # only the launcher is replaced: a launched run is recorded, not executed
        with open(config_dir / "dagster.yaml", "a") as f:
            f.write(
                "run_launcher:\n  module: dagster._core.test_utils\n  class: MockedRunLauncher\n"
            )
        return dg.DagsterInstance.from_config(str(config_dir))

    origin = RemoteJobOrigin(
        repository_origin=RemoteRepositoryOrigin(
            code_location_origin=RegisteredCodeLocationOrigin("gridaudit"),
            repository_name="__repository__",
        ),
        job_name="daily_pipeline",
    )

    def run_of(instance, workdir: str, status=DagsterRunStatus.NOT_STARTED) -> str:
        run = create_run_for_test(
            instance,
            job_name="daily_pipeline",
            status=status,
            remote_job_origin=origin,
            tags={RUN_QUEUE_TAG: workdir, "dagster/partition": "2026-09-14"},
        )
        if status == DagsterRunStatus.NOT_STARTED:
            instance.run_coordinator.submit_run(SubmitRunContext(run, workspace=None))
        return run.run_id

    def statuses(instance, *run_ids) -> list[str]:
        return [instance.get_run_by_id(r).status.value for r in run_ids]

    def dequeue(instance) -> None:  # one iteration of the dagster-daemon's run queue
        with create_test_daemon_workspace_context(EmptyWorkspaceTarget(), instance) as ctx:
            list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(ctx))

    instance = instance_of(home)
    limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert limits == [
        {"key": RUN_QUEUE_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    ]
    # a run record a killed `gridaudit run` left STARTED does not block the queue
    run_of(instance, f"/w1{IN_PROCESS_RUN_TAG_SUFFIX}", status=DagsterRunStatus.STARTED)
    backfill, scheduled, other = (
        run_of(instance, "/w1"),
        run_of(instance, "/w1"),
        run_of(instance, "/w2"),
    )
    assert statuses(instance, backfill, scheduled, other) == ["QUEUED"] * 3
    dequeue(instance)
    assert statuses(instance, backfill, scheduled, other) == ["STARTING", "QUEUED", "STARTING"]
    instance.report_dagster_event(
        DagsterEvent(DagsterEventType.RUN_START.value, job_name="daily_pipeline"), run_id=backfill
    )
    dequeue(instance)
    assert statuses(instance, backfill, scheduled, other) == ["STARTED", "QUEUED", "STARTING"]
    instance.report_dagster_event(
        DagsterEvent(DagsterEventType.RUN_SUCCESS.value, job_name="daily_pipeline"), run_id=backfill
    )
    dequeue(instance)
    assert statuses(instance, backfill, scheduled, other) == ["SUCCESS", "STARTING", "STARTING"]

    # without gridaudit's dagster.yaml both runs of /w1 would start at once
    plain = tmp_path / "plain_home"
    plain.mkdir()
    instance = instance_of(plain)
    first, second = run_of(instance, "/w1"), run_of(instance, "/w1")
    dequeue(instance)
    assert statuses(instance, first, second) == ["STARTING", "STARTING"]


def test_an_existing_dagster_yaml_is_left_as_it_is(tmp_path, capsys):
    from dagster_project.cli import _ensure_run_queue

    config = tmp_path / "dagster.yaml"
    config.write_text("telemetry:\n  enabled: false\n")
    _ensure_run_queue(tmp_path)
    out = capsys.readouterr().out
    assert config.read_text() == "telemetry:\n  enabled: false\n"
    assert f"{config} has no run-queue limit on the tag {RUN_QUEUE_TAG}" in out
    assert '      - key: "gridaudit/workdir"' in out
    config.write_text(
        "telemetry:\n  enabled: false\n"
        + "concurrency:"
        + workdir_lock.instance_config_yaml().split("concurrency:")[1]
    )
    _ensure_run_queue(tmp_path)
    assert capsys.readouterr().out == ""  # has the limit: nothing to say
