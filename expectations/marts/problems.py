"""Suites of the audit marts (audit-rules.md §3–4): marts.area_problem_list,
marts.problem_history, marts.unit_kpis, marts.dim_problem_code, marts.audit_settings.

* every finding has non-empty evidence and a code known to marts.dim_problem_code (the
  catalogue as published, checked in DuckDB: `unknown_problem_code_*`);
* keys unique: one row per open finding (area_problem_list.finding_key), one row per
  finding and day (problem_history), one row per period, unit and indicator (unit_kpis),
  one row per code / setting;
* KPIs (unit_kpis, one row per indicator): the value is numerator / denominator (null
  when the denominator is 0); a rate (value_unit 'share') lies within 0–1 with numerator
  <= denominator; the mean connection time (value_unit 'days') is >= 0; a count
  (value_unit 'count') is its numerator; the indicator is
  in the code table dbt/seeds/dim_kpi_indicator.csv;
* row counts within a tolerance of the previous day's (problem_history, the day rows of
  unit_kpis).
"""

from __future__ import annotations

import csv

import great_expectations.expectations as gxe
from great_expectations.expectations.conditions import Column

from dagster_project.lib.settings import DBT_PROJECT_DIR
from expectations.base import (
    ERROR,
    ERROR_KW,
    WARN,
    WARN_KW,
    MetricCheck,
    Settings,
    TableSuite,
    suite,
)

AREA_PROBLEM_LIST = "marts.area_problem_list"
PROBLEM_HISTORY = "marts.problem_history"
UNIT_KPIS = "marts.unit_kpis"
DIM_PROBLEM_CODE = "marts.dim_problem_code"
AUDIT_SETTINGS = "marts.audit_settings"

SEVERITIES = ("high", "medium", "low")
PROBLEM_LEVELS = ("area", "customer", "application")
UNIT_LEVELS = ("station", "county", "city")
PERIOD_TYPES = ("day", "month")
# marts.unit_kpis: one row per period, unit and indicator
KPI_KEY = ("period_type", "period_start", "unit_level", "org_no", "indicator_code")
KPI_INDICATOR_FILE = DBT_PROJECT_DIR / "seeds" / "dim_kpi_indicator.csv"
# |value - numerator / denominator|, relative to the ratio when it is above 1 (mean days)
KPI_RATIO_CHECK = (
    "_check_indicator_value_minus_ratio",
    (
        'abs("indicator_value" - "_figure") / greatest(1, abs("_figure"))'.replace(
            '"_figure"',
            # a count (value_unit 'count': 派单数, 超期工单数) is its numerator
            '(case when "value_unit" = \'count\' then "numerator_value"'
            ' else "numerator_value" / nullif("denominator_value", 0) end)',
        )
    ),
)
RATE_TOLERANCE = 1e-9
# share 比率, days 天 (a mean), count 个数 (the work-order counts: value = numerator)
VALUE_UNITS = ("share", "days", "count")
# The settings the gate and the rules read: the published settings must carry them.
REQUIRED_SETTINGS = (
    "completeness_min_share",
    "loss_rate_high_above",
    "loss_rate_negative_below",
    "quarantine_max_share",
    "row_count_tolerance_share",
)

NON_EMPTY = r"\S"  # evidence: at least one non-blank character


def _evidence(kw=ERROR_KW) -> list:
    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column="evidence", **kw, description="every finding has evidence"
        ),
        gxe.ExpectColumnValuesToMatchRegex(
            column="evidence", regex=NON_EMPTY, **kw, description="evidence is not blank"
        ),
    ]


