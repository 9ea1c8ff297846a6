"""Orchestration: world -> scenario -> anomalies -> registers -> landing files -> truth."""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.lib import audit_settings
from dagster_project.lib.landing_contract import TABLES

from . import anomalies, billing, readings, rules, scenario, truth, world
from .archive import Archive
from .presets import PRESETS
from .writer import LandingWriter

log = logging.getLogger("gridaudit.generator")

TRUTH_README = """# Generator truth

Written by `dagster_project.generator.generate` next to the landing tree it describes.

* `area_daily_loss.csv` — one row per in-service area (G_TG RUN_STATUS_CODE '01' as of D)
  and day D of the window except the first: tg_id, data_date, org_no, supply_kwh,
  sales_kwh, loss_kwh, loss_rate, loss_status (qualified | high | negative | uncomputable),
  meter_count, meter_read_count, uncomputable_reason. Computed from the generator's own
  integer values by the conventions of docs/architecture.md applied to what the landing
  files say (final state of late/corrected reads, archive as of the newest snapshot <= D,
  marketing multiplier, exchange formula, roll-over, PV export in supply, check-meter
  reverse energy in sales, completeness over active settlement metering points).
  supply/sales are empty when the check meter is not computable.
* `anomalies.csv` — one row per finding run: rule_code, tg_id, org_no, cons_no (empty for
  area and application findings), app_no (E01 only), first_date, last_date (every day in
  between is a day on which the rule fires), description (the injected anomaly, or
  "implied by ..." for a code another injection necessarily causes). An anomaly that
  fires on non-consecutive days has one row per run. L01/L02/L03 are the runs of
  high/negative/uncomputable days of area_daily_loss.csv.
* `summary.json` — preset, seed, window, snapshot days, rows per table, findings per code.

Rule conventions used for the labels (where audit-rules.md is silent):
* Customer findings name the customer's area as C_CONS.TG_ID as of D (C_MP.TG_ID for the
  virtual 'T'||TG_NO account of a check meter, e.g. A05 on a check meter).
* A01 compares only the areas that exist (a customer without GIS row / link / E_DATA_MP is
  not an A01 finding). A02/A03 on G_TG areas; A04/A05 on every MP in both C_METER and
  E_DATA_MP; A06..A09, M*, T01 on active customers (C_CONS STATUS_CODE '1') and active
  settlement MPs. A07: a customer fires when any of its contacts has an empty/invalid
  mobile or a mobile used by more than 5 customers. A08: newest contract by VALID_DATE.
* E01 fires when (D - APPLY_DATE) in days > limit. B01 uses the latest delivery on or
  before D and fires when D - DUE_DATE > 30 days. B02 fires on every day D the receivable
  is delivered (READ_SRC '03' always; the mismatch when month M ended before D and can be
  measured): the measured energy of M is the register difference between the readings
  nearest (within 3 days, on or before D; a tie goes to the one inside M) to the end of
  M-1 and the end of M, times the multiplier (exchange formula for a meter change in
  between, roll-over as for a day), pro-rated to M's days; measurable when the span covers
  at least 90 % of M's days (docs/architecture.md, B02). Mismatch: |T_PQ - measured| >
  10 % of measured and > 20 kWh.
* M01 needs readings missing on D-2..D (window days only); M02 needs 14 computable zero
  days D-13..D; M03/M04/M05 fire on the day itself. M06: baseline = mean of D-14..D-1,
  recent = mean of D-2..D; T01: before = mean of E-14..E-1, after = mean of E+1..E+7 (E =
  the event's start day). Means are over days with a computable energy, and M06/T01 only
  fire when the whole baseline window lies in the data (D-14, resp. E-14, is at least the
  second day of the window). T01 fires on D in [E+7, E+13] (the after-window must be
  complete); M07 fires on D in [E, E+6]. Events map to customers by DATA_ID -> E_DATA_MP
  -> C_MP; terminal-level events (no DATA_ID) and codes outside the catalogue's lists
  (e.g. ERC14 power-off) are not findings.
"""


def _day_state(snap_days: list[int], n: int) -> list[int]:
    out, k = [], 0
    for d in range(n):
        while k + 1 < len(snap_days) and snap_days[k + 1] <= d:
            k += 1
        out.append(k)
    return out


