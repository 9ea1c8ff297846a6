"""Benchmark: how long the pipeline takes, and that a daily run costs one day of data.

    python3 -m uv run python benchmarks/daily_run.py [--preset demo] [--out DIR]

Generates the preset (unless OUT/landing exists), runs the whole window but the last day
as one run (the "history"), then runs the last day alone twice: once as the daily run
and once again (a re-run). Prints wall time per phase, peak memory (RSS of this process
and its dbt subprocesses), the time of each step of the daily run (extract, dbt, gate,
publish) and the gate's share of the daily run. Numbers, not asserts: goals live here,
not in unit tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import sys
import time
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dagster_project.cli import prepare_dbt, run_pipeline


def landing_window(landing: Path) -> tuple[dt.date, dt.date]:
    days = sorted({p.name.split(".")[0] for p in landing.glob("*/*/*.csv*")})
    return dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])


def step_seconds(instance: dg.DagsterInstance) -> dict[str, float]:
    """Seconds per step of the newest run."""
    run = instance.get_runs(limit=1)[0]
    stats = instance.get_run_step_stats(run.run_id)
    return {s.step_key: round((s.end_time or 0) - (s.start_time or 0), 2) for s in stats}


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="demo", choices=("tiny", "demo"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/gridaudit-bench"))
    parser.add_argument(
        "--history-days",
        type=int,
        default=None,
        help="days of history before the measured day (default: all)",
    )
    parser.add_argument(
        "--label", default="", help="suffix of the work directory (to compare two code versions)"
    )
    args = parser.parse_args()

    report: dict[str, object] = {"preset": args.preset}
    landing = args.out / "landing"
    if not landing.is_dir():
        from dagster_project.generator import generate

        began = time.monotonic()
        generate(args.preset, args.out)
        report["generate_s"] = round(time.monotonic() - began, 1)
    prepare_dbt()
    first, last = landing_window(landing)
    if args.history_days:
        # start on a snapshot delivery day (the archives are weekly snapshots), so the
        # history run's gate sees every archive from its first day on
        wanted = last - dt.timedelta(days=args.history_days)
        snapshot_days = sorted(
            dt.date.fromisoformat(p.name.split(".")[0])
            for p in landing.glob("marketing/C_MP/*.csv*")
        )
        first = max([d for d in snapshot_days if d <= wanted] or [first])
    history_end = last - dt.timedelta(days=1)
    workdir = (
        args.out / f"work-{(history_end - first).days + 1}d{'-' + args.label if args.label else ''}"
    )
    if workdir.exists():  # a fresh warehouse: the history run is a first build
        shutil.rmtree(workdir)
    report["code"] = str(ROOT)
    instance = dg.DagsterInstance.ephemeral()

    began = time.monotonic()
    ok = run_pipeline(first, history_end, landing, workdir, instance=instance)
    report["history_days"] = (history_end - first).days + 1
    report["history_run_s"] = round(time.monotonic() - began, 1)
    report["history_ok"] = ok
    print(json.dumps(report, default=str), flush=True)

    for label in ("daily_run", "daily_rerun"):
        began = time.monotonic()
        ok = run_pipeline(last, last, landing, workdir, instance=instance)
        report[f"{label}_s"] = round(time.monotonic() - began, 1)
        report[f"{label}_ok"] = ok
        steps = step_seconds(instance)
        report[f"{label}_steps_s"] = steps
        gate = sum(v for k, v in steps.items() if "gate" in k)
        report[f"{label}_gate_share"] = round(gate / max(sum(steps.values()), 1e-9), 3)
        print(json.dumps({label: report[f"{label}_s"], "steps_s": steps}, default=str), flush=True)
    report["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
