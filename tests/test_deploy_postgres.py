"""The production instance of docs/deploy.md: deploy/dagster.yaml on a real PostgreSQL.

A PostgreSQL server of the machine's own (Debian's `postgresql` package: initdb, pg_ctl)
is started in a temporary directory on a free port, with a database and a role for
Dagster as a utility's DBA would create them. The committed deploy/dagster.yaml is copied
into a DAGSTER_HOME as docs/deploy.md says, its credentials given only by the DAGSTER_PG_*
environment variables, and then:

* the project's real job runs over three days of the tiny landing tree through that
  instance, and the run, its events and the asset materializations are read back from
  PostgreSQL itself (psycopg2) and through a new instance object; no SQLite file is left in
  DAGSTER_HOME;
* `dagster sensor start` / `dagster schedule start` (the commands docs/deploy.md gives)
  store the sensor's and the schedule's state there, and a real `dagster-daemon` ticks the
  sensor and writes its heartbeats into PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml
from dagster._core.scheduler.instigation import InstigatorState, InstigatorStatus, TickStatus
from ui_helpers import free_port, stop_process_group

from dagster_project.cli import prepare_dbt, run_pipeline
from dagster_project.lib import workdir_lock
from dagster_project.lib.settings import REPO_ROOT

DEPLOY_CONFIG = REPO_ROOT / "deploy" / "dagster.yaml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
# The window of the run: three export days are enough to write every asset and keep the
# test short (the 14-day tiny run is conftest's tiny_run).
DAYS = 3
ADMIN, ADMIN_PASSWORD = "gridaudit_admin", "admin-pw-only-in-this-test"
# The role and database Dagster uses, not a superuser (as docs/deploy.md creates them);
# the password has characters that must be quoted in a connection URL.
DAGSTER_USER, DAGSTER_PASSWORD, DAGSTER_DB = "dagster", "p@ss:w/rd%1", "gridaudit_dagster"
VENV_BIN = Path(sys.executable).parent


def _postgres_bin() -> Path:
    """The newest PostgreSQL server's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        pytest.fail(
            "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): "
            "`apt-get install -y postgresql` (.ci/run installs it)"
        )
    return found[-1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server for this module: its port, stopped and removed at the end.

    initdb and postgres refuse to run as root; as root (CI) they run as the `postgres`
    user that Debian's package creates, in a directory of its own (pytest's tmp_path is
    root's, mode 0700, which that user cannot enter)."""
    bin_dir = _postgres_bin()
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="gridaudit-pg-"))
    prefix: list[str] = []
    if as_root:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    pwfile = base / "pwfile"
    pwfile.write_text(ADMIN_PASSWORD + "\n")
    if as_root:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    data = base / "data"
    port = free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, text=True, timeout=120)

    # password authentication for every connection, also over TCP from 127.0.0.1
    run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        ADMIN,
        "--pwfile",
        str(pwfile),
        "--auth=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base}"
    started = False
    try:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
            "-w", "-t", "60", "-o", options, "start")  # fmt: skip
        started = True
        # CREATE DATABASE cannot run in a transaction: autocommit, no `with con` (which
        # opens one in psycopg2 2.9)
        con = psycopg2.connect(
            host="127.0.0.1", port=port, user=ADMIN, password=ADMIN_PASSWORD, dbname="postgres"
        )
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(f"CREATE ROLE {DAGSTER_USER} LOGIN PASSWORD %s", (DAGSTER_PASSWORD,))
                cur.execute(f"CREATE DATABASE {DAGSTER_DB} OWNER {DAGSTER_USER}")
        finally:
            con.close()
        yield {"port": port, "log": base / "server.log"}
    finally:
        if started:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def _connect(port: int):
    """Dagster's database, as its own role."""
    return psycopg2.connect(
        host="127.0.0.1", port=port, user=DAGSTER_USER, password=DAGSTER_PASSWORD, dbname=DAGSTER_DB
    )


