"""raw_acquisition.E_MP_DAY_READ (日冻结示值): the largest table, validated one export day
at a time, plus the read-count check that detects a truncated export."""

from __future__ import annotations

from dagster_project.lib.landing_contract import TABLES_BY_NAME
from expectations.base import ERROR, MetricCheck
from expectations.raw import contract

TABLE = "raw_acquisition.E_MP_DAY_READ"
READING_COLUMNS = ("PAP_R", "PAP_R1", "PAP_R2", "PAP_R3", "PAP_R4", "RAP_R")
MARKS = TABLES_BY_NAME["E_MP_DAY_READ"].column("MARK").codes


# The suite is the contract's (expectations/raw/contract.py): DATA_ID / DATA_DATE not null,
# MARK in its set, DATA_DATE <= the export day (error: a reading from the future means a
# mislabelled or misplaced export), (DATA_ID, DATA_DATE) unique per file (warn: a
# re-delivery within one file is legal, the later COL_TIME wins), registers >= 0 (warn: a
# negative register is a source anomaly of one meter, a finding, not a broken delivery).
SUITE = contract.SUITES_BY_TABLE[TABLE]
assert SUITE.key_columns == ("DATA_ID", "DATA_DATE", "_source_file", "_line_number")
assert set(READING_COLUMNS) <= {c.name for c in TABLES_BY_NAME["E_MP_DAY_READ"].columns}

# One row per export day of the window: rows loaded that day against the latest earlier
# export day (31 days back). Below read_count_min_share_of_previous -> truncated export.
READ_COUNT_VS_PREVIOUS_DAY = MetricCheck(
    name="read_count_vs_previous_day",
    table=TABLE,
    severity=ERROR,
    description=(
        "an export day's readings are at least read_count_min_share_of_previous of the "
        "previous export day's (a truncated or missing export fails)"
    ),
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
