"""marts.unit_kpis (同业对标, audit-rules.md §4) against figures computed here, independently
of the dbt models, from the generator's truth (truth/area_daily_loss.csv) and the landing
CSV files (pandas; the archive as of D = the newest snapshot file dated <= D, a delta
table's final state = the later file, then the later line).

Every §4 indicator is checked for every unit (供电所 / 县公司 / 地市公司) and day of the tiny
window and for the month, numerator and denominator; the conventions are those of the KPI
objects (audit/kpis, docs/architecture.md "同业对标"):

* areas: the truth's rows of D, unit G_TG.ORG_NO; 线损合格率 over the computable ones;
* 采集成功率: C_MP USAGE_TYPE_CODE 01 / STATUS_CODE 1 as of D, a reading = an E_MP_DAY_READ
  row of DATA_DATE D with PAP_R through the MP's lowest DATA_ID; unit C_CONS.ORG_NO;
* receivables of D's month issued up to D, each in its latest delivery on or before D
  (电费回收率 = Σ RCVED_AMT / Σ RCVBL_AMT; 专变自动抄表出帐率 over C_CONS VOLT_CODE 03);
  unit = the receivable's ORG_NO;
* payments on date(CHARGE_TIME), final state, unit C_CONS.ORG_NO as of that day;
* 短信通: active urban residential customers, any contact row with SMS_FLAG 1;
* 10 kV applications on POWER_ON_DATE, in the newest APP_BIZ archive;
* month rows: the sum over the month's days, or (receivables, customers) the last day.

`kpi_differences()` does the comparison and is called by the test on the pipeline's
published file; it also runs on any warehouse with the marts (a developer's copy).
`drill_down_differences()` reproduces every figure from marts.unit_kpi_daily (the counts per
unit and day) and marts.unit_kpi_facts (the objects that count against an indicator) by
the documented plain join, and `exception_differences()` checks that the drill-down lists
exactly the objects computed here that count against their indicator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.lib.landing_contract import DEFAULT_ENCODINGS, TABLES_BY_NAME

SHARE_INDICATORS = (
    "loss_qualified_rate",
    "area_computable_rate",
    "collection_success_rate",
    "fee_recovery_rate",
    "deposit_timely_rate",
    "arrival_timely_rate",
    "hv_auto_read_billing_rate",
    "urban_sms_coverage_rate",
)
SECTION4_INDICATORS = (*SHARE_INDICATORS, "hv_connect_days")
# month rows: the population of the month's last day (else the sum over its days)
LAST_DAY_INDICATORS = ("fee_recovery_rate", "hv_auto_read_billing_rate", "urban_sms_coverage_rate")
LEVELS = {"04": "station", "03": "county", "02": "city"}
# the indicators whose drill-down lists every object (dbt macro kpi_every_object_indicators):
# the means (days per application / per archived work order) and the work-order counts
EVERY_OBJECT_INDICATORS = ("hv_connect_days", "wo_dispatched", "wo_overdue", "wo_mean_close_days")
TOLERANCE = 1e-6


# ------------------------------------------------------------------ the landing files
class Landing:
    """The landing tree read with pandas: every value a string, empty = ''."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @cache  # noqa: B019 - one Landing per test session
    def files(self, table: str) -> dict[dt.date, pd.DataFrame]:
        t = TABLES_BY_NAME[table]
        out = {}
        for path in sorted((self.root / t.system / t.name).glob("*.csv*")):
            day = dt.date.fromisoformat(path.name.split(".")[0])
            df = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding=DEFAULT_ENCODINGS[t.system]
            )
            df["_line"] = range(len(df))
            df["_day"] = day
            out[day] = df
        return out

    def snapshot(self, table: str, day: dt.date) -> pd.DataFrame:
        """The archive as of `day`: the newest snapshot file dated on or before it (a key
        duplicated within the file keeps its last line)."""
        files = self.files(table)
        days = [d for d in files if d <= day]
        if not days:
            return pd.DataFrame(columns=TABLES_BY_NAME[table].column_names)
        return files[max(days)].drop_duplicates(list(TABLES_BY_NAME[table].key), keep="last")

    def deliveries(self, table: str) -> pd.DataFrame:
        files = self.files(table)
        return pd.concat(files.values(), ignore_index=True) if files else pd.DataFrame()

    def final_state(self, table: str, upto: dt.date | None = None) -> pd.DataFrame:
        """A delta table's final state (the later file, then the later order column, then
        the later line wins), from the files dated on or before `upto`."""
        t = TABLES_BY_NAME[table]
        df = self.deliveries(table)
        if upto is not None:
            df = df[df["_day"] <= upto]
        order = ["_day", *([t.order_by] if t.order_by else []), "_line"]
        return df.sort_values(order).drop_duplicates(list(t.key), keep="last")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def org_chain(landing: Landing, day: dt.date) -> dict[str, dict[str, str]]:
    """org_no -> {unit_level: unit org_no} for the unit and every unit above it (O_ORG
    as of day)."""
    orgs = landing.snapshot("O_ORG", day).set_index("ORG_NO")
    chain = {}
    for org in orgs.index:
        units, node, seen = {}, org, set()
        while node in orgs.index and node not in seen:
            seen.add(node)
            level = LEVELS.get(orgs.at[node, "ORG_TYPE"])
            if level and level not in units:
                units[level] = node
            node = orgs.at[node, "P_ORG_NO"]
        chain[org] = units
    return chain