def _query(port: int, sql: str, params=()) -> list[tuple]:
    con = _connect(port)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def deployment(postgres, tiny_dir, tmp_path_factory):
    """A DAGSTER_HOME holding the committed deploy/dagster.yaml, the DAGSTER_PG_* variables
    pointing at the server, and the tiny landing tree with a work directory."""
    home = tmp_path_factory.mktemp("dagster_home_pg")
    shutil.copyfile(DEPLOY_CONFIG, home / "dagster.yaml")
    workdir = tmp_path_factory.mktemp("work_pg")
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_USERNAME": DAGSTER_USER,
        "DAGSTER_PG_PASSWORD": DAGSTER_PASSWORD,
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_DB": DAGSTER_DB,
        "DAGSTER_PG_PORT": str(postgres["port"]),
        "GRIDAUDIT_LANDING": str(tiny_dir / "landing"),
        "GRIDAUDIT_WORKDIR": str(workdir),
        "GRIDAUDIT_WAREHOUSE": str(workdir / "warehouse.duckdb"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        yield {"home": home, "workdir": workdir, "landing": tiny_dir / "landing", "env": env,
               "port": postgres["port"]}  # fmt: skip


def test_the_deploy_config_is_the_commands_run_queue():
    """deploy/dagster.yaml has the same run queue as the dagster.yaml the commands write, so
    the commands leave it as it is and say nothing ("present")."""
    deployed = yaml.safe_load(DEPLOY_CONFIG.read_text(encoding="utf-8"))
    written = yaml.safe_load(workdir_lock.instance_config_yaml())
    assert deployed["concurrency"] == written["concurrency"]
    assert deployed["telemetry"] == {"enabled": False}
    # the credentials are environment references, never values in git
    db = deployed["storage"]["postgres"]["postgres_db"]
    assert db == {
        "username": {"env": "DAGSTER_PG_USERNAME"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "db_name": {"env": "DAGSTER_PG_DB"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "scheme": "postgresql+psycopg2",
    }


@pytest.fixture(scope="module")
def pg_run(deployment):
    """The daily_pipeline job over the first DAYS days of the tiny tree, through the
    PostgreSQL instance (as `gridaudit run` does with that DAGSTER_HOME)."""
    home = deployment["home"]
    assert workdir_lock.ensure_instance_config(home) == ("present", home / "dagster.yaml")
    prepare_dbt()
    days = sorted({p.name.split(".")[0] for p in deployment["landing"].glob("*/*/*.csv*")})
    start = dt.date.fromisoformat(days[0])
    end = start + dt.timedelta(days=DAYS - 1)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        began = time.monotonic()
        ok = run_pipeline(start, end, deployment["landing"], deployment["workdir"], instance)
        seconds = time.monotonic() - began
    finally:
        instance.dispose()
    assert ok, "the pipeline failed on the PostgreSQL instance"
    (run_id,) = [r[0] for r in _query(deployment["port"], "SELECT run_id FROM runs")]
    print(f"run {run_id} over {start} .. {end} took {seconds:.0f} s")
    return {"run_id": run_id, "start": start, "end": end, **deployment}


def test_the_run_and_its_events_are_in_postgres(pg_run):
    port, run_id = pg_run["port"], pg_run["run_id"]
    [(status, job)] = _query(port, "SELECT status, pipeline_name FROM runs WHERE run_id = %s",
                             (run_id,))  # fmt: skip
    assert (status, job) == ("SUCCESS", "daily_pipeline")
    tags = dict(_query(port, "SELECT key, value FROM run_tags WHERE run_id = %s", (run_id,)))
    assert tags["dagster/asset_partition_range_start"] == pg_run["start"].isoformat()
    assert tags["dagster/asset_partition_range_end"] == pg_run["end"].isoformat()
    assert tags[workdir_lock.RUN_QUEUE_TAG].startswith(str(pg_run["workdir"]))
    kinds = dict(
        _query(
            port,
            "SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = %s "
            "GROUP BY dagster_event_type",
            (run_id,),
        )
    )
    # the stored names (RUN_START is stored as PIPELINE_START)
    event = dg.DagsterEventType
    for kind in (
        event.RUN_START,
        event.RUN_SUCCESS,
        event.STEP_SUCCESS,
        event.ASSET_CHECK_EVALUATION,
    ):
        assert kinds.get(kind.value, 0) >= 1, f"no {kind} event of the run in PostgreSQL: {kinds}"
    assert kinds.get(event.STEP_FAILURE.value, 0) == 0


def test_every_asset_of_every_day_is_materialized_in_postgres(pg_run):
    """Each materializable asset of the code location has one materialization per day of
    the window, stored in PostgreSQL (event_logs) and read back by a new instance."""
    from dagster_project.definitions import defs

    port, run_id = pg_run["port"], pg_run["run_id"]
    days = {(pg_run["start"] + dt.timedelta(days=i)).isoformat() for i in range(DAYS)}
    expected = {k.to_user_string() for k in defs.resolve_asset_graph().materializable_asset_keys}
    rows = _query(
        port,
        "SELECT asset_key, partition FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
        (run_id, dg.DagsterEventType.ASSET_MATERIALIZATION.value),
    )
    by_asset: dict[str, set[str]] = {}
    for key, partition in rows:
        by_asset.setdefault(dg.AssetKey.from_db_string(key).to_user_string(), set()).add(partition)
    assert set(by_asset) == expected
    not_every_day = {k: sorted(p) for k, p in by_asset.items() if p != days}
    assert not not_every_day, f"assets without one materialization per day: {not_every_day}"
    assert len(rows) == len(expected) * DAYS  # and no asset materialized twice for a day

    # a new instance object (as the webserver opens it) reads the same from PostgreSQL
    fresh = dg.DagsterInstance.from_config(str(pg_run["home"]))
    try:
        assert type(fresh.run_storage).__module__.startswith("dagster_postgres")
        assert type(fresh.event_log_storage).__module__.startswith("dagster_postgres")
        assert type(fresh.schedule_storage).__module__.startswith("dagster_postgres")
        assert fresh.get_run_by_id(run_id).is_success
        published = dg.AssetKey(["published", "gridaudit_duckdb"])
        records = fresh.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=published), limit=10
        ).records
        assert {r.partition_key for r in records} == days
        assert all(r.run_id == run_id for r in records)
    finally:
        fresh.dispose()
    assert (pg_run["workdir"] / "published" / "gridaudit.duckdb").is_file()
    # nothing went to the SQLite storage Dagster falls back to without a storage config
    assert not list(pg_run["home"].rglob("*.db")), list(pg_run["home"].rglob("*.db"))


RUNS_QUERY = """
{ runsOrError { ... on Runs { results { runId status jobName tags { key value } } } } }
"""


def test_the_webserver_lists_the_run_from_postgres(pg_run):
    """`dagster-webserver` as the systemd unit of docs/deploy.md starts it, on the same
    instance: its GraphQL API (what the UI's Runs page asks) lists the run."""
    port = free_port()
    log = open(pg_run["workdir"] / "webserver.log", "w")  # noqa: SIM115 (closed below)
    web = subprocess.Popen(
        [
            str(VENV_BIN / "dagster-webserver"),
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],  # fmt: skip
        cwd=REPO_ROOT,
        env=_dagster_env(pg_run),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    runs = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and web.poll() is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=json.dumps({"query": RUNS_QUERY}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=30) as answer:
                    runs = json.load(answer)["data"]["runsOrError"]["results"]
                break
            except OSError:  # not listening yet
                time.sleep(2)
    finally:
        stop_process_group(web)
        log.close()
    webserver_log = (pg_run["workdir"] / "webserver.log").read_text(errors="replace")
    assert runs is not None, f"the webserver did not answer; its log:\n{webserver_log[-3000:]}"
    [run] = [r for r in runs if r["runId"] == pg_run["run_id"]]
    assert (run["status"], run["jobName"]) == ("SUCCESS", "daily_pipeline")
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/asset_partition_range_end"] == pg_run["end"].isoformat()


def _dagster_env(deployment) -> dict[str, str]:
    return {**os.environ, **deployment["env"], "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}


def _dagster(deployment, *args: str) -> None:
    subprocess.run(
        [str(VENV_BIN / "dagster"), *args, "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=_dagster_env(deployment),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _instigators(home: Path) -> dict[str, InstigatorState]:
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        return {s.name: s for s in instance.all_instigator_state()}
    finally:
        instance.dispose()


def test_schedule_and_sensor_state_and_daemon_ticks_are_in_postgres(pg_run):
    """The schedule and the landing sensor started with the CLI (docs/deploy.md) are
    RUNNING in PostgreSQL; a dagster-daemon on this instance ticks the sensor (tick stored
    there) and its heartbeats are there too. The tiny tree's days are months before today,
    outside the sensor's look-back, so its tick requests no run."""
    port, home = pg_run["port"], pg_run["home"]
    _dagster(pg_run, "sensor", "start", "landing_sensor")
    _dagster(pg_run, "schedule", "start", "daily_pipeline_schedule")
    states = _instigators(home)
    assert states["landing_sensor"].status == InstigatorStatus.RUNNING
    assert states["daily_pipeline_schedule"].status == InstigatorStatus.RUNNING
    stored = dict(_query(port, "SELECT selector_id, status FROM instigators"))
    assert stored[states["landing_sensor"].selector_id] == "RUNNING"
    assert stored[states["daily_pipeline_schedule"].selector_id] == "RUNNING"

    log = open(pg_run["workdir"] / "daemon.log", "w")  # noqa: SIM115 (closed below)
    daemon = subprocess.Popen(
        [str(VENV_BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=_dagster_env(pg_run),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its code server too: stopped by its process group below
    )
    sensor = states["landing_sensor"]
    ticks = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and daemon.poll() is None:
            instance = dg.DagsterInstance.from_config(str(home))
            try:
                ticks = instance.get_ticks(sensor.instigator_origin_id, sensor.selector_id)
            finally:
                instance.dispose()
            if ticks:
                break
            time.sleep(3)
    finally:
        stop_process_group(daemon)
        log.close()
    daemon_log = (pg_run["workdir"] / "daemon.log").read_text(errors="replace")
    assert ticks, f"no landing_sensor tick in PostgreSQL; the daemon's log:\n{daemon_log[-3000:]}"
    assert ticks[0].status == TickStatus.SKIPPED, (ticks[0].status, ticks[0].error)
    assert ticks[0].run_ids == []
    stored_ticks = _query(
        port, "SELECT status FROM job_ticks WHERE selector_id = %s", (sensor.selector_id,)
    )
    assert ("SKIPPED",) in stored_ticks
    daemons = {r[0] for r in _query(port, "SELECT daemon_type FROM daemon_heartbeats")}
    assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"} <= daemons, daemons


def _doc_blocks(language: str) -> list[str]:
    text = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_the_docs_give_the_same_instance_on_kubernetes_and_systemd(tmp_path):
    """docs/deploy.md's Helm values and environment file say what deploy/dagster.yaml and
    the project read: the same run-queue limit, the same driver, the variables that exist
    (.env.example), the volumes where the variables point."""
    deployed = yaml.safe_load(DEPLOY_CONFIG.read_text(encoding="utf-8"))
    [values] = [yaml.safe_load(b) for b in _doc_blocks("yaml") if "dagster-user-deployments" in b]
    queue = values["dagsterDaemon"]["runCoordinator"]
    assert (queue["enabled"], queue["type"]) == (True, "QueuedRunCoordinator")
    limits = queue["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    assert limits == deployed["concurrency"]["runs"]["tag_concurrency_limits"]
    # the chart renders them into run_coordinator.config, where the commands find them too
    rendered = tmp_path / "dagster.yaml"
    rendered.write_text(
        yaml.safe_dump(
            {
                "run_coordinator": {
                    "module": "dagster.core.run_coordinator",
                    "class": "QueuedRunCoordinator",
                    "config": {"max_concurrent_runs": -1, "tag_concurrency_limits": limits},
                }
            }
        )
    )
    assert workdir_lock.has_queue_limit(rendered)
    # and Dagster accepts that instance config (validated, not only parsed)
    dg.DagsterInstance.from_config(str(tmp_path)).dispose()
    pg = values["postgresql"]
    assert pg["postgresqlScheme"] == deployed["storage"]["postgres"]["postgres_db"]["scheme"]
    assert values["telemetry"] == deployed["telemetry"]

    [deployment] = values["dagster-user-deployments"]["deployments"]
    env = deployment["env"]
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))
    assert set(env) <= documented, set(env) - documented
    mounts = {m["name"]: m["mountPath"] for m in deployment["volumeMounts"]}
    assert mounts == {"landing": env["GRIDAUDIT_LANDING"], "work": env["GRIDAUDIT_WORKDIR"]}
    assert env["GRIDAUDIT_WAREHOUSE"] == env["GRIDAUDIT_WORKDIR"] + "/warehouse.duckdb"
    assert {v["name"] for v in deployment["volumes"]} == set(mounts)

    # the systemd environment file: the instance's variables and documented ones only
    [env_file] = [b for b in _doc_blocks("bash") if "DAGSTER_PG_PASSWORD=" in b]
    names = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", env_file, re.M))
    wanted = {
        ref["env"] for ref in deployed["storage"]["postgres"]["postgres_db"].values()
        if isinstance(ref, dict)
    }  # fmt: skip
    assert wanted <= names
    assert names - {"PATH", "DBT_SEND_ANONYMOUS_USAGE_STATS"} <= documented
