"""marts.area_daily_loss: one row per area (tg_id) and day (data_date).

Conventions from docs/architecture.md ("Line loss"): an uncomputable area has no
loss_rate / loss_kwh and names its reason; a computable one has supply > 0, a rate, and a
status that matches the bands of the settings.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.conditions import Column

from expectations.base import ERROR, ERROR_KW, WARN_KW, MetricCheck, Settings, TableSuite, suite

TABLE = "marts.area_daily_loss"
LOSS_STATUSES = ("qualified", "high", "negative", "uncomputable")
UNCOMPUTABLE_REASONS = (
    "no check meter",
    "check meter reading missing",
    "check meter register invalid",
    "meter completeness below threshold",
    "no supply",
)
# The physical bound of (supply - sales) / supply for a computable area (supply > 0): above 1
# would need negative sales. There is no lower bound: sales more than twice the supply is what
# a runaway customer meter (M04) or a wrong multiplier does to a small area, and such an
# area is a finding (L02 台区负损), not bad data - a bound of -1 blocked a city tree's publish
# (an M04 of +600 kWh/day in an area of 545 kWh: rate -1.07, the generator's truth too).
LOSS_RATE_MAX = 1.0

UNCOMPUTABLE = Column("loss_status") == "uncomputable"
COMPUTABLE = Column("loss_status") != "uncomputable"


def build(settings: Settings) -> "gxe.ExpectationSuite":  # noqa: UP037
    high_above = float(settings["loss_rate_high_above"])
    negative_below = float(settings["loss_rate_negative_below"])
    return suite(
        "marts.area_daily_loss",
        [
            # keys
            gxe.ExpectColumnValuesToNotBeNull(column="tg_id", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="data_date", **ERROR_KW),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["tg_id", "data_date"],
                **ERROR_KW,
                description="one row per area and day",
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="org_no", **ERROR_KW),
            # status and loss rate
            gxe.ExpectColumnValuesToBeInSet(
                column="loss_status", value_set=list(LOSS_STATUSES), **ERROR_KW
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="loss_status", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(
                column="loss_rate",
                row_condition=COMPUTABLE,
                **ERROR_KW,
                description="a computable area has a loss rate",
            ),
            gxe.ExpectColumnValuesToBeNull(
                column="loss_rate",
                row_condition=UNCOMPUTABLE,
                **ERROR_KW,
                description="an uncomputable area gets no loss rate, only the status and reason",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="loss_rate",
                max_value=LOSS_RATE_MAX,
                **ERROR_KW,
                description="physical bound of (supply - sales) / supply (sales >= 0)",
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="loss_kwh", row_condition=COMPUTABLE, **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeNull(
                column="loss_kwh", row_condition=UNCOMPUTABLE, **ERROR_KW
            ),
            # the status matches the bands of the settings
            gxe.ExpectColumnValuesToBeBetween(
                column="loss_rate",
                min_value=high_above,
                strict_min=True,
                row_condition=Column("loss_status") == "high",
                **ERROR_KW,
                description="status high iff rate > loss_rate_high_above",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="loss_rate",
                max_value=negative_below,
                strict_max=True,
                row_condition=Column("loss_status") == "negative",
                **ERROR_KW,
                description="status negative iff rate < loss_rate_negative_below",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="loss_rate",
                min_value=negative_below,
                max_value=high_above,
                row_condition=Column("loss_status") == "qualified",
                **ERROR_KW,
                description="status qualified iff the rate is within the bands",
            ),
            # uncomputable reason set iff uncomputable
            gxe.ExpectColumnValuesToNotBeNull(
                column="uncomputable_reason", row_condition=UNCOMPUTABLE, **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeNull(
                column="uncomputable_reason", row_condition=COMPUTABLE, **ERROR_KW
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="uncomputable_reason", value_set=list(UNCOMPUTABLE_REASONS), **ERROR_KW
            ),
            # energies and meter counts
            gxe.ExpectColumnValuesToBeBetween(column="supply_kwh", min_value=0, **ERROR_KW),
            gxe.ExpectColumnValuesToBeBetween(
                column="supply_kwh",
                min_value=0,
                strict_min=True,
                row_condition=COMPUTABLE,
                **ERROR_KW,
                description="supply <= 0 is not computable",
            ),
            gxe.ExpectColumnValuesToBeBetween(column="sales_kwh", min_value=0, **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="meter_count", **ERROR_KW),
            gxe.ExpectColumnValuesToNotBeNull(column="meter_read_count", **ERROR_KW),
            gxe.ExpectColumnValuesToBeBetween(column="meter_read_count", min_value=0, **ERROR_KW),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="meter_count",
                column_B="meter_read_count",
                or_equal=True,
                **ERROR_KW,
                description="meter_read_count <= meter_count",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="meter_count",
                min_value=1,
                **WARN_KW,
                description="an in-service area without active settlement meters is suspicious",
            ),
        ],
    )


SUITE = TableSuite(
    table=TABLE,
    build=build,
    window_column="data_date",
    key_columns=("tg_id", "data_date"),
    batch_per_day=False,
)

# One row per day of the window: the day's row count against the latest earlier day
# with rows (looked up to 31 days back). A day of the window without rows fails, except
# at the start of the history: the mart starts on the first computable day, the day after
# the first export day of the readings (nothing earlier in the mart, no reading exported
# before that day).
ROW_COUNT_VS_PREVIOUS_DAY = MetricCheck(
    name="row_count_vs_previous_day",
    table=TABLE,
    severity=ERROR,
    description=(
        "a day's row count differs from the previous day's by at most "
        "row_count_tolerance_share; every day of the window has rows (from the day after "
        "the first export day of the readings on)"
    ),
    sql="""