# ------------------------------------------------------------------ the expected facts
def expected_facts(
    landing: Landing, truth: Path, days: list[dt.date], settings: Mapping[str, str]
) -> pd.DataFrame:
    """(data_date, indicator_code, object_id, org_no, numerator, denominator) per object,
    by the conventions of the module docstring."""
    rows: list[tuple] = []
    end = max(days)
    deposit_max = float(settings["kpi_deposit_max_days"])
    arrive_max = float(settings["kpi_arrive_max_days"])

    # areas: the generator's own line-loss truth
    loss = pd.read_csv(truth / "area_daily_loss.csv", dtype={"tg_id": str, "org_no": str})
    loss["data_date"] = pd.to_datetime(loss["data_date"]).dt.date
    for r in loss[loss["data_date"].isin(days)].itertuples():
        computable = r.loss_status != "uncomputable"
        rows.append(
            (r.data_date, "area_computable_rate", r.tg_id, r.org_no, float(computable), 1.0)
        )
        if computable:
            rows.append(
                (
                    r.data_date,
                    "loss_qualified_rate",
                    r.tg_id,
                    r.org_no,
                    float(r.loss_status == "qualified"),
                    1.0,
                )
            )

    reads = landing.final_state("E_MP_DAY_READ")
    reads = reads[reads["PAP_R"] != ""]
    read_keys = set(zip(reads["DATA_ID"], reads["DATA_DATE"], strict=True))
    receivables = landing.deliveries("A_RCVBL_FLOW").sort_values(["_day", "_line"])
    payments = landing.final_state("A_PAY_FLOW")
    payments["charge_date"] = pd.to_datetime(payments["CHARGE_TIME"]).dt.date
    apps = landing.snapshot("APP_BIZ", end)

    for day in days:
        iso = day.isoformat()
        cons = landing.snapshot("C_CONS", day).set_index("CONS_NO")
        areas = landing.snapshot("G_TG", day).set_index("TG_ID")

        # 采集成功率 (from the first day the line loss has: the reading of D-1 exists)
        if day > min(days):
            mps = landing.snapshot("C_MP", day)
            mps = mps[(mps["USAGE_TYPE_CODE"] == "01") & (mps["STATUS_CODE"] == "1")]
            points = landing.snapshot("E_DATA_MP", day).sort_values("DATA_ID")
            data_id = points.drop_duplicates("MP_ID").set_index("MP_ID")["DATA_ID"]
            for mp in mps.itertuples():
                org = cons["ORG_NO"].get(mp.CONS_NO) or areas["ORG_NO"].get(mp.TG_ID)
                did = data_id.get(mp.MP_ID)
                rows.append(
                    (
                        day,
                        "collection_success_rate",
                        mp.MP_ID,
                        org,
                        float(did is not None and (did, iso) in read_keys),
                        1.0,
                    )
                )

        # receivables of D's month, as of D
        known = receivables[receivables["_day"] <= day].drop_duplicates("RCVBL_ID", keep="last")
        issue = pd.to_datetime(known["ISSUE_DATE"]).dt.date
        known = known[(issue >= month_start(day)) & (issue <= day)]
        for r in known.itertuples():
            rows.append(
                (
                    day,
                    "fee_recovery_rate",
                    r.RCVBL_ID,
                    r.ORG_NO,
                    float(r.RCVED_AMT or 0),
                    float(r.RCVBL_AMT or 0),
                )
            )
            if cons["VOLT_CODE"].get(r.CONS_NO) == "03":
                rows.append(
                    (
                        day,
                        "hv_auto_read_billing_rate",
                        r.RCVBL_ID,
                        r.ORG_NO,
                        float(r.READ_SRC == "01"),
                        1.0,
                    )
                )

        # payments charged on D
        for p in payments[payments["charge_date"] == day].itertuples():
            org = cons["ORG_NO"].get(p.CONS_NO)
            dep = (dt.date.fromisoformat(p.DEPOSIT_DATE) - day).days if p.DEPOSIT_DATE else None
            arr = (dt.date.fromisoformat(p.ARRIVE_DATE) - day).days if p.ARRIVE_DATE else None
            rows.append(
                (
                    day,
                    "deposit_timely_rate",
                    p.PAY_ID,
                    org,
                    float(dep is not None and dep <= deposit_max),
                    1.0,
                )
            )
            rows.append(
                (
                    day,
                    "arrival_timely_rate",
                    p.PAY_ID,
                    org,
                    float(arr is not None and arr <= arrive_max),
                    1.0,
                )
            )

        # 城镇居民客户短信通
        urban = cons[
            (cons["STATUS_CODE"] == "1")
            & (cons["URBAN_RURAL_FLAG"] == "1")
            & (cons["ELEC_TYPE_CODE"] == "201")
        ]
        contacts = landing.snapshot("C_CONTACT", day)
        subscribed = set(contacts.loc[contacts["SMS_FLAG"] == "1", "CONS_NO"])
        for cons_no, org in urban["ORG_NO"].items():
            rows.append(
                (day, "urban_sms_coverage_rate", cons_no, org, float(cons_no in subscribed), 1.0)
            )

        # 10 kV applications powered on D (the newest archive)
        done = apps[
            (apps["VOLT_CODE"] == "03")
            & (apps["POWER_ON_DATE"] == iso)
            & (apps["APPLY_DATE"] != "")
        ]
        for a in done.itertuples():
            took = (day - dt.date.fromisoformat(a.APPLY_DATE)).days
            if took >= 0:
                rows.append((day, "hv_connect_days", a.APP_NO, a.ORG_NO, float(took), 1.0))

    return pd.DataFrame(
        rows,
        columns=["data_date", "indicator_code", "object_id", "org_no", "numerator", "denominator"],
    )


