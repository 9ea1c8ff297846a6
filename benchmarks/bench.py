"""`gridaudit bench`: what the pipeline costs on a preset, and how far it is from the floor.

    gridaudit bench --preset demo|city|province|... [--out DIR] [--skip-generate]
                    [--backfill-days N] [--repeats N] [--doc FILE]
    python benchmarks/bench.py ...                      (the same)

Phases, each in a process of its own (so that every phase's peak memory is its own):

  generation     `gridaudit generate` of the preset into OUT (only when OUT/landing is
                 absent; an existing tree is reused and the table says so)
  history        every export day but the last as one run, into a fresh OUT/work
  daily run      the last day alone: wall, peak RSS, seconds per step kind from Dagster's
                 step stats (extract = raw_*, gate = gx_*, dbt, publish)
  re-run         the last day again
  backfill       the last N days again as one run over the loaded warehouse (default 21 for
                 the city preset, none otherwise; --backfill-days)
  floors         benchmarks/floor_duckdb.py and benchmarks/floor_pandas.py for the last day,
                 each --repeats times (median), checked equal to the published
                 marts.area_daily_loss of that day (and to the generator's truth)

Peak memory is the sum of the proportional set size (PSS: a page shared by n processes
counts 1/n) of a phase's process tree (the Dagster process and its dbt subprocesses, the
generator's forked workers), sampled every 0.25 s, and at least the resident size of the
largest single process (getrusage). Idleness: the load average before and after, and the
CPU time that other processes used during every phase (/proc/stat minus the phase's own CPU
time). The table is printed and written into the preset's section of docs/benchmarks.md;
every number is also in OUT/bench-<preset>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout without the editable install
    sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_BACKFILL_DAYS = {"city": 21}
SAMPLE_SECONDS = 0.25
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ the phases (children)


def _step_kind(step_key: str) -> str:
    if step_key.startswith("gx_"):
        return "gate"
    if step_key.startswith("raw_"):
        return "extract"
    if "dbt" in step_key:
        return "dbt"
    if step_key.startswith("publish"):
        return "publish"
    return "other"


def phase_generate(params: dict) -> dict:
    from dagster_project.generator import generate

    began = time.perf_counter()
    summary = generate(params["preset"], Path(params["out"]), seed=params["seed"])
    return {
        "seconds": time.perf_counter() - began,
        "days": summary["days"],
        "areas": summary["areas"],
        "customers": summary.get("customers_total"),
        "landing_bytes": summary.get("landing_bytes"),
        "start": summary["start"],
        "end": summary["end"],
    }


def phase_run(params: dict) -> dict:
    import dagster as dg

    from dagster_project.cli import run_pipeline

    instance = dg.DagsterInstance.ephemeral()
    start, end = dt.date.fromisoformat(params["start"]), dt.date.fromisoformat(params["end"])
    began = time.perf_counter()
    ok = run_pipeline(
        start, end, Path(params["landing"]), Path(params["workdir"]), instance=instance
    )
    seconds = time.perf_counter() - began
    run = instance.get_runs(limit=1)[0]
    steps = {
        s.step_key: (s.end_time or 0) - (s.start_time or 0)
        for s in instance.get_run_step_stats(run.run_id)
    }
    kinds: dict[str, float] = {}
    for key, secs in steps.items():
        kinds[_step_kind(key)] = kinds.get(_step_kind(key), 0.0) + secs
    return {
        "ok": ok,
        "seconds": seconds,
        "steps": steps,
        "step_kinds": kinds,
        "days": (end - start).days + 1,
        "start": params["start"],
        "end": params["end"],
    }


def phase_floor_duckdb(params: dict) -> dict:
    import duckdb

    from benchmarks import floor_duckdb
    from benchmarks.floor_common import (
        compare_with_published,
        compare_with_truth,
        quarantined_rows,
    )

    landing, day = Path(params["landing"]), dt.date.fromisoformat(params["day"])
    runs = []
    for _ in range(params["repeats"]):
        con = duckdb.connect()
        result = floor_duckdb.area_daily_loss(landing, day, con=con)
        runs.append(
            {"seconds": result.seconds, "decode_s": result.decode_s, "read_s": result.read_s}
        )
    report = {
        "runs": runs,
        "seconds": statistics.median(r["seconds"] for r in runs),
        "decode_s": statistics.median(r["decode_s"] for r in runs),
        "rows": result.rows.num_rows,
        "files": result.files.describe(),
        "vs_published": compare_with_published(con, "floor_rows", Path(params["published"]), day),
        "quarantined_rows_in_files_read": quarantined_rows(
            Path(params["warehouse"]), result.files, landing
        ),
    }
    if params.get("truth"):
        report["vs_truth"] = compare_with_truth(con, "floor_rows", Path(params["truth"]), day)
    return report


def phase_floor_pandas(params: dict) -> dict:
    from benchmarks import floor_pandas

    landing, day = Path(params["landing"]), dt.date.fromisoformat(params["day"])
    runs = [floor_pandas.area_daily_loss(landing, day) for _ in range(params["repeats"])]
    compared = floor_pandas.compare_rows(
        runs[-1].rows,
        Path(params["published"]),
        Path(params["truth"]) if params.get("truth") else None,
        day,
    )
    return {
        "runs": [{"seconds": r.seconds} for r in runs],
        "seconds": statistics.median(r.seconds for r in runs),
        "rows": len(runs[-1].rows),
        **compared,
    }


PHASES = {
    "generate": phase_generate,
    "run": phase_run,
    "floor_duckdb": phase_floor_duckdb,
    "floor_pandas": phase_floor_pandas,
}


def _phase_main(kind: str, params_file: str, result_file: str) -> None:
    import resource

    params = json.loads(Path(params_file).read_text())
    if kind == "floor_pandas":  # if memory runs out, the kernel kills this script, not others
        Path("/proc/self/oom_score_adj").write_text("1000")
    result = PHASES[kind](params)
    result["ru_maxrss_self_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["ru_maxrss_children_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    Path(result_file).write_text(json.dumps(result, default=str, indent=2))


# ------------------------------------------------------------- measuring (the parent)


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process."""
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # the name may hold spaces
        parents[int(entry.name)] = int(fields[1])
    return parents