def generate(
    preset: str, out: Path, seed: int = 42, start: dt.date | None = None, days: int | None = None
) -> dict:
    """Generate the landing tree and truth of a preset into `out`; returns the summary.

    Files are written by min(2, CPUs) forked processes (GRIDAUDIT_GENERATOR_WORKERS overrides);
    the output does not depend on the number of processes."""
    workers = int(os.environ.get("GRIDAUDIT_GENERATOR_WORKERS", "0")) or None
    t0 = time.time()
    p = PRESETS[preset]
    start = start or p.start
    n = int(days or p.days)
    if n < 3:
        raise ValueError("at least 3 days")
    out = Path(out)
    for sub in ("landing", "truth"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    rng = np.random.default_rng(seed)
    w = world.World(p, seed, start, n, rng)
    w.snap_days = world.snapshot_days(n)
    n_new = max(2, p.n_customers // 400)
    world.build(w, n_new)
    log.info("%-20s %6.1f s", "world", time.time() - t0)
    # roll-over meters: old 5-digit single-rate meters close to full scale
    pool = np.flatnonzero(
        (w.kind == world.RES) & ~w.pv & ~w.area_hv[w.cust_area] & (np.arange(w.NC) < w.N0)
    )
    roll = rng.choice(pool, max(3, w.N0 // 5000), replace=False)
    w.digits[roll] = 5
    arc = Archive(w.snap_days)
    for t, df in world.base_tables(w).items():
        arc.set_base(t, df)
    s = scenario.init(w, arc)
    s.used |= {int(i) for i in roll}
    scenario.baseline(s, n_new)
    theft = anomalies.inject(s)
    anomalies.inject_apps(s)
    log.info("%-20s %6.1f s", "scenario+anomalies", time.time() - t0)
    _apps_to_archive(s)
    readings.registers(s, theft)
    log.info("%-20s %6.1f s", "registers", time.time() - t0)
    rcv, pay = billing.build(s)
    log.info("%-20s %6.1f s", "billing", time.time() - t0)
    t_model = time.time()

    snapshots = list(arc.states())
    states = [truth.build_state(s, day, tables) for day, tables in snapshots]
    day_state = _day_state(w.snap_days, n)
    late = readings._late(s)
    tasks = (
        [("snap", k) for k in range(len(snapshots))]
        + [("reads", d) for d in range(n)]
        + [("deltas", 0)]
    )
    global _CTX
    _CTX = (s, out / "landing", snapshots, rcv, pay, late)
    results = _run_tasks(tasks, workers)
    _CTX = None
    manifest, counts = [], {}
    for man, cnt in results:
        manifest += man
        for k, v in cnt.items():
            counts[k] = counts.get(k, 0) + v
    t_write = time.time()
    log.info("%-20s %6.1f s", "landing written", time.time() - t0)
    settings = audit_settings.load()
    en = truth.energies(s, states, day_state, settings)
    log.info("%-20s %6.1f s", "energies", time.time() - t0)
    tl = truth.area_daily_loss(s, states, day_state, en, settings)
    log.info("%-20s %6.1f s", "area loss", time.time() - t0)
    f = rules.archive_findings(s, states, day_state, settings)
    log.info("%-20s %6.1f s", "archive rules", time.time() - t0)
    f += rules.meter_findings(s, states, day_state, en, settings)
    log.info("%-20s %6.1f s", "meter rules", time.time() - t0)
    f += rules.billing_findings(s, states, day_state, en, rcv.frame(), settings)
    log.info("%-20s %6.1f s", "billing rules", time.time() - t0)
    f += rules.loss_findings(tl, start)
    lab = _labels(s, states, day_state, rules.runs(f), tl)
    tdir = out / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    tl.to_csv(tdir / "area_daily_loss.csv", index=False, lineterminator="\n", float_format="%.15g")
    lab.to_csv(tdir / "anomalies.csv", index=False, lineterminator="\n")
    (tdir / "README.md").write_text(TRUTH_README, encoding="utf-8")
    size = sum(x.stat().st_size for x in (out / "landing").rglob("*") if x.is_file())
    summary = {
        "preset": preset,
        "seed": seed,
        "start": start.isoformat(),
        "days": n,
        "end": w.ds(n - 1),
        "snapshot_days": [w.ds(d) for d in w.snap_days],
        "areas": int(w.NA),
        "customers_initial": int(w.N0),
        "customers_total": int(w.NC),
        "counts_per_table": dict(sorted(counts.items())),
        "anomaly_counts": {
            k: int(v) for k, v in lab["rule_code"].value_counts().sort_index().items()
        },
        "anomaly_customers_or_areas": {
            k: int(v)
            for k, v in lab.groupby("rule_code")[["tg_id", "cons_no", "app_no"]]
            .apply(lambda g: len(g.drop_duplicates()))
            .items()
        },
        "loss_status_counts": {
            k: int(v) for k, v in tl["loss_status"].value_counts().sort_index().items()
        },
        "landing_bytes": int(size),
        "files": len(manifest),
        "settings_fingerprint": audit_settings.fingerprint(),
    }
    (tdir / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    summary["seconds"] = {
        "model": round(t_model - t0, 1),
        "landing": round(t_write - t_model, 1),
        "truth": round(time.time() - t_write, 1),
        "total": round(time.time() - t0, 1),
    }
    summary["manifest"] = manifest
    return summary


_CTX = None


def _task(task) -> tuple[list, dict]:
    """Write one unit of landing files (runs in a forked worker or in-process)."""
    s, root, snapshots, rcv, pay, late = _CTX
    w = s.w
    wr = LandingWriter(root)
    counts: dict[str, int] = {}
    kind, k = task
    if kind == "snap":
        day, tables = snapshots[k]
        for t in TABLES:
            if t.kind == "snapshot":
                gz = t.name == "C_CONTACT" and day == w.snap_days[-1]
                wr.write(t.system, t.name, w.date(day), tables[t.name].chunks(), gz=gz)
                counts[t.name] = counts.get(t.name, 0) + wr.manifest[-1]["rows"]
    elif kind == "reads":
        chunks = readings.day_file(s, k, late)
        wr.write("acquisition", "E_MP_DAY_READ", w.date(k), chunks, gz=(k % 4 == 3))
        counts["E_MP_DAY_READ"] = wr.manifest[-1]["rows"]
    else:
        _write_deltas(s, wr, rcv, pay, counts)
    return wr.manifest, counts


def _run_tasks(tasks: list, workers: int | None) -> list:
    workers = workers or min(2, os.cpu_count() or 1)
    if workers <= 1:
        return [_task(t) for t in tasks]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        return pool.map(_task, tasks, chunksize=1)


def _apps_to_archive(s: scenario.Sim) -> None:
    base, arc = [], s.arc
    for versions in s.apps:
        first_day, row = versions[0]
        if first_day == 0:
            base.append(row)
        else:
            arc.ins(first_day, "APP_BIZ", row)
        for day, r in versions[1:]:
            arc.upd(day, "APP_BIZ", r["APP_NO"], **{k: v for k, v in r.items() if k != "APP_NO"})
    arc.set_base("APP_BIZ", pd.DataFrame(base))


def _write_deltas(
    s: scenario.Sim,
    wr: LandingWriter,
    rcv: billing.Receivables,
    pay: billing.Payments,
    counts: dict,
) -> None:
    w, n = s.w, s.n
    rng = np.random.default_rng([w.seed, 7])  # own stream: the output does not depend on task order

    def add(t, k):
        counts[t] = counts.get(t, 0) + k

    # C_METER_CHG: only on days with changes (no file otherwise)
    by_day: dict[int, list] = {}
    for k, ex in enumerate(sorted(s.exchanges, key=lambda e: (e["day"], e["i"]))):
        i = ex["i"]
        by_day.setdefault(ex["day"], []).append(
            {
                "CHG_ID": f"CHG{w.date(ex['day']):%Y%m%d}{k + 1:05d}",
                "MP_ID": w.mp_id[i],
                "CHG_DATE": w.ds(ex["day"]),
                "OLD_ASSET_NO": ex["old_asset"],
                "NEW_ASSET_NO": ex["new_asset"],
                "OLD_END_READ": ex["old_end"] / 100,
                "NEW_START_READ": ex["new_start"] / 100,
                "OLD_T_FACTOR": str(ex["f_old"]),
                "NEW_T_FACTOR": str(ex["f_new"]),
            }
        )
    for d, rows in sorted(by_day.items()):
        wr.write("marketing", "C_METER_CHG", w.date(d), pd.DataFrame(rows))
        add("C_METER_CHG", len(rows))
    # E_EVENT: first delivery on the start day, again when closed later
    ev_rows: dict[int, list] = {}
    for k, ev in enumerate(s.events):
        m = ev.get("mp")
        area = ev["area"] if m is None else int(s.phys_area[m, ev["day"]])
        st = dt.datetime.combine(w.date(ev["day"]), dt.time()) + dt.timedelta(
            seconds=int(rng.integers(0, 20 * 3600))
        )
        row = {
            "EVENT_ID": f"EV{w.date(ev['day']):%Y%m%d}{k + 1:06d}",
            "DATA_ID": "" if m is None else w.data_id[m],
            "TMNL_ASSET_NO": w.tmnl_asset[area],
            "EVENT_CODE": ev["code"],
            "START_TIME": st.strftime("%Y-%m-%d %H:%M:%S"),
            "END_TIME": "",
            "EVENT_DESC": ev["desc"],
        }
        close = ev["close"]
        end = (
            (st + dt.timedelta(seconds=int(rng.integers(600, 4 * 3600))))
            if close == ev["day"]
            else (dt.datetime.combine(w.date(close), dt.time(9, 30)) if close is not None else None)
        )
        if close == ev["day"]:
            row["END_TIME"] = end.strftime("%Y-%m-%d %H:%M:%S")
        ev_rows.setdefault(ev["day"], []).append(row)
        if close is not None and close > ev["day"] and close < n:
            ev_rows.setdefault(close, []).append(
                {**row, "END_TIME": end.strftime("%Y-%m-%d %H:%M:%S")}
            )
    for d in range(n):
        if ev_rows.get(d):
            wr.write("acquisition", "E_EVENT", w.date(d), pd.DataFrame(ev_rows[d]))
            add("E_EVENT", len(ev_rows[d]))
    # collection: a file every day (header only when nothing happened)
    for d in range(n):
        r = rcv.rows_of_day(d)
        wr.write("collection", "A_RCVBL_FLOW", w.date(d), _slices(rcv, r))
        add("A_RCVBL_FLOW", len(r))
        q = pay.rows_of_day(d)
        wr.write("collection", "A_PAY_FLOW", w.date(d), _slices(pay, q))
        add("A_PAY_FLOW", len(q))


def _slices(table, pos: np.ndarray):
    for k in range(0, len(pos), billing.CHUNK_ROWS):
        yield table.columns(pos[k : k + billing.CHUNK_ROWS])


def _labels(s, states, day_state, runs: pd.DataFrame, tl: pd.DataFrame) -> pd.DataFrame:
    w = s.w
    plan = s.plan
    by_key: dict[tuple, list] = {}
    by_cons: dict[str, list] = {}
    by_tg: dict[str, list] = {}
    for p in plan:
        by_key.setdefault((p["code"], p["cons"] or p["app"] or p["tg"]), []).append(p["desc"])
        if p["cons"]:
            by_cons.setdefault(p["cons"], []).append(p)
        if p["tg"]:
            by_tg.setdefault(p["tg"], []).append(p)
    org_of_app = {}
    for st in states:
        ab = st.tables["APP_BIZ"]
        org_of_app.update(dict(zip(ab["APP_NO"], ab["ORG_NO"])))
    area_of_tg = {tg: a for a, tg in enumerate(w.tg_id)}
    rows = []
    for r in runs.itertuples(index=False):
        key = (r.rule_code, r.cons_no or r.app_no or r.tg_id)
        if key in by_key:
            desc = "; ".join(dict.fromkeys(by_key[key]))
        elif r.cons_no and r.cons_no in by_cons:
            desc = "implied by " + "; ".join(
                dict.fromkeys(f"{p['code']} ({p['desc']})" for p in by_cons[r.cons_no])
            )
        elif r.tg_id and r.tg_id in by_tg and not r.cons_no:
            desc = "implied by " + "; ".join(
                dict.fromkeys(f"{p['code']} {p['cons']} ({p['desc']})" for p in by_tg[r.tg_id])
            )
        elif r.rule_code == "L03":
            desc = "acquisition failures (random, baseline) push the area below the completeness threshold"
        else:
            desc = "UNPLANNED"
        st = states[day_state[r.first_day]]
        org = st.area_org[area_of_tg[r.tg_id]] if r.tg_id else org_of_app.get(r.app_no, "")
        rows.append(
            {
                "rule_code": r.rule_code,
                "tg_id": r.tg_id,
                "org_no": org,
                "cons_no": r.cons_no,
                "app_no": r.app_no,
                "first_date": w.ds(r.first_day),
                "last_date": w.ds(r.last_day),
                "description": desc,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "rule_code",
            "tg_id",
            "org_no",
            "cons_no",
            "app_no",
            "first_date",
            "last_date",
            "description",
        ],
    )