def expected_kpis(
    landing: Landing, truth: Path, days: list[dt.date], settings: Mapping[str, str]
) -> pd.DataFrame:
    """The day and month figures per unit: (period_type, period_start, unit_level, org_no,
    indicator_code, numerator, denominator, objects)."""
    facts = expected_facts(landing, truth, days, settings)
    chains = {day: org_chain(landing, day) for day in days}
    rolled = []
    for f in facts.itertuples():
        for level, unit in chains[f.data_date].get(f.org_no, {}).items():
            rolled.append((f.data_date, f.indicator_code, level, unit, f.numerator, f.denominator))
    units = pd.DataFrame(
        rolled,
        columns=["data_date", "indicator_code", "unit_level", "org_no", "numerator", "denominator"],
    )
    keys = ["unit_level", "org_no", "indicator_code"]
    day_rows = (
        units.groupby(["data_date", *keys])
        .agg(
            numerator=("numerator", "sum"),
            denominator=("denominator", "sum"),
            objects=("numerator", "size"),
        )
        .reset_index()
        .rename(columns={"data_date": "period_start"})
        .assign(period_type="day")
    )
    units["period_start"] = units["data_date"].map(month_start)
    last = units.groupby(["period_start", "indicator_code"])["data_date"].transform("max")
    in_month = units[
        ~units["indicator_code"].isin(LAST_DAY_INDICATORS) | (units["data_date"] == last)
    ]
    month_rows = (
        in_month.groupby(["period_start", *keys])
        .agg(
            numerator=("numerator", "sum"),
            denominator=("denominator", "sum"),
            objects=("numerator", "size"),
        )
        .reset_index()
        .assign(period_type="month")
    )
    return pd.concat([day_rows, month_rows], ignore_index=True)


