"""`gridaudit`: the command line.

  gridaudit generate --preset tiny|demo --out DIR [--seed N] [--start D] [--days N]
  gridaudit run      [--landing DIR] [--workdir DIR] --start D --end D [--wait]
  gridaudit demo     generate the demo data set into data/ and run its whole window
  gridaudit rollback [--version FILE] [--wait]   put back a previously published file
  gridaudit prepare  parse the dbt project (the manifest Dagster loads)
  gridaudit ui       the Dagster UI on this work directory
  gridaudit bench    --preset P [--out DIR] [--skip-generate]: benchmarks/bench.py

`run` executes the same Dagster definitions as the UI and the schedule, in-process,
as one run over the whole range of days. One run at a time per work directory: `run`,
`demo` and `rollback` refuse to start while another holds it (naming it), or wait for it
with --wait.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from dagster_project.generator.presets import PRESETS
from dagster_project.lib.settings import DBT_PROJECT_DIR, REPO_ROOT, paths_from_env


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from exc


def _use_paths(landing: Path | None, workdir: Path | None) -> None:
    """Point every part of the pipeline (Dagster, dbt's profile) at these directories."""
    if landing:
        os.environ["GRIDAUDIT_LANDING"] = str(landing.resolve())
    if workdir:
        os.environ["GRIDAUDIT_WORKDIR"] = str(workdir.resolve())
    paths = paths_from_env()
    paths.workdir.mkdir(parents=True, exist_ok=True)
    os.environ["GRIDAUDIT_WAREHOUSE"] = str(paths.warehouse)
    dagster_home = Path(os.environ.setdefault("DAGSTER_HOME", str(paths.workdir / "dagster_home")))
    dagster_home.mkdir(parents=True, exist_ok=True)
    _ensure_run_queue(dagster_home)


FIRST_DAY_FILE = "first_export_day.txt"


def _derive_first_partition(landing: Path, workdir: Path) -> None:
    """GRIDAUDIT_FIRST_DAY (the first daily partition, defs/partitions.py, read once at its
    import: so only the commands call this, before anything imports it), unless set: the
    earliest export day this work directory has seen in its landing, kept in
    <workdir>/first_export_day.txt so the partitions do not move when old landing files are
    cleaned up (and move back only for an earlier day arriving)."""
    if os.environ.get("GRIDAUDIT_FIRST_DAY"):
        return
    kept = workdir / FIRST_DAY_FILE
    days = [dt.date.fromisoformat(kept.read_text().strip())] if kept.exists() else []
    if landing.is_dir():
        found = {p.name.split(".")[0] for p in landing.glob("*/*/????-??-??.csv*")}
        found |= {p.name for p in landing.glob("feedback/????-??-??") if p.is_dir()}
        days += [dt.date.fromisoformat(min(found))] if found else []
    if days:
        first = min(days)
        workdir.mkdir(parents=True, exist_ok=True)
        kept.write_text(f"{first}\n")
        os.environ["GRIDAUDIT_FIRST_DAY"] = first.isoformat()


def _ensure_run_queue(dagster_home: Path) -> None:
    """The instance's run queue: one run per work directory (lib/workdir_lock.py)."""
    from dagster_project.lib import workdir_lock

    state, path = workdir_lock.ensure_instance_config(dagster_home)
    if state == "written":
        print(
            f"gridaudit: wrote {path}: the Dagster run queue starts one run per work "
            "directory at a time",
            flush=True,
        )
    elif state == "missing-limit":
        snippet = "concurrency:" + workdir_lock.instance_config_yaml().split("concurrency:")[1]
        print(
            f"gridaudit: note: {path} has no run-queue limit on the tag "
            f"{workdir_lock.RUN_QUEUE_TAG} and was left as it is, so runs of one work "
            "directory that the UI or the schedule launch wait for each other only at "
            "their first step instead of in the queue. To queue them, add:\n"
            + "".join(f"    {line}\n" for line in snippet.splitlines()).rstrip(),
            flush=True,
        )


@contextlib.contextmanager
def _workdir_held(workdir: Path, command: str, days: str | None = None, wait: bool = False):
    """Hold the work directory (lib/workdir_lock.py) for the block, or exit naming who
    holds it. Re-entrant: `demo` holds it around `run_pipeline`, which holds it again."""
    from dagster_project.lib import workdir_lock

    waited = []

    def waiting(holder):
        waited.append(holder)
        who = holder.describe() if holder else "a process that has not said who it is yet"
        print(f"gridaudit: waiting for the work directory {workdir}: held by {who}", flush=True)

    stack = contextlib.ExitStack()
    try:
        holder = stack.enter_context(
            workdir_lock.hold(workdir, command, days=days, wait=wait, on_wait=waiting)
        )
    except workdir_lock.WorkdirBusy as busy:
        raise SystemExit(
            f"gridaudit: {busy}\n"
            "  One run at a time per work directory: this one changed nothing. Wait until "
            "that one has finished,\n  or add --wait to start this one as soon as the work "
            "directory is free."
        ) from None
    with stack:
        if waited:
            print(f"gridaudit: the work directory {workdir} is free, going on", flush=True)
        yield holder


def prepare_dbt(force: bool = False) -> Path:
    """Run `dbt parse` when the manifest is missing or older than the dbt project files."""
    from dagster_dbt import DbtCliResource

    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    sources = [
        p
        for sub in ("models", "macros", "seeds", "tests")
        for p in (DBT_PROJECT_DIR / sub).rglob("*")
        if p.is_file()
    ]
    sources += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    newest = max(p.stat().st_mtime for p in sources)
    if force or not manifest.exists() or manifest.stat().st_mtime < newest:
        print("preparing the dbt project (dbt parse) ...", flush=True)
        DbtCliResource(project_dir=str(DBT_PROJECT_DIR)).cli(
            ["parse", "--quiet"], target_path=Path("target")
        ).wait()
    return manifest


def run_pipeline(
    start: dt.date,
    end: dt.date,
    landing: Path | None = None,
    workdir: Path | None = None,
    instance=None,
    *,
    wait: bool = False,
) -> bool:
    """Materialize every asset for export days start..end as one in-process run.

    Holds the work directory for the whole run: exits naming the holder when another run
    holds it, or waits for it when `wait`."""
    if end < start:
        raise SystemExit(f"gridaudit: --end {end} is before --start {start}")
    _use_paths(landing, workdir)
    paths = paths_from_env()
    if not paths.landing.is_dir():
        raise SystemExit(
            f"gridaudit: landing directory {paths.landing} does not exist "
            "(make one with `gridaudit generate`)"
        )
    from dagster_project.lib.workdir_lock import days_text

    with _workdir_held(
        paths.workdir, f"gridaudit run --start {start} --end {end}", days_text(start, end), wait
    ):
        return _execute(start, end, paths, instance)


# What of a run's standard output the terminal shows: dbt's summary and its errors. dbt's
# line per node (START / OK: 540 lines a run) and what libraries print go to the run's
# output log only (<workdir>/logs/run-<time>.log); the steps' progress is Dagster's log
# on standard error, shown as it is.
SHOWN_OUTPUT = re.compile(r"^\s*Done\. PASS=|\b(ERROR|FAIL|Failure|Error|Compilation Error)\b")


class _ProgressFilter(io.TextIOBase):
    """A standard output that writes everything to `log` and the lines SHOWN_OUTPUT matches
    to `terminal`."""

    def __init__(self, terminal, log):
        self.terminal, self.log, self.pending = terminal, log, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.log.write(text)
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if SHOWN_OUTPUT.search(line):
                self.terminal.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.log.flush()
        self.terminal.flush()


@contextlib.contextmanager
def _terminal_shows_progress(output_log: Path, everything: bool = False):
    if everything:
        yield
        return
    output_log.parent.mkdir(parents=True, exist_ok=True)
    print(f"  dbt's and the libraries' output: {output_log}", flush=True)
    with open(output_log, "a", encoding="utf-8") as log:
        with contextlib.redirect_stdout(_ProgressFilter(sys.stdout, log)) as out:
            yield
        if out.pending and SHOWN_OUTPUT.search(out.pending):
            sys.stdout.write(out.pending + "\n")


# The run queue's tag (lib/workdir_lock.RUN_QUEUE_TAG) of an in-process run: another value
# than the work directory's, because an in-process run is never queued, and a run record
# left STARTED by a killed `gridaudit run` would otherwise block the queue of that work
# directory for good. The work-directory lock keeps it apart from queued runs instead.
IN_PROCESS_RUN_TAG_SUFFIX = " (gridaudit run, in-process: not queued)"


def _execute(start: dt.date, end: dt.date, paths, instance) -> bool:
    from dagster_project.lib.workdir_lock import RUN_QUEUE_TAG

    prepare_dbt()

    import dagster as dg

    print(
        f"gridaudit: running {start} .. {end} ({(end - start).days + 1} days) from {paths.landing}",
        flush=True,
    )
    began = time.monotonic()
    log_level = os.environ.get("GRIDAUDIT_LOG_LEVEL", "INFO")  # DEBUG shows every event
    output_log = paths.workdir / "logs" / f"run-{dt.datetime.now():%Y%m%dT%H%M%S}.log"
    with _terminal_shows_progress(output_log, everything=log_level == "DEBUG"):
        result = _run_daily_pipeline_here(
            instance or dg.DagsterInstance.get(),
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            tags={
                "dagster/asset_partition_range_start": start.isoformat(),
                "dagster/asset_partition_range_end": end.isoformat(),
                RUN_QUEUE_TAG: f"{paths.workdir}{IN_PROCESS_RUN_TAG_SUFFIX}",
            },
        )
    seconds = time.monotonic() - began
    failures = _failures(result)
    if result.success and not failures:
        print(f"gridaudit: run {result.run_id} succeeded in {seconds:.1f} s")
        for line in _warnings(result):
            print(f"  warning: {line}")
        print(f"  warehouse: {paths.warehouse}")
        print(f"  published: {paths.published}")
        print(f"  report: {page if (page := paths.reports_dir / 'latest.html').exists() else '-'}")
        print(f"  work-order lists: {_lists_summary(paths.workdir, start, end)}")
        print(f"  open the marts: {open_marts_command(paths.published)}")
        return True
    print(f"gridaudit: run {result.run_id} FAILED after {seconds:.1f} s", file=sys.stderr)
    for line in failures or ["(see the Dagster run log)"]:
        print(f"  - {line}", file=sys.stderr)
    print(f"  the published file {paths.published} was left as it was", file=sys.stderr)
    return False


def _run_daily_pipeline_here(instance, run_config: dict, tags: dict):
    """Run the code location's `daily_pipeline` job in this process, as a run of that job.

    `execute_in_process` would record a run with no code-location origin: the UI lists it
    under no job, and "Re-execute" fails (`CheckError: Expected non-None value`). So the
    run is created the way the UI's launch creates it — its origin is the location that
    workspace.yaml defines, under the name the UI loads it by — and is then executed here
    (in-process executor, this terminal's progress), not handed to a run launcher: the
    command returns when the run has ended, and its steps' events are its result."""
    from dagster._core.execution.api import execute_run
    from dagster._core.remote_origin import (
        InProcessCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.workspace.load import location_origins_from_yaml_paths
    from dagster._utils.hosted_user_process import recon_job_from_origin
    from dagster._utils.tags import normalize_tags

    (ui_origin,) = location_origins_from_yaml_paths([str(REPO_ROOT / "workspace.yaml")])
    here = InProcessCodeLocationOrigin(
        ui_origin.loadable_target_origin, location_name=ui_origin.location_name
    )
    with here.create_location(instance) as location:
        (repository,) = location.get_repositories().values()
        job = repository.get_full_job("daily_pipeline")
        plan = location.get_execution_plan(
            job, run_config, step_keys_to_execute=None, known_state=None, instance=instance
        ).execution_plan_snapshot
        run = instance.create_run(
            job_name=job.name,
            run_id=None,
            run_config=run_config,
            resolved_op_selection=None,
            step_keys_to_execute=plan.step_keys_to_execute,
            op_selection=None,
            status=None,
            root_run_id=None,
            parent_run_id=None,
            tags=normalize_tags({**job.tags, **tags}),
            job_snapshot=job.job_snapshot,
            execution_plan_snapshot=plan,
            parent_job_snapshot=job.parent_job_snapshot,
            remote_job_origin=RemoteJobOrigin(
                RemoteRepositoryOrigin(ui_origin, repository.name), job.name
            ),
            job_code_origin=job.get_python_origin(),
            asset_selection=None,
            asset_check_selection=None,
            asset_graph=repository.asset_graph,
        )
    return execute_run(recon_job_from_origin(run.job_code_origin), run, instance)


def open_marts_command(published: Path) -> str:
    """A command that opens the published file read-only and shows the newest problem
    list, runnable from any directory: the DuckDB command line that `uv sync` installs
    (version 1.x, which reads the file's storage version), by its absolute path."""
    duckdb_cli = Path(sys.executable).parent / "duckdb"
    query = (
        "select tg_name, problem_code, problem_name, cons_name, evidence, suggested_action "
        "from marts.area_problem_list order by tg_name, problem_code limit 20"
    )
    return shlex.join([str(duckdb_cli), "-readonly", str(published), "-c", query])


def _lists_summary(workdir: Path, start: dt.date, end: dt.date) -> str:
    """Where the run's work-order lists are (lib/dispatch_lists.py), and how many."""
    from dagster_project.lib.dispatch_lists import day_dir, dispatch_dir

    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    lists = [p for day in days for p in sorted(day_dir(workdir, day).glob("*.xlsx"))]
    units = len({p.stem for p in lists})
    if not lists:
        return f"{dispatch_dir(workdir)} (none for {start} .. {end})"
    return (
        f"{dispatch_dir(workdir)}/<day>/<ORG_NO>.xlsx and .csv ({len(lists)} list(s) of "
        f"{units} unit(s) for {start} .. {end})"
    )


def _failures(result) -> list[str]:
    """Readable reasons of a failed run, the failing table and expectation first: failed
    blocking checks (each message starts with its table and expectation), then failed
    steps other than the ones a failed blocking check stopped."""
    gate_lines, step_lines = [], []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            user = error.cause if error and error.cause else error
            if user and user.cls_name == "DagsterAssetCheckFailedError":
                continue  # said by the check's own line
            text = user.message.strip() if user else "failed"
            step_lines.append(
                f"step {event.step_key}: {text.splitlines()[-1] if text else text}"
                if "Failure" not in text
                else f"step {event.step_key}: {text}"
            )
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and str(evaluation.severity).endswith("ERROR"):
                gate_lines.append(
                    evaluation.description
                    or f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name} failed"
                )
    return list(dict.fromkeys(gate_lines + step_lines))


def _warnings(result) -> list[str]:
    """The gate's warnings of a run (quarantined rows below the systemic bounds, ...): one
    line per checked table with failed `warn` expectations."""
    lines = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            failed_warnings = evaluation.metadata.get("failed_warnings")
            if evaluation.passed and failed_warnings and failed_warnings.value:
                lines.append(evaluation.description)
    return list(dict.fromkeys(lines))


def cmd_generate(args) -> int:
    import logging

    from dagster_project.generator import generate

    # the generator's progress, and only that: configuring the root logger would print every
    # library's INFO chatter (GX's registrations, alembic's migrations) on the later run
    progress = logging.getLogger("gridaudit.generator")
    if not progress.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("  %(message)s"))
        progress.addHandler(handler)
        progress.setLevel(logging.INFO)
        progress.propagate = False

    began = time.monotonic()
    summary = generate(args.preset, args.out, seed=args.seed, start=args.start, days=args.days)
    print(
        f"gridaudit: generated preset {args.preset} into {args.out} in "
        f"{time.monotonic() - began:.1f} s"
    )
    for key in ("start", "days", "areas", "customers"):
        if key in summary:
            print(f"  {key}: {summary[key]}")
    return 0


