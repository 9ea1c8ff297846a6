"""raw_acquisition.E_MP_DAY_READ (日冻结示值): the largest table, validated one export day
at a time, plus the read-count check that detects a truncated export."""

from __future__ import annotations

import great_expectations.expectations as gxe

from dagster_project.lib.landing_contract import TABLES_BY_NAME
from expectations.base import ERROR, ERROR_KW, WARN_KW, MetricCheck, Settings, TableSuite, suite

TABLE = "raw_acquisition.E_MP_DAY_READ"
READING_COLUMNS = ("PAP_R", "PAP_R1", "PAP_R2", "PAP_R3", "PAP_R4", "RAP_R")
MARKS = TABLES_BY_NAME["E_MP_DAY_READ"].column("MARK").codes


def build(settings: Settings) -> "gxe.ExpectationSuite":  # noqa: UP037
    return suite("raw_acquisition.E_MP_DAY_READ", [
        gxe.ExpectColumnValuesToNotBeNull(column="DATA_ID", **ERROR_KW),
        gxe.ExpectColumnValuesToNotBeNull(column="DATA_DATE", **ERROR_KW),
        gxe.ExpectColumnValuesToBeInSet(column="MARK", value_set=list(MARKS), **ERROR_KW),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="_export_date", column_B="DATA_DATE", or_equal=True, **ERROR_KW,
            description="DATA_DATE <= the export day: a reading from the future means a "
                        "mislabelled or misplaced export"),
        # A negative register is a source anomaly of one meter (no valid energy, a finding),
        # not a broken delivery: reported, not blocking.
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, **WARN_KW)
          for c in READING_COLUMNS),
    ])


SUITE = TableSuite(
    table=TABLE,
    build=build,
    window_column="_export_date",
    key_columns=("DATA_ID", "DATA_DATE", "_source_file", "_line_number"),
    batch_per_day=True,
)

# One row per export day of the window: rows loaded that day against the latest earlier
# export day (31 days back). Below read_count_min_share_of_previous -> truncated export.
READ_COUNT_VS_PREVIOUS_DAY = MetricCheck(
    name="read_count_vs_previous_day",
    table=TABLE,
    severity=ERROR,
    description=(
        "an export day's readings are at least read_count_min_share_of_previous of the "
        "previous export day's (a truncated or missing export fails)"),
    sql="""
with days as (
    select cast(unnest(generate_series(cast($start_date as timestamp),
                                       cast($end_date as timestamp),
                                       interval 1 day)) as date) as export_date
),
counts as (
    select _export_date as export_date, count(*) as row_count
    from raw_acquisition."E_MP_DAY_READ"
    where _export_date between cast($start_date as date) - 31 and cast($end_date as date)
    group by _export_date
),
today as (
    select days.export_date, coalesce(counts.row_count, 0) as row_count
    from days left join counts using (export_date)
)
select
    today.export_date,
    today.row_count,
    prev.export_date as previous_export_date,
    prev.row_count as previous_row_count,
    round(today.row_count / prev.row_count, 4) as share_of_previous,
    case
        when today.row_count = 0 then true
        when prev.row_count is null then false
        else today.row_count < $read_count_min_share_of_previous * prev.row_count
    end as failed
from today asof left join counts as prev on today.export_date > prev.export_date
order by today.export_date
""",
    key_columns=("export_date",),
    requires=(TABLE,),
    settings=("read_count_min_share_of_previous",),
)

METRIC_CHECKS = (READ_COUNT_VS_PREVIOUS_DAY,)