def build_area_problem_list(settings: Settings):
    return suite(
        AREA_PROBLEM_LIST,
        [
            gxe.ExpectColumnValuesToNotBeNull(column="as_of_date", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="finding_key", **ERROR_KW),
            gxe.ExpectColumnValuesToBeUnique(
                column="finding_key", **ERROR_KW, description="one row per open finding"
            ),
            gxe.ExpectColumnUniqueValueCountToBeBetween(
                column="as_of_date",
                min_value=0,
                max_value=1,
                **ERROR_KW,
                description="the list is as of one day (the newest of the history)",
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="problem_code", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(
                column="problem_name",
                **ERROR_KW,
                description="the code is in the catalogue (the name comes from it)",
            ),
            *_evidence(),
            gxe.ExpectColumnValuesToBeInSet(
                column="severity", value_set=list(SEVERITIES), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="first_detected_date", **ERROR_KW),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="as_of_date",
                column_B="first_detected_date",
                or_equal=True,
                **ERROR_KW,
                description="a finding is first detected on or before the list's day",
            ),
            gxe.ExpectColumnValuesToBeBetween(column="consecutive_days", min_value=1, **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(
                column="cons_no",
                row_condition=Column("problem_level") == "customer",
                **ERROR_KW,
                description="a customer finding names the customer",
            ),
            gxe.ExpectColumnValuesToBeNull(
                column="cons_no",
                row_condition=Column("problem_level") == "area",
                **ERROR_KW,
                description="an area finding has no customer",
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="tg_id", row_condition=Column("problem_level") == "area", **ERROR_KW
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="suggested_action", **WARN_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="org_no", **WARN_KW),
        ],
    )


def build_problem_history(settings: Settings):
    return suite(
        PROBLEM_HISTORY,
        [
            gxe.ExpectColumnValuesToNotBeNull(column="detected_date", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="finding_key", **ERROR_KW),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["detected_date", "finding_key"],
                **ERROR_KW,
                description="one row per finding and day",
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="problem_code", **ERROR_KW),
            *_evidence(),
            gxe.ExpectColumnValuesToNotBeNull(column="settings_fingerprint", **ERROR_KW),
            gxe.ExpectColumnUniqueValueCountToBeBetween(
                column="settings_fingerprint",
                min_value=0,
                max_value=1,
                **WARN_KW,
                description="the window's findings come from one set of settings",
            ),
        ],
    )


def kpi_indicators(path=KPI_INDICATOR_FILE) -> dict[str, str]:
    """indicator_code -> value_unit of the code table (the seed marts.dim_kpi_indicator is
    built from)."""
    with open(path, encoding="utf-8", newline="") as f:
        return {row["indicator_code"]: row["value_unit"] for row in csv.DictReader(f)}


def kpi_indicator_codes(path=KPI_INDICATOR_FILE) -> list[str]:
    """The indicator codes of the code table."""
    return list(kpi_indicators(path))


def build_unit_kpis(settings: Settings):
    share = Column("value_unit") == "share"
    days = Column("value_unit") == "days"
    return suite(
        UNIT_KPIS,
        [
            *[
                gxe.ExpectColumnValuesToNotBeNull(column=c, **ERROR_KW)
                for c in (*KPI_KEY, "as_of_date", "numerator_value", "denominator_value")
            ],
            gxe.ExpectColumnValuesToBeInSet(
                column="period_type", value_set=list(PERIOD_TYPES), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="unit_level", value_set=list(UNIT_LEVELS), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="indicator_code",
                value_set=kpi_indicator_codes(),
                **ERROR_KW,
                description="the indicator is in the code table (dim_kpi_indicator.csv)",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="value_unit", value_set=list(VALUE_UNITS), **ERROR_KW
            ),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=list(KPI_KEY),
                **ERROR_KW,
                description="one row per period, unit and indicator",
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="as_of_date",
                column_B="period_start",
                or_equal=True,
                **ERROR_KW,
                description="a period's figures are as of a day inside it",
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="period_end", column_B="as_of_date", or_equal=True, **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeBetween(column="denominator_value", min_value=0, **ERROR_KW),
            gxe.ExpectColumnValuesToBeBetween(column="numerator_value", min_value=0, **ERROR_KW),
            gxe.ExpectColumnValuesToBeBetween(
                column="indicator_value",
                min_value=0,
                max_value=1,
                row_condition=share,
                **ERROR_KW,
                description="a KPI rate is a share",
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="denominator_value",
                column_B="numerator_value",
                or_equal=True,
                row_condition=share,
                **ERROR_KW,
                description="a rate's numerator <= its denominator",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="indicator_value",
                min_value=0,
                row_condition=days,
                **ERROR_KW,
                description="the mean connection time is not negative",
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="indicator_value",
                row_condition=Column("denominator_value") > 0,
                **ERROR_KW,
                description="a value exists when the denominator > 0",
            ),
            gxe.ExpectColumnValuesToBeNull(
                column="indicator_value",
                row_condition=Column("denominator_value") == 0,
                **ERROR_KW,
                description="no value when the denominator = 0",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column=KPI_RATIO_CHECK[0],
                min_value=0,
                max_value=RATE_TOLERANCE,
                **ERROR_KW,
                description="indicator_value = numerator_value / denominator_value",
            ),
        ],
    )


