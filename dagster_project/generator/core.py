"""Orchestration: world -> scenario -> anomalies -> registers -> landing files -> truth."""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.lib import audit_settings
from dagster_project.lib.landing_contract import TABLES, TABLES_BY_NAME

from . import anomalies, billing, readings, rules, scenario, truth, work_orders, world
from .archive import Archive, TableState
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
* `thefts.csv` — the cases of the theft ranking (marts.theft_suspects,
  benchmarks/theft_ranking.py), one row per customer: cons_no, tg_id, kind (`theft`;
  the negatives `vacancy` (M02), `shop_closed` (a shop's consumption down to 5-10 %, the
  area's supply falls with it), `short_drop` (M06 x0.12 for up to 6 days), `event_decoy`
  (an ERC37 of a meter check, no drop)), event_code and event_date (empty: a theft without
  any event, a bypass before the meter), drop_start (first day of the lower energy),
  drop_end (last day; empty: to the end of the window), metered_share (the share of the
  energy still recorded). Windows shorter than 23 days inject no theft.
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


SAMPLE_README = """
## Labels of a sample of areas

This preset is too large to evaluate the rule catalogue on every customer: `anomalies.csv`
holds the findings of {areas} areas only, every area an injection touches ({planned}) plus
areas drawn at random, listed in `summary.json` (`label_sample.tg_ids`). Within them the
labels are complete: every finding whose tg_id is a sampled area (a customer finding names
C_CONS.TG_ID as of D), and every E01 of an application that names no customer. The archive
rules read the sampled areas' rows (customers, their contacts and the contacts that share a
mobile with them, metering points, meters, acquisition records, GIS rows); the meter,
billing and loss rules are evaluated as everywhere and kept for the sampled areas.
`area_daily_loss.csv` is not sampled: it holds every in-service area and day. The work
orders (and so the answers in `landing/feedback` and the loop's truth) are those of the
labelled findings only: the pipeline, which sees every area, dispatches more orders than
the truth holds, and those stay unanswered.
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

    Files are written by min(2, CPUs) forked processes (GRIDAUDIT_GENERATOR_WORKERS overrides)
    while this process computes the truth; the output does not depend on the number of
    processes."""
    workers = int(os.environ.get("GRIDAUDIT_GENERATOR_WORKERS", "0")) or min(2, os.cpu_count() or 1)
    t0 = time.time()
    clock = _Clock(t0)
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
    clock.lap("world")
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
    clock.lap("scenario")
    theft = anomalies.inject(s)
    anomalies.inject_apps(s)
    clock.lap("anomalies")
    _apps_to_archive(s)
    readings.registers(s, theft)
    del theft
    clock.lap("registers")
    rcv, pay = billing.build(s)
    clock.lap("billing")
    _release_model(s)
    t_model = time.time()

    snapshots = list(arc.states())
    day_state = _day_state(w.snap_days, n)
    late = readings._late(s)
    sample = _label_sample(s, p)
    tasks = (
        [("snap", k, t.name) for k in range(len(snapshots)) for t in TABLES if t.kind == "snapshot"]
        + [("reads", d, "") for d in range(n)]
        + [("events", 0, "")]
        + [("collection", d, "") for d in range(n)]
    )
    global _CTX
    _CTX = (s, out / "landing", snapshots, rcv, pay, late)
    tdir = out / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    # the truth is computed here while the workers write the landing files
    with _Tasks(tasks, workers, _task_size(s, snapshots, rcv, pay)) as running:
        tl, lab, loop = _truth(s, snapshots, day_state, rcv, sample, tdir, clock)
        t_truth = time.time()
        results = running.results()
        t_write = time.time()
    _CTX = None
    manifest, counts = [], {}
    for man, cnt in results:
        manifest += man
        for k, v in cnt.items():
            counts[k] = counts.get(k, 0) + v
    log.info("%-20s %6.1f s", "landing written", t_write - t0)
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
        "work_orders": loop,
        "landing_bytes": int(size),
        "files": len(manifest),
        "settings_fingerprint": audit_settings.fingerprint(),
    }
    if sample is not None:
        summary["label_sample"] = _sample_summary(s, sample)
    (tdir / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    summary["seconds"] = {
        "model": round(t_model - t0, 1),
        "landing": round(t_write - t_model, 1),  # the writers, in parallel with the truth
        "truth": round(t_truth - t_model, 1),
        "total": round(time.time() - t0, 1),
        "stages": clock.laps,
        "stages_cpu": clock.cpu_laps,  # this process only (the writers are others)
    }
    summary["manifest"] = manifest
    return summary


class _Clock:
    """Seconds per stage, logged as the generator goes."""

    def __init__(self, t0: float):
        self.t0 = self.last = t0
        self.cpu = time.process_time()
        self.laps: dict[str, float] = {}
        self.cpu_laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now, cpu = time.time(), time.process_time()
        self.laps[name] = round(now - self.last, 1)
        self.cpu_laps[name] = round(cpu - self.cpu, 1)
        self.last, self.cpu = now, cpu
        log.info(
            "%-20s %6.1f s (%.1f s, CPU %.1f s)",
            name,
            now - self.t0,
            self.laps[name],
            self.cpu_laps[name],
        )


def _truth(s, snapshots, day_state, rcv, sample, tdir: Path, clock: _Clock):
    """area_daily_loss.csv, anomalies.csv, the work-order loop (landing/feedback and its
    truth, work_orders.py) and README.md of `tdir`; returns (loss, labels, loop summary)."""
    w = s.w
    settings = audit_settings.load()
    clock.last, clock.cpu = time.time(), time.process_time()
    states = [
        truth.build_state(s, day, tables, rule_tables=_RuleTables(s, tables, sample))
        for day, tables in snapshots
    ]
    clock.lap("truth: states")
    en = truth.energies(s, states, day_state, settings)
    clock.lap("truth: energies")
    tl = truth.area_daily_loss(s, states, day_state, en, settings)
    clock.lap("truth: area loss")
    tg_sample = None if sample is None else set(w.tg_id[sample])
    f = rules.archive_findings(s, states, day_state, settings, sampled=sample is not None)
    clock.lap("rules: archive")
    f += rules.meter_findings(s, states, day_state, en, settings, sample=sample)
    clock.lap("rules: meter")
    deliveries = rcv.frame(_rcv_rows(rcv, states, sample))
    f += rules.billing_findings(s, states, day_state, en, deliveries, settings)
    del en, deliveries
    clock.lap("rules: billing")
    f += rules.loss_findings(tl, w.start)
    if tg_sample is not None:
        # the findings of the sampled areas (and the applications that name no customer)
        f = [x for x in f if x[1] in tg_sample or (x[0] == "E01" and x[1] == "")]
    lab = _labels(s, states, day_state, rules.runs(f), tl)
    truth.write_csv(tl, tdir / "area_daily_loss.csv")
    lab.to_csv(tdir / "anomalies.csv", index=False, lineterminator="\n")
    _theft_labels(s).to_csv(tdir / "thefts.csv", index=False, lineterminator="\n")
    clock.lap("truth: labels")
    loop = work_orders.generate_loop(s, snapshots, lab, tl, tdir, tdir.parent / "landing", settings)
    readme = TRUTH_README + work_orders.README.format(
        policy="dbt/seeds/dispatch_policy.csv"
        if work_orders.POLICY_SEED.exists()
        else "the contract's values (work_orders.CONTRACT_POLICY; the seed is not there yet)"
    )
    if sample is not None:
        readme += SAMPLE_README.format(
            areas=int(sample.sum()), planned=int(_planned_areas(s).sum())
        )
    (tdir / "README.md").write_text(readme, encoding="utf-8")
    clock.lap("truth: work orders")
    return tl, lab, loop


def _theft_labels(s) -> pd.DataFrame:
    """truth/thefts.csv: the cases of the theft ranking (anomalies.py `_label_theft`): every
    theft with its event (if any), the first and last day of its drop (empty: it lasts),
    the share of the energy still metered; and the negatives, labelled by kind."""
    w = s.w

    def day(d) -> str:
        return "" if d is None else w.ds(int(d))

    rows = [
        {
            "cons_no": w.cons_no[t["i"]],
            "tg_id": w.tg_id[w.cust_area[t["i"]]],
            "kind": t["kind"],
            "event_code": t["event_code"],
            "event_date": day(t["event_day"]),
            "drop_start": day(t["drop_start"]),
            "drop_end": day(t["drop_end"]),
            "metered_share": round(t["metered_share"], 4),
        }
        for t in s.thefts
    ]
    cols = ["cons_no", "tg_id", "kind", "event_code", "event_date", "drop_start", "drop_end"]
    return pd.DataFrame(rows, columns=cols + ["metered_share"])


def _rcv_rows(rcv, states, sample) -> np.ndarray | None:
    """The deliveries the billing rules read: all, or those of customers whose C_CONS.TG_ID
    is a sampled area in some snapshot (the findings of other areas are dropped later)."""
    if sample is None:
        return None
    w = states[0].w
    mine = np.zeros(w.NC, bool)
    for st in states:
        mine |= (st.cust_tg >= 0) & sample[np.maximum(st.cust_tg, 0)]
    return np.flatnonzero(mine[rcv.c["i"]])


def _label_sample(s, p) -> np.ndarray | None:
    """The areas whose labels are computed (None: every area): every area an injection
    touches plus `p.label_sample_areas` others drawn at random (own random stream)."""
    w = s.w
    if not p.label_sample_areas:
        return None
    mask = _planned_areas(s)
    rest = np.flatnonzero(~mask)
    rng = np.random.default_rng([w.seed, 13])
    mask[rng.choice(rest, min(len(rest), p.label_sample_areas), replace=False)] = True
    return mask


def _planned_areas(s) -> np.ndarray:
    """Every area an injection names (its area, its customer's area)."""
    w = s.w
    mask = np.zeros(w.NA, bool)
    area_of_tg = {tg: a for a, tg in enumerate(w.tg_id)}
    for pl in s.plan:
        if pl["tg"]:
            mask[area_of_tg[pl["tg"]]] = True
        if pl.get("a") is not None:
            mask[int(pl["a"])] = True
        if pl.get("i") is not None:
            mask[w.cust_area[int(pl["i"])]] = True
    return mask


def _sample_summary(s, sample: np.ndarray) -> dict:
    planned = _planned_areas(s)
    return {
        "areas": int(sample.sum()),
        "planned_areas": int(planned.sum()),
        "random_areas": int(sample.sum() - planned.sum()),
        "note": "anomalies.csv holds the findings of these areas only (and E01 of applications "
        "without a customer); area_daily_loss.csv holds every area-day",
        "tg_ids": [str(x) for x in s.w.tg_id[sample]],
    }


def _release_model(s) -> None:
    """Drop the simulation arrays nothing reads after billing (most of the model's memory):
    the files and the truth read the registers, presence and archive only."""
    for ev in s.events:  # the area of an event, read by E_EVENT's TMNL_ASSET_NO
        m = ev.get("mp")
        ev["area"] = ev["area"] if m is None else int(s.phys_area[m, ev["day"]])
    for name in (
        "inc", "phys", "phys_area", "factor", "rap_inc", "alive", "has_edata", "fail",
        "flying", "load", "export", "extra_load",
    ):  # fmt: skip
        setattr(s, name, None)


_CTX = None


def _task(task) -> tuple[list, dict]:
    """Write one unit of landing files (runs in a forked worker or in-process)."""
    s, root, snapshots, rcv, pay, late = _CTX
    w = s.w
    wr = LandingWriter(root)
    counts: dict[str, int] = {}
    kind, k, name = task
    if kind == "snap":
        day, tables = snapshots[k]
        t = TABLES_BY_NAME[name]
        gz = t.name == "C_CONTACT" and day == w.snap_days[-1]
        wr.write(t.system, t.name, w.date(day), tables[t.name].chunks(), gz=gz)
        counts[t.name] = wr.manifest[-1]["rows"]
    elif kind == "reads":
        chunks = readings.day_file(s, k, late)
        wr.write("acquisition", "E_MP_DAY_READ", w.date(k), chunks, gz=(k % 4 == 3))
        counts["E_MP_DAY_READ"] = wr.manifest[-1]["rows"]
    elif kind == "events":
        _write_events(s, wr, counts)
    else:
        _write_collection(s, wr, rcv, pay, counts, k)
    return wr.manifest, counts


def _task_size(s, snapshots, rcv, pay):
    """A task's rough amount of text (rows x columns), to start the largest first."""

    def size(task) -> float:
        kind, k, name = task
        if kind == "snap":
            return len(snapshots[k][1][name]) * len(TABLES_BY_NAME[name].columns)
        if kind == "reads":
            return (s.w.NC + s.w.NA) * 10 * (1.6 if k % 4 == 3 else 1.0)  # gzip costs extra
        if kind == "collection":
            return len(rcv.rows_of_day(k)) * 12 + len(pay.rows_of_day(k)) * 8
        return len(s.events) * 7

    return size


class _Tasks:
    """Runs the landing tasks in forked workers (largest first) while the caller computes
    the truth; with one worker, in this process when the results are asked for. Results come
    back in the order of `tasks` (the manifest's order does not depend on the workers)."""

    def __init__(self, tasks: list, workers: int, size):
        self.tasks, self.workers = tasks, workers
        self.order = sorted(range(len(tasks)), key=lambda j: -size(tasks[j]))
        self.pool = None

    def __enter__(self):
        if self.workers > 1:
            self.pool = multiprocessing.get_context("fork").Pool(self.workers)
            self.async_result = self.pool.map_async(
                _task, [self.tasks[j] for j in self.order], chunksize=1
            )
        return self

    def results(self) -> list:
        if self.pool is None:
            return [_task(t) for t in self.tasks]
        got = self.async_result.get()
        out = [None] * len(self.tasks)
        for j, r in zip(self.order, got, strict=True):
            out[j] = r
        return out

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate() if exc[0] else self.pool.close()
            self.pool.join()
        return False


class _RuleTables(Mapping):
    """The tables the archive rules read for one snapshot, built when first read and
    dropped by `release()`: every table in full, or, when labels are sampled, the rows of
    the sampled areas' customers and metering points (rules.py, archive_findings)."""

    BIG = ("C_CONS", "C_CONTACT", "C_MP", "C_METER", "E_DATA_MP", "T_TX_DYYH")

    def __init__(self, s, tables: dict, sample: np.ndarray | None):
        self.s, self.t, self.sample = s, tables, sample
        self.cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.cache:
            if self.sample is not None and name in self.BIG:
                self.cache.update(sampled_tables(self.s.w, self.t, self.sample))
            elif self.sample is not None and name == "G_TG":  # A02/A03 of the sampled areas
                g = self.t[name].frame()
                self.cache[name] = g[g["TG_ID"].isin(set(self.s.w.tg_id[self.sample]))]
            else:
                self.cache[name] = self.t[name].frame()
        return self.cache[name]

    def __iter__(self):
        return iter(self.t)

    def __len__(self) -> int:
        return len(self.t)

    def release(self) -> None:
        self.cache.clear()


def sampled_tables(w, t: dict, sample: np.ndarray) -> dict[str, pd.DataFrame]:
    """The per-customer tables of a snapshot restricted to what the archive rules need for
    the sampled areas: customers whose C_CONS.TG_ID is sampled, their contacts (and the
    contacts sharing a mobile with them, with those customers, so that A07 counts a mobile's
    customers over the whole table), their metering points and the sampled areas' check
    metering points, the meters, acquisition records and GIS rows of those points."""
    tgs = pa.array(list(w.tg_id[sample]), type=pa.string())

    def rows(name: str, cust=None, area=None) -> TableState:
        masks = world.key_rows(w, name, t[name].upd)
        if cust is not None:
            masks["cust"] |= cust
        if area is not None:
            masks["area"] |= area
        return t[name].subset(masks)

    sets: dict[int, tuple] = {}

    def isin(v, values) -> pa.Array:
        if id(values) not in sets:  # the value set once, not per chunk
            sets[id(values)] = (values, pa.array(list(values), type=pa.string()))
        return pc.is_in(v, value_set=sets[id(values)][1])

    def customers(cons_no) -> np.ndarray:
        m = np.zeros(w.NC, bool)
        ci = world.cons_index(w, list(cons_no))
        m[ci[ci >= 0]] = True
        return m

    cons = rows("C_CONS", cust=sample[w.cust_area]).frame(lambda ch: pc.is_in(ch["TG_ID"], tgs))
    mine = set(cons["CONS_NO"])
    ct = rows("C_CONTACT", cust=customers(mine)).frame(lambda ch: isin(ch["CONS_NO"], mine))
    mobiles = set(ct["MOBILE"]) - {""}
    # the contacts sharing those mobiles: a base row's mobile is the world's number unless a
    # change replaced it (those rows, and inserted rows, are candidates anyway), so the
    # candidates are found by number, and the rows then by their exact value
    codes = world.mobile_codes(mobiles)
    sharing = np.isin(w.mobile1.codes(), codes) | np.isin(w.mobile2.codes(), codes)
    hits = rows("C_CONTACT", cust=sharing).frame(lambda ch: isin(ch["MOBILE"], mobiles))
    extra = set(hits["CONS_NO"]) - mine
    if extra:
        more = customers(extra)
        cons = rows("C_CONS", cust=sample[w.cust_area] | more).frame(
            lambda ch: pc.or_(pc.is_in(ch["TG_ID"], tgs), isin(ch["CONS_NO"], extra))
        )
        both = mine | extra
        ct = rows("C_CONTACT", cust=customers(mine) | more).frame(
            lambda ch: isin(ch["CONS_NO"], both)
        )
    cust = customers(mine)
    mp = rows("C_MP", cust=cust, area=sample).frame(
        lambda ch: pc.or_(
            isin(ch["CONS_NO"], mine),
            pc.and_(pc.equal(ch["USAGE_TYPE_CODE"], "02"), pc.is_in(ch["TG_ID"], tgs)),
        )
    )
    mps = set(mp["MP_ID"])
    m = world.mp_index(w, list(mps))
    mp_cust, mp_area = np.zeros(w.NC, bool), np.zeros(w.NA, bool)
    mp_cust[m[(m >= 0) & (m < w.NC)]] = True
    mp_area[m[m >= w.NC] - w.NC] = True
    return {
        "C_CONS": cons,
        "C_CONTACT": ct,
        "C_MP": mp,
        "C_METER": rows("C_METER", mp_cust, mp_area).frame(lambda ch: isin(ch["MP_ID"], mps)),
        "E_DATA_MP": rows("E_DATA_MP", mp_cust, mp_area).frame(lambda ch: isin(ch["MP_ID"], mps)),
        "T_TX_DYYH": rows("T_TX_DYYH", cust=cust).frame(lambda ch: isin(ch["YHBH"], mine)),
    }


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


def _write_events(s: scenario.Sim, wr: LandingWriter, counts: dict) -> None:
    """C_METER_CHG and E_EVENT (small delta tables, one task)."""
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
        area = ev["area"]
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


def _write_collection(
    s: scenario.Sim,
    wr: LandingWriter,
    rcv: billing.Receivables,
    pay: billing.Payments,
    counts: dict,
    d: int,
) -> None:
    """Collection files of day d (a file every day, header only when nothing happened)."""
    w = s.w
    r = rcv.rows_of_day(d)
    wr.write("collection", "A_RCVBL_FLOW", w.date(d), _slices(rcv, r))
    counts["A_RCVBL_FLOW"] = counts.get("A_RCVBL_FLOW", 0) + len(r)
    q = pay.rows_of_day(d)
    wr.write("collection", "A_PAY_FLOW", w.date(d), _slices(pay, q))
    counts["A_PAY_FLOW"] = counts.get("A_PAY_FLOW", 0) + len(q)


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
        org_of_app.update(dict(zip(ab["APP_NO"], ab["ORG_NO"], strict=True)))
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
            desc = (
                "acquisition failures (random, baseline) push the area below the completeness"
                " threshold"
            )
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