with days as (
    select cast(unnest(generate_series(cast($start_date as timestamp),
                                       cast($end_date as timestamp),
                                       interval 1 day)) as date) as data_date
),
counts as (
    select data_date, count(*) as row_count
    from marts.area_daily_loss
    where data_date between cast($start_date as date) - 31 and cast($end_date as date)
    group by data_date
),
-- Export days of the readings and the area archive inside the window, and whether any
-- came before it (LIMIT 1 stops at the first such row: the history is not scanned).
window_exports as (
    select 'reads' as source, _export_date from raw_acquisition."E_MP_DAY_READ"
    where _export_date between cast($start_date as date) and cast($end_date as date)
    union
    select 'areas', _export_date from raw_marketing."G_TG"
    where _export_date between cast($start_date as date) and cast($end_date as date)
),
earlier as (
    select
        exists (select 1 from raw_acquisition."E_MP_DAY_READ"
                where _export_date < cast($start_date as date) limit 1) as reads_before,
        exists (select 1 from raw_marketing."G_TG"
                where _export_date < cast($start_date as date) limit 1) as areas_before,
        exists (select 1 from raw_marketing."G_TG" limit 1) as areas_at_all
),
today as (
    select
        days.data_date,
        coalesce(counts.row_count, 0) as row_count,
        -- readings were exported before the day (the mart starts the day after the first)
        earlier.reads_before or exists (
            select 1 from window_exports as w
            where w.source = 'reads' and w._export_date < days.data_date
        ) as after_first_export,
        -- Before the first delivered area archive (a history that starts between snapshot
        -- days) no area exists yet: an empty day there is not a failure. (No area archive
        -- at all is never normal: then every empty day fails.)
        earlier.areas_before or not earlier.areas_at_all or exists (
            select 1 from window_exports as w
            where w.source = 'areas' and w._export_date <= days.data_date
        ) as area_archive_delivered
    from days cross join earlier left join counts using (data_date)
)
select
    today.data_date,
    today.row_count,
    prev.data_date as previous_date,
    prev.row_count as previous_row_count,
    case
        when today.row_count = 0 then
            (prev.row_count is not null or today.after_first_export)
            and today.area_archive_delivered
        when prev.row_count is null then false
        else abs(today.row_count - prev.row_count) > $row_count_tolerance_share * prev.row_count
    end as failed
from today asof left join counts as prev on today.data_date > prev.data_date
order by today.data_date
""",
    key_columns=("data_date",),
    requires=(TABLE, "raw_acquisition.E_MP_DAY_READ", "raw_marketing.G_TG"),
    settings=("row_count_tolerance_share",),
)

METRIC_CHECKS = (ROW_COUNT_VS_PREVIOUS_DAY,)