def build_dim_problem_code(settings: Settings):
    return suite(
        DIM_PROBLEM_CODE,
        [
            gxe.ExpectTableRowCountToBeBetween(min_value=1, **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="problem_code", **ERROR_KW),
            gxe.ExpectColumnValuesToBeUnique(column="problem_code", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="problem_name", **ERROR_KW),
            gxe.ExpectColumnValuesToBeInSet(
                column="severity", value_set=list(SEVERITIES), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="problem_level", value_set=list(PROBLEM_LEVELS), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="suggested_action", **ERROR_KW),
        ],
    )


def build_audit_settings(settings: Settings):
    return suite(
        AUDIT_SETTINGS,
        [
            gxe.ExpectColumnValuesToNotBeNull(column="setting_name", **ERROR_KW),
            gxe.ExpectColumnValuesToBeUnique(column="setting_name", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="setting_value", **ERROR_KW),
            gxe.ExpectColumnDistinctValuesToContainSet(
                column="setting_name",
                value_set=list(REQUIRED_SETTINGS),
                **ERROR_KW,
                description="the published settings carry every threshold the marts depend on",
            ),
            gxe.ExpectColumnUniqueValueCountToBeBetween(
                column="settings_fingerprint", min_value=1, max_value=1, **ERROR_KW
            ),
        ],
    )


SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        AREA_PROBLEM_LIST,
        build_area_problem_list,
        window_column=None,
        key_columns=("finding_key", "as_of_date"),
    ),
    TableSuite(
        PROBLEM_HISTORY,
        build_problem_history,
        window_column="detected_date",
        key_columns=("finding_key", "detected_date"),
    ),
    # the rows recomputed by the window's runs: day rows of its days, month rows as of them
    TableSuite(
        UNIT_KPIS,
        build_unit_kpis,
        window_column="as_of_date",
        key_columns=KPI_KEY,
        derived_columns=(KPI_RATIO_CHECK,),
    ),
    TableSuite(
        DIM_PROBLEM_CODE, build_dim_problem_code, window_column=None, key_columns=("problem_code",)
    ),
    TableSuite(
        AUDIT_SETTINGS, build_audit_settings, window_column=None, key_columns=("setting_name",)
    ),
)


# ------------------------------------------------------------------ DuckDB metric checks


def unknown_code_check(table: str, day_column: str | None) -> MetricCheck:
    """One row per problem code used by `table` (the window's rows): failed when the code
    is not in the published catalogue marts.dim_problem_code."""
    where = (
        (f"where t.{day_column} between cast($start_date as date) and cast($end_date as date)")
        if day_column
        else ""
    )
    return MetricCheck(
        name=f"problem_codes_known_{table.split('.')[1]}",
        table=table,
        severity=ERROR,
        description="every finding's problem_code is in marts.dim_problem_code",
        sql=f"""
select
    t.problem_code,
    count(*) as findings,
    count(d.problem_code) > 0 as known,
    count(d.problem_code) = 0 as failed
from {table} as t
left join marts.dim_problem_code as d using (problem_code)
{where}
group by t.problem_code
order by t.problem_code
""",
        key_columns=("problem_code",),
        requires=(table, DIM_PROBLEM_CODE),
    )