def _window_of(landing: Path) -> tuple[dt.date, dt.date]:
    days = sorted({p.name.split(".")[0] for p in landing.glob("*/*/*.csv*")})
    if not days:
        raise SystemExit(f"gridaudit: no landing files under {landing}")
    return dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])


def cmd_run(args) -> int:
    landing = args.landing or paths_from_env().landing
    start, end = args.start, args.end
    if start is None or end is None:
        first, last = _window_of(landing)
        start, end = start or first, end or last
    _derive_first_partition(landing, args.workdir or paths_from_env().workdir)
    return 0 if run_pipeline(start, end, args.landing, args.workdir, wait=args.wait) else 1


def cmd_demo(args) -> int:
    data = REPO_ROOT / "data"
    landing = data / "landing"
    # held around the generator too: it rewrites the landing tree this work directory's
    # runs read
    with _workdir_held(data / "work", "gridaudit demo", wait=args.wait):
        if not landing.is_dir() or args.regenerate:
            args.out, args.start, args.days = data, None, None
            cmd_generate(args)
        first, last = _window_of(landing)
        _derive_first_partition(landing, data / "work")
        ok = run_pipeline(first, last, landing, data / "work")
    if ok:
        paths = paths_from_env()
        print("\nNext:")
        # the duckdb command line of the duckdb-cli dependency (DuckDB 1.x, like the BI
        # drivers; the file is written in a storage version they read)
        print(
            "  open the published marts read-only:  "
            f"python3 -m uv run duckdb -readonly {paths.published}"
        )
        print(f"  or in Python: duckdb.connect(r'{paths.published}', read_only=True)")
        print(
            f"  the work-order lists for the field: {paths.workdir / 'dispatch'}/<day>/; a "
            f"filled one dropped into {landing / 'feedback'}/<day>/ moves its orders on the "
            "next run"
        )
        print(
            "  the Dagster UI on this work directory:  python3 -m uv run gridaudit ui   "
            "(then http://127.0.0.1:3000)"
        )
    return 0 if ok else 1