# ------------------------------------------------------------------ the comparison
def kpi_differences(
    warehouse: Path,
    landing_dir: Path,
    truth_dir: Path,
    start: dt.date,
    end: dt.date,
    settings: Mapping[str, str],
    indicators=SECTION4_INDICATORS,
) -> list[str]:
    """Mismatches between marts.unit_kpis of `warehouse` (day rows of start..end and the
    month rows) and the independently computed figures; [] when they agree."""
    landing = Landing(landing_dir)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    want = expected_kpis(landing, Path(truth_dir), days, settings)
    want = want[want["indicator_code"].isin(indicators)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        got = con.execute(
            "select period_type, period_start, unit_level, org_no, indicator_code,"
            " numerator_value, denominator_value, indicator_value, object_count"
            " from marts.unit_kpis where period_start between ? and ?"
            f" and indicator_code in ({', '.join('?' * len(indicators))})",
            [month_start(start), end, *indicators],
        ).df()
    got["period_start"] = pd.to_datetime(got["period_start"]).dt.date
    key = ["period_type", "period_start", "unit_level", "org_no", "indicator_code"]
    both = want.merge(got, on=key, how="outer", indicator="side")
    problems = []
    for r in both.itertuples():
        where = f"{r.period_type} {r.period_start} {r.unit_level} {r.org_no} {r.indicator_code}"
        if r.side == "left_only":
            problems.append(f"{where}: missing, expected {r.numerator}/{r.denominator}")
        elif r.side == "right_only":
            # a unit without objects: a 0 / 0 row of an indicator that has facts that day
            if r.denominator_value != 0 or r.numerator_value != 0 or r.object_count != 0:
                problems.append(f"{where}: unexpected {r.numerator_value}/{r.denominator_value}")
        else:
            for name, exp, act in (
                ("numerator", r.numerator, r.numerator_value),
                ("denominator", r.denominator, r.denominator_value),
                ("objects", r.objects, r.object_count),
            ):
                if abs(exp - act) > TOLERANCE * max(1.0, abs(exp)):
                    problems.append(f"{where}: {name} {act}, expected {exp}")
            ratio = r.numerator / r.denominator if r.denominator else None
            if (ratio is None) != pd.isna(r.indicator_value) or (
                ratio is not None and abs(ratio - r.indicator_value) > TOLERANCE
            ):
                problems.append(f"{where}: value {r.indicator_value}, expected {ratio}")
    return problems


# the drill-down join of docs/architecture.md "同业对标" (k: marts.unit_kpis)
DRILL_DOWN_JOIN = """
    on {t}.indicator_code = k.indicator_code
    and {t}.data_date between k.fact_date_from and k.fact_date_to
    and k.org_no in ({t}.station_no, {t}.county_no, {t}.city_no)
"""


def drill_down_differences(warehouse: Path) -> list[str]:
    """Every figure of marts.unit_kpis, by the documented plain join: numerator,
    denominator and object count are the sums of its units' rows of marts.unit_kpi_daily;
    the numerator is the denominator less what the objects of marts.unit_kpi_facts lack
    (for a count: the denominator less their number), and they are as many as the daily
    rows say; for hv_connect_days and the other indicators that list every object
    (EVERY_OBJECT_INDICATORS: the work-order counts and mean close days) the facts alone
    give both."""
    every = ", ".join(f"'{c}'" for c in EVERY_OBJECT_INDICATORS)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        bad = con.execute(f"""
            with daily as (
                select k.period_type, k.period_start, k.unit_level, k.org_no,
                       k.indicator_code,
                       any_value(k.numerator_value) as numerator_value,
                       any_value(k.denominator_value) as denominator_value,
                       any_value(k.object_count) as object_count,
                       coalesce(sum(d.numerator_value), 0) as daily_numerator,
                       coalesce(sum(d.denominator_value), 0) as daily_denominator,
                       coalesce(sum(d.object_count), 0) as daily_objects,
                       coalesce(sum(d.drill_down_count), 0) as daily_drill_down
                from marts.unit_kpis as k
                left join marts.unit_kpi_daily as d {DRILL_DOWN_JOIN.format(t="d")}
                group by all
            ),
            facts as (
                select k.period_type, k.period_start, k.unit_level, k.org_no,
                       k.indicator_code,
                       count(f.object_id) as facts,
                       coalesce(sum(f.numerator_value), 0) as facts_numerator,
                       coalesce(sum(f.denominator_value - f.numerator_value), 0) as shortfall
                from marts.unit_kpis as k
                left join marts.unit_kpi_facts as f {DRILL_DOWN_JOIN.format(t="f")}
                group by all
            )
            select d.*, f.facts, f.facts_numerator, f.shortfall
            from daily as d
            inner join facts as f using (period_type, period_start, unit_level, org_no,
                                         indicator_code)
            where abs(d.numerator_value - d.daily_numerator) > 1e-6
                or abs(d.denominator_value - d.daily_denominator) > 1e-6
                or d.object_count <> d.daily_objects
                or abs(d.numerator_value - (d.denominator_value - f.shortfall)) > 1e-6
                or f.facts <> d.daily_drill_down
                or (d.indicator_code <> 'fee_recovery_rate'
                    and d.indicator_code not in ({every})
                    and d.numerator_value <> d.denominator_value - f.facts)
                or (d.indicator_code in ({every})
                    and (f.facts <> d.object_count
                         or abs(f.facts_numerator - d.numerator_value) > 1e-6))
        """).fetchall()
        checked = con.execute("select count(*) from marts.unit_kpis").fetchone()[0]
    return [str(row) for row in bad] if checked else ["marts.unit_kpis is empty"]


def _same_unit(a, b) -> bool:
    """Two org_no values, an empty one (None, NaN, '') equal to another empty one."""
    a, b = (None if pd.isna(v) or v == "" else v for v in (a, b))
    return a == b


def exception_differences(
    warehouse: Path,
    landing_dir: Path,
    truth_dir: Path,
    start: dt.date,
    end: dt.date,
    settings: Mapping[str, str],
) -> list[str]:
    """marts.unit_kpi_facts of start..end against the objects computed here that count
    against their §4 indicator (numerator <> denominator) and every application."""
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    want = expected_facts(Landing(landing_dir), Path(truth_dir), days, settings)
    want = want[
        (want["numerator"] != want["denominator"]) | (want["indicator_code"] == "hv_connect_days")
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        got = con.execute(
            "select data_date, indicator_code, object_id, org_no, numerator_value,"
            " denominator_value from marts.unit_kpi_facts where data_date between ? and ?"
            f" and indicator_code in ({', '.join('?' * len(SECTION4_INDICATORS))})",
            [start, end, *SECTION4_INDICATORS],
        ).df()
    got["data_date"] = pd.to_datetime(got["data_date"]).dt.date
    key = ["data_date", "indicator_code", "object_id"]
    both = want.merge(got, on=key, how="outer", indicator="side")
    problems = []
    for r in both.itertuples():
        where = f"{r.data_date} {r.indicator_code} {r.object_id}"
        if r.side != "both":
            problems.append(
                f"{where}: only in the {'expected' if r.side == 'left_only' else 'published'} facts"
            )
        elif (
            not _same_unit(r.org_no_x, r.org_no_y)
            or abs(r.numerator - float(r.numerator_value)) > TOLERANCE
            or abs(r.denominator - float(r.denominator_value)) > TOLERANCE
        ):
            problems.append(
                f"{where}: {r.org_no_y} {r.numerator_value}/{r.denominator_value},"
                f" expected {r.org_no_x} {r.numerator}/{r.denominator}"
            )
    if want.empty:
        problems.append("no expected exception: the check would prove nothing")
    return problems


# ------------------------------------------------------------------ the tests
def _published(tiny_run) -> Path:
    return tiny_run["workdir"] / "published" / "gridaudit.duckdb"


def test_unit_kpis_match_the_truth_and_the_landing_files(tiny_run):
    from dagster_project.lib import audit_settings

    problems = kpi_differences(
        _published(tiny_run),
        tiny_run["landing"],
        tiny_run["truth"],
        tiny_run["start"],
        tiny_run["end"],
        audit_settings.load(),
    )
    assert problems == [], f"{len(problems)} differences, e.g. {problems[:10]}"


def test_every_section4_indicator_is_published_with_its_chinese_name(tiny_run):
    with duckdb.connect(str(_published(tiny_run)), read_only=True) as con:
        names = dict(
            con.execute(
                "select indicator_code, indicator_name from marts.dim_kpi_indicator"
            ).fetchall()
        )
        published = {
            r[0]
            for r in con.execute("select distinct indicator_code from marts.unit_kpis").fetchall()
        }
    assert set(SECTION4_INDICATORS) <= set(names)
    assert names["fee_recovery_rate"] == "电费回收率"
    # the tiny preset completes no 10 kV application in its window (no facts, no rows)
    assert set(SECTION4_INDICATORS) - {"hv_connect_days"} <= published


def test_unit_kpis_drill_down_to_their_facts(tiny_run):
    problems = drill_down_differences(_published(tiny_run))
    assert problems == [], f"{len(problems)} figures not reproduced, e.g. {problems[:5]}"


def test_the_drill_down_lists_exactly_the_objects_that_count_against(tiny_run):
    from dagster_project.lib import audit_settings

    problems = exception_differences(
        _published(tiny_run),
        tiny_run["landing"],
        tiny_run["truth"],
        tiny_run["start"],
        tiny_run["end"],
        audit_settings.load(),
    )
    assert problems == [], f"{len(problems)} differences, e.g. {problems[:10]}"