def row_count_check(
    table: str, day_column: str, setting: str, direction: str, where: str | None = None
) -> MetricCheck:
    """One row per day of the window: the day's rows against a baseline, the median row
    count of the latest `row_count_baseline_days` earlier days with rows (31 days back).
    direction 'drop' (severity error): failed when the count fell by more than `setting`
    below the baseline, or a day after the first day with rows has none: something went
    missing (an archive not delivered, a broken join). direction 'rise' (severity warn):
    the count grew by more than that: reported, not blocking, because a burst of findings
    is news (a terminal outage gives a whole area M01 采集失败 at once), not a broken run.
    A median, not the previous day: the day after such a burst is back to normal, which
    against the burst alone would look like a collapse and block the publish (on a tiny
    tree: M01 134 -> 1 when the outage ended, findings 172 -> 44). `where`: an SQL condition
    restricting the rows counted (unit_kpis: the day rows)."""
    only = f"\n      and ({where})" if where else ""
    moved = (
        "prev.row_count - today.row_count"
        if direction == "drop"
        else "today.row_count - prev.row_count"
    )
    return MetricCheck(
        name=f"row_count_{direction}_vs_previous_day_{table.split('.')[1]}",
        table=table,
        severity=ERROR if direction == "drop" else WARN,
        description=(
            f"a day's row count {'falls' if direction == 'drop' else 'grows'} "
            f"by at most {setting} of the median of the previous days' "
            "(row_count_baseline_days)"
        ),
        sql=f"""
with days as (
    select cast(unnest(generate_series(cast($start_date as timestamp),
                                       cast($end_date as timestamp),
                                       interval 1 day)) as date) as day
),
counts as (
    select {day_column} as day, count(*) as row_count
    from {table}
    where {day_column} between cast($start_date as date) - 31 and cast($end_date as date){only}
    group by {day_column}
),
today as (
    select days.day, coalesce(counts.row_count, 0) as row_count
    from days left join counts using (day)
),
earlier as (
    select
        today.day,
        counts.day as earlier_day,
        counts.row_count,
        row_number() over (partition by today.day order by counts.day desc) as days_back
    from today
    inner join counts on counts.day < today.day
),
baseline as (
    select
        day,
        max(earlier_day) as previous_day,
        arg_max(row_count, earlier_day) as previous_row_count,
        median(row_count) as row_count
    from earlier
    where days_back <= $row_count_baseline_days
    group by day
)
select
    today.day,
    today.row_count,
    prev.previous_day,
    prev.previous_row_count,
    prev.row_count as baseline_row_count,
    case
        when prev.row_count is null then false
        else {moved} > ${setting} * prev.row_count
    end as failed
from today left join baseline as prev using (day)
order by today.day
""",
        key_columns=("day",),
        requires=(table,),
        settings=(setting, "row_count_baseline_days"),
    )


METRIC_CHECKS: tuple[MetricCheck, ...] = (
    unknown_code_check(AREA_PROBLEM_LIST, None),
    unknown_code_check(PROBLEM_HISTORY, "detected_date"),
    *(
        row_count_check(
            PROBLEM_HISTORY, "detected_date", "findings_count_tolerance_share", direction
        )
        for direction in ("drop", "rise")
    ),
    *(
        row_count_check(
            UNIT_KPIS,
            "period_start",
            "row_count_tolerance_share",
            direction,
            where="period_type = 'day'",
        )
        for direction in ("drop", "rise")
    ),
)