def cmd_rollback(args) -> int:
    from dagster_project.lib import publish
    from dagster_project.lib.settings import published_storage_version

    _use_paths(None, args.workdir)
    paths = paths_from_env()
    with _workdir_held(
        paths.workdir,
        "gridaudit rollback" + (f" --version {args.version}" if args.version else ""),
        wait=args.wait,
    ):
        restored = publish.rollback(
            paths.published, version=args.version, storage_version=published_storage_version()
        )
    print(
        f"gridaudit: {paths.published} now holds {restored.path.name} (DuckDB storage "
        f"{publish.file_storage_version(paths.published)})"
    )
    return 0


def cmd_prepare(args) -> int:
    prepare_dbt(force=True)
    return 0


def _bench_module():
    """benchmarks/bench.py, which lives beside the package in the checkout (it is not part
    of the installed wheel); None without a checkout."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        from benchmarks import bench
    except ImportError:
        return None
    return bench


def cmd_bench(args) -> int:
    bench = _bench_module()
    if bench is None:
        raise SystemExit(f"gridaudit bench needs the checkout's benchmarks/ ({REPO_ROOT})")
    bench.bench_from_args(args)
    return 0


def cmd_ui(args) -> int:
    _use_paths(args.landing, args.workdir)
    paths = paths_from_env()
    _derive_first_partition(paths.landing, paths.workdir)
    prepare_dbt()
    os.chdir(REPO_ROOT)
    if args.watch:
        # the landing sensor is stopped in a new instance (README, "Operations"); started
        # here, its state is kept by the instance, as if started on the Automation page
        subprocess.run(
            ["dagster", "sensor", "start", "landing_sensor", "-w", "workspace.yaml"], check=True
        )
    # The reports' HTTP server (the metadata's report links), in the UI's process group:
    # a signal to the group stops it with the UI, and PR_SET_PDEATHSIG stops it when the
    # process that becomes `dagster dev` below exits.
    subprocess.Popen(
        [sys.executable, "-m", "dagster_project.lib.reports_server", str(paths.reports_dir)],
        preexec_fn=_stop_with_parent,
    )
    # A command started in the background (`&`, nohup, some service managers) inherits
    # SIGINT ignored; `dagster dev` maps SIGTERM onto SIGINT's handler, so it would ignore
    # both and leave its webserver, daemon and code servers running. Default it again: after
    # exec, Python turns SIGINT into KeyboardInterrupt and dagster dev shuts down cleanly.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execvp("dagster", ["dagster", "dev", "-w", "workspace.yaml", "-p", str(args.port)])


def _stop_with_parent() -> None:
    """In a child before exec: SIGTERM when the parent exits (Linux), SIGINT as default."""
    import ctypes

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


WAIT_HELP = (
    "when another run holds the work directory, wait for it to finish (default: refuse, naming it)"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gridaudit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a labelled synthetic landing tree")
    gen.add_argument("--preset", choices=tuple(PRESETS), default="tiny")
    gen.add_argument("--out", type=Path, required=True, help="writes OUT/landing and OUT/truth")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--start", type=_date)
    gen.add_argument("--days", type=int)
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="run the daily pipeline over export days")
    run.add_argument("--landing", type=Path, help="default $GRIDAUDIT_LANDING or data/landing")
    run.add_argument("--workdir", type=Path, help="default $GRIDAUDIT_WORKDIR or data/work")
    run.add_argument("--start", type=_date, help="first export day (default: the landing's)")
    run.add_argument("--end", type=_date, help="last export day (default: the landing's)")
    run.add_argument("--wait", action="store_true", help=WAIT_HELP)
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="generate the demo preset into data/ and run it")
    demo.add_argument("--preset", choices=tuple(PRESETS), default="demo")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--regenerate", action="store_true")
    demo.add_argument("--wait", action="store_true", help=WAIT_HELP)
    demo.set_defaults(func=cmd_demo)

    rollback = sub.add_parser("rollback", help="restore a previous published file")
    rollback.add_argument("--workdir", type=Path)
    rollback.add_argument("--version", help="a file of published/versions (default: newest)")
    rollback.add_argument("--wait", action="store_true", help=WAIT_HELP)
    rollback.set_defaults(func=cmd_rollback)

    sub.add_parser("prepare", help="dbt parse").set_defaults(func=cmd_prepare)

    bench = sub.add_parser(
        "bench",
        help="measure generation, history, daily run, re-run and "
        "the floors; write docs/benchmarks.md",
    )
    if _bench_module():  # its options are benchmarks/bench.py's own
        _bench_module().add_arguments(bench, tuple(PRESETS))
    bench.set_defaults(func=cmd_bench)

    ui = sub.add_parser("ui", help="dagster dev on this work directory")
    ui.add_argument("--landing", type=Path)
    ui.add_argument("--workdir", type=Path)
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument(
        "--watch",
        action="store_true",
        help="start landing_sensor: a day's run starts once its landing files are complete",
    )
    ui.set_defaults(func=cmd_ui)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