def _pss_bytes(pid: int) -> int:
    """Proportional set size: resident pages, a page shared by n processes counted 1/n (a
    sum of RSS would count the generator's forked workers' copy-on-write pages twice)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def tree_memory_bytes(root: int) -> int:
    """The memory of a process and all its descendants at this moment (sum of PSS)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _pss_bytes(pid)
        todo.extend(children.get(pid, []))
    return total


def machine_cpu_busy_seconds() -> float:
    """CPU seconds all processes of the machine spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def _own_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_phase(kind: str, params: dict, out: Path, label: str, env: dict | None = None) -> dict:
    """Run one phase in a child process; returns its result plus wall time, peak RSS of
    its process tree and the CPU that other processes used meanwhile."""
    phase_dir = out / "bench"
    phase_dir.mkdir(parents=True, exist_ok=True)
    params_file, result_file = phase_dir / f"{label}.params.json", phase_dir / f"{label}.json"
    log_file = phase_dir / f"{label}.log"
    params_file.write_text(json.dumps(params, default=str))
    result_file.unlink(missing_ok=True)
    print(f"gridaudit bench: {label} ... (log: {log_file})", flush=True)
    load_before = os.getloadavg()
    busy_before, began = machine_cpu_busy_seconds(), time.perf_counter()
    sampler_before = _own_cpu_seconds()
    child_env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with open(log_file, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.bench",
                "_phase",
                kind,
                str(params_file),
                str(result_file),
            ],
            cwd=ROOT,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.wait(SAMPLE_SECONDS):
                peak[0] = max(peak[0], tree_memory_bytes(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
    wall = time.perf_counter() - began
    busy = machine_cpu_busy_seconds() - busy_before
    # the phase's CPU and this process's (the sampler): neither is another process's
    own_cpu = usage.ru_utime + usage.ru_stime + _own_cpu_seconds() - sampler_before
    if proc.returncode != 0 or not result_file.exists():
        tail = log_file.read_text(errors="replace").splitlines()[-15:]
        raise SystemExit(
            f"gridaudit bench: {label} failed (exit {proc.returncode}); the end "
            f"of {log_file}:\n" + "\n".join(tail)
        )
    result = json.loads(result_file.read_text())
    result.update(
        {
            "process_wall_s": wall,
            "peak_tree_memory_bytes": peak[0],
            "largest_process_rss_bytes": usage.ru_maxrss * 1024,
            "own_cpu_s": own_cpu,
            "others_cpu_s": max(busy - own_cpu, 0.0),
            "others_cpu_share": max(busy - own_cpu, 0.0) / (wall * (os.cpu_count() or 1)),
            "load_before": load_before,
            "load_after": os.getloadavg(),
        }
    )
    result_file.write_text(json.dumps(result, default=str, indent=2))
    print(f"gridaudit bench: {label} took {wall:.1f} s", flush=True)
    return result


# ------------------------------------------------------------------ the machine


def _command(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT).stdout
    except OSError:
        return ""


def machine_description() -> dict:
    lscpu = dict(line.split(":", 1) for line in _command("lscpu").splitlines() if ":" in line)
    with open("/proc/meminfo") as f:
        mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])

    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    import duckdb

    # other people's edits in progress change what is measured: name them
    dirty = [
        line[3:]
        for line in _command("git", "status", "--porcelain", "--untracked-files=no").splitlines()
    ]
    return {
        "cpu_model": lscpu.get("Model name", platform.processor()).strip(),
        "cpus": os.cpu_count(),
        "threads_per_core": lscpu.get("Thread(s) per core", "").strip(),
        "hypervisor": lscpu.get("Hypervisor vendor", "").strip() or "none",
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "dagster": version("dagster"),
        "dagster_dbt": version("dagster-dbt"),
        "pandas": version("pandas"),
        "great_expectations": version("great-expectations"),
        "commit": _command("git", "rev-parse", "--short", "HEAD").strip()
        + (f" with uncommitted changes in {', '.join(dirty)}" if dirty else ""),
    }


# --------------------------------------------------------------------- the bench


def _window(landing: Path) -> tuple[dt.date, dt.date]:
    days = sorted({p.name.split(".")[0] for p in landing.glob("*/*/*.csv*")})
    if not days:
        raise SystemExit(f"gridaudit bench: no landing files under {landing}")
    return dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])


def bench(
    preset: str,
    out: Path | None = None,
    skip_generate: bool = False,
    backfill_days: int | None = None,
    repeats: int = 3,
    doc: Path = DOC,
    seed: int = 42,
    skip_rerun: bool = False,
    resume: bool = False,
    skip_pandas: bool = False,
) -> dict:
    from dagster_project.cli import prepare_dbt
    from dagster_project.generator.presets import PRESETS

    if preset not in PRESETS:
        raise SystemExit(
            f"gridaudit bench: unknown preset {preset!r} (known: {', '.join(PRESETS)})"
        )
    out = (out or ROOT / "data" / "bench" / preset).resolve()
    out.mkdir(parents=True, exist_ok=True)
    landing, truth, workdir = out / "landing", out / "truth", out / "work"
    backfill_days = DEFAULT_BACKFILL_DAYS.get(preset, 0) if backfill_days is None else backfill_days
    report: dict = {
        "preset": preset,
        "out": str(out),
        "machine": machine_description(),
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "load_before": os.getloadavg(),
        "repeats": repeats,
    }
    busy_before, began = machine_cpu_busy_seconds(), time.perf_counter()
    print(
        f"gridaudit bench: preset {preset} in {out}; load average before "
        f"{_load(report['load_before'])}",
        flush=True,
    )

    generated_file = out / "generate.json"
    if not landing.is_dir():
        if skip_generate:
            raise SystemExit(f"gridaudit bench: --skip-generate, but {landing} does not exist")
        result = run_phase(
            "generate", {"preset": preset, "out": str(out), "seed": seed}, out, "generate"
        )
        generated_file.write_text(json.dumps(result, default=str, indent=2))
        report["generate"] = {**result, "reused": False}
    else:
        earlier = json.loads(generated_file.read_text()) if generated_file.exists() else {}
        report["generate"] = {**earlier, "reused": True}
    prepare_dbt()  # a stale manifest is parsed here, not inside a measured run

    first, last = _window(landing)
    saved_file = out / f"bench-{preset}.json"
    saved = json.loads(saved_file.read_text()) if resume and saved_file.exists() else {}
    if resume and ("history" not in saved or not workdir.exists()):
        raise SystemExit(
            f"gridaudit bench: --resume needs {saved_file} with a measured history and {workdir}"
        )
    if resume:  # the history stays measured as it was; the later phases run again
        report["history"] = {**saved["history"], "resumed": True}
    elif workdir.exists():  # a fresh warehouse: the history run is a first build
        shutil.rmtree(workdir)
    run_env = {"DAGSTER_HOME": str(workdir / "dagster_home")}

    def pipeline(label: str, start: dt.date, end: dt.date) -> dict:
        result = run_phase(
            "run",
            {"start": start, "end": end, "landing": str(landing), "workdir": str(workdir)},
            out,
            label,
            run_env,
        )
        if not result["ok"]:
            report[label] = result  # what was measured so far stays readable
            (out / f"bench-{preset}.json").write_text(json.dumps(report, default=str, indent=2))
            raise SystemExit(
                f"gridaudit bench: the {label} run failed; see {out / 'bench' / (label + '.log')}"
            )
        return result

    def save() -> None:  # after every phase: what was measured survives an interrupted bench
        (out / f"bench-{preset}.json").write_text(json.dumps(report, default=str, indent=2))

    if not resume:
        report["history"] = pipeline("history", first, last - dt.timedelta(days=1))
        save()
    report["daily"] = pipeline("daily", last, last)
    save()
    if not skip_rerun:
        report["rerun"] = pipeline("rerun", last, last)
        save()
    published = workdir / "published" / "gridaudit.duckdb"
    report["published_bytes"] = published.stat().st_size
    floor_params = {
        "landing": str(landing),
        "day": last,
        "published": str(published),
        "warehouse": str(workdir / "warehouse.duckdb"),
        "repeats": repeats,
        "truth": str(truth) if (truth / "area_daily_loss.csv").exists() else None,
    }
    report["floor_duckdb"] = run_phase("floor_duckdb", floor_params, out, "floor_duckdb")
    save()
    if skip_pandas:
        report["floor_pandas"] = {"skipped": True}
    else:
        try:  # an analyst's pandas script may not fit in memory at province size: a result
            report["floor_pandas"] = run_phase("floor_pandas", floor_params, out, "floor_pandas")
        except SystemExit as failed:
            report["floor_pandas"] = {"failed": str(failed)}
    save()
    if backfill_days:
        report["backfill"] = pipeline(
            "backfill",
            max(first + dt.timedelta(days=1), last - dt.timedelta(days=backfill_days - 1)),
            last,
        )

    report["seconds"] = time.perf_counter() - began
    report["load_after"] = os.getloadavg()
    own = sum(
        report[k].get("own_cpu_s", 0.0)
        for k in (
            "generate",
            "history",
            "daily",
            "rerun",
            "backfill",
            "floor_duckdb",
            "floor_pandas",
        )
        if k in report and not report[k].get("reused") and not report[k].get("resumed")
    )
    busy = machine_cpu_busy_seconds() - busy_before
    report["others_cpu_s"] = max(busy - own, 0.0)
    report["others_cpu_share"] = report["others_cpu_s"] / (
        report["seconds"] * (os.cpu_count() or 1)
    )
    table = render(report)
    print("\n" + table)
    write_doc(doc, preset, table)
    (out / f"bench-{preset}.json").write_text(json.dumps(report, default=str, indent=2))
    print(
        f"\ngridaudit bench: wrote the {preset} section of {doc} and {out / f'bench-{preset}.json'}"
    )
    return report


# -------------------------------------------------------------------- the table


def _load(load: tuple | list) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


def _gb(n: float) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"


def _memory(phase: dict) -> str:
    # the sampler can miss the peak of a short phase; the largest process bounds it below
    tree = max(phase.get("peak_tree_memory_bytes", 0), phase["largest_process_rss_bytes"])
    return (
        f"peak memory {_gb(tree)} (process tree, PSS; largest process RSS "
        f"{_gb(phase['largest_process_rss_bytes'])})"
    )


def _others(phase: dict) -> str:
    return f"other processes used {phase['others_cpu_share']:.0%} of the CPUs meanwhile"


def _steps(phase: dict) -> str:
    kinds = phase["step_kinds"]
    named = ", ".join(
        f"{k} {kinds[k]:.1f} s" for k in ("extract", "dbt", "gate", "publish") if k in kinds
    )
    rest = phase["seconds"] - sum(kinds.values())
    return f"{named}, outside steps {rest:.1f} s"


def _equality(floor: dict) -> str:
    pub = floor["vs_published"]
    text = (
        f"{'equal' if pub['equal'] else 'NOT EQUAL'} to the published rows "
        f"({pub['rows_floor']} vs {pub['rows_reference']} rows, {pub['rows_differing']} "
        f"differing, largest rate difference {pub['max_rate_difference']:.1e}, "
        f"largest kWh difference {pub['max_kwh_difference']:.1e})"
    )
    if "vs_truth" in floor:
        text += f"; {'equal' if floor['vs_truth']['equal'] else 'NOT EQUAL'} to the truth"
    if floor.get("quarantined_rows_in_files_read"):
        text += (
            f"; the pipeline quarantined {floor['quarantined_rows_in_files_read']} rows "
            "of these files (not emulated by the floor)"
        )
    return text


def render(report: dict) -> str:
    m = report["machine"]
    gen, hist, daily, rerun = (
        report["generate"],
        report["history"],
        report["daily"],
        report.get("rerun"),
    )
    fd, fp = report["floor_duckdb"], report["floor_pandas"]
    rows = []
    if gen.get("seconds") is not None:
        size = (
            f"{gen.get('areas', '?')} areas, {gen.get('customers', '?')} customers, "
            f"{gen.get('days', '?')} days"
        )
        detail = [size, _memory(gen), _others(gen)]
        if gen["reused"]:
            detail.insert(
                0,
                "measured when this landing tree was generated (by an earlier "
                "bench run; the tree was reused)",
            )
        rows.append(("generation", f"{gen['seconds']:.1f} s", "; ".join(detail)))
    else:
        rows.append(("generation", "—", "the landing tree existed, its generation time is unknown"))
    resumed = (
        ["measured by an earlier bench of this tree, whose later phases were run again (--resume)"]
        if hist.get("resumed")
        else []
    )
    rows.append(
        (
            f"history load ({hist['days']} days as one run)",
            f"{hist['seconds']:.1f} s",
            "; ".join(
                [f"{hist['start']} .. {hist['end']}", *resumed, _memory(hist), _others(hist)]
            ),
        )
    )
    rows.append(
        (
            f"daily run ({daily['end']})",
            f"{daily['seconds']:.1f} s",
            "; ".join([_steps(daily), _memory(daily), _others(daily)]),
        )
    )
    if rerun:
        rows.append(
            (
                "re-run of that day",
                f"{rerun['seconds']:.1f} s",
                "; ".join([_steps(rerun), _memory(rerun), _others(rerun)]),
            )
        )
    else:
        rows.append(("re-run of that day", "—", "not measured (--skip-rerun)"))
    if "backfill" in report:
        bf = report["backfill"]
        rows.append(
            (
                f"backfill ({bf['days']} days as one run)",
                f"{bf['seconds']:.1f} s",
                "; ".join(
                    [
                        f"{bf['start']} .. {bf['end']} again on the loaded warehouse",
                        _steps(bf),
                        _memory(bf),
                        _others(bf),
                    ]
                ),
            )
        )
    rows.append(
        (
            "bare-DuckDB floor (same day)",
            f"{fd['seconds']:.2f} s",
            "; ".join(
                [
                    (f"median of {len(fd['runs'])}, of which GBK decoding {fd['decode_s']:.2f} s"),
                    _equality(fd),
                    _memory(fd),
                ]
            ),
        )
    )
    rows.append(("daily run / DuckDB floor", f"{daily['seconds'] / fd['seconds']:.0f}×", ""))
    if fp.get("skipped"):
        rows.append(("pandas script (same day)", "—", "not measured (--skip-pandas)"))
    elif "failed" in fp:
        last_line = fp["failed"].strip().splitlines()[-1]
        rows.append(
            ("pandas script (same day)", "failed", f"{fp['failed'].splitlines()[0]} {last_line}")
        )
    else:
        rows.append(
            (
                "pandas script (same day)",
                f"{fp['seconds']:.2f} s",
                "; ".join(
                    [
                        f"median of {len(fp['runs'])}",
                        _equality(fp) + " (kWh within 5e-5)",
                        _memory(fp),
                    ]
                ),
            )
        )
        rows.append(("daily run / pandas", f"{daily['seconds'] / fp['seconds']:.0f}×", ""))
    rows.append(
        (
            "published file",
            _gb(report["published_bytes"]),
            "work/published/gridaudit.duckdb after the last run of that day",
        )
    )
    gate = daily["step_kinds"].get("gate", 0.0)
    rows.append(
        (
            "gate's share of the daily run",
            f"{gate / daily['seconds']:.0%}",
            (
                f"{gate:.1f} s of {daily['seconds']:.1f} s (the raw tables' checks and the "
                "marts' checks)"
            ),
        )
    )
    idle = report["load_before"][0] < 0.5 and report["others_cpu_share"] < 0.05
    rows.append(
        (
            "load average (1/5/15 min)",
            f"{_load(report['load_before'])} → {_load(report['load_after'])}",
            f"before → after; other processes used {report['others_cpu_share']:.0%} of "
            f"the CPUs during the bench ({report['others_cpu_s']:.0f} CPU-s): "
            + (
                "the machine was idle"
                if idle
                else "the machine was NOT idle, the times are contaminated"
            ),
        )
    )
    head = (
        f"Preset `{report['preset']}`, {report['started']}: {m['cpu_model']}, "
        f"{m['cpus']} CPUs ({m['threads_per_core']} thread(s) per core, hypervisor "
        f"{m['hypervisor']}), {m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, "
        f"DuckDB {m['duckdb']}, dbt-core {m['dbt_core']}, dbt-duckdb {m['dbt_duckdb']}, "
        f"Dagster {m['dagster']}, dagster-dbt {m['dagster_dbt']}, pandas {m['pandas']}, "
        f"GX {m['great_expectations']}; commit {m['commit']}; bench took "
        f"{report['seconds'] / 60:.1f} min."
    )
    lines = [head, "", "| measure | value | detail |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def write_doc(doc: Path, preset: str, table: str) -> None:
    """Replace the preset's section of docs/benchmarks.md (between its markers), or append
    it; the rest of the file is left as it is."""
    begin, end = f"<!-- bench:{preset} -->", f"<!-- /bench:{preset} -->"
    section = f"{begin}\n## `{preset}`\n\n{table}\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_phase"]:  # a phase's child process (run_phase)
        _phase_main(*argv[1:4])
        return 0
    from dagster_project.generator.presets import PRESETS

    parser = argparse.ArgumentParser(
        prog="gridaudit bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser, tuple(PRESETS))
    args = parser.parse_args(argv)
    bench_from_args(args)
    return 0


def add_arguments(parser: argparse.ArgumentParser, presets: tuple[str, ...]) -> None:
    """The options of `gridaudit bench` (also used by dagster_project/cli.py)."""
    parser.add_argument("--preset", choices=presets, default="demo")
    parser.add_argument(
        "--out",
        type=Path,
        help="landing tree, work directory and results (default "
        "data/bench/PRESET); a landing tree there is reused",
    )
    parser.add_argument(
        "--skip-generate", action="store_true", help="never generate: OUT/landing must exist"
    )
    parser.add_argument(
        "--backfill-days",
        type=int,
        help="re-run the last N days as one run at the end (default 21 for "
        "city, none otherwise; 0 = none)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each floor (the median is reported)"
    )
    parser.add_argument(
        "--doc", type=Path, default=DOC, help="the file whose preset section is replaced"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--skip-rerun",
        action="store_true",
        help="do not re-run the last day (at province size it costs as much as the daily run)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep OUT/work and the history measured by the last bench of OUT "
        "(OUT/bench-PRESET.json); run the daily run and the later phases again",
    )
    parser.add_argument("--skip-pandas", action="store_true", help="do not run the pandas script")


def bench_from_args(args: argparse.Namespace) -> dict:
    return bench(
        args.preset,
        args.out,
        args.skip_generate,
        args.backfill_days,
        args.repeats,
        args.doc,
        args.seed,
        args.skip_rerun,
        args.resume,
        args.skip_pandas,
    )


if __name__ == "__main__":
    sys.exit(main())
