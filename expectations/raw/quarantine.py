"""Quarantine checks (quarantine.rejected_rows, meta.extract_files) as DuckDB metrics:
shares across files and tables are aggregates GX cannot express on one batch."""

from __future__ import annotations

from expectations import RAW_TABLES
from expectations.base import ERROR, WARN, MetricCheck

# One row per table and export day of the window; one result per raw table.
QUARANTINE_SHARE = MetricCheck(
    name="quarantine_share",
    table="quarantine.rejected_rows",
    severity=ERROR,
    description="a table's rejected rows are at most quarantine_max_share of its rows read, "
                "per export day",
    sql="""
select
    'raw_' || system || '.' || table_name as checked_table,
    system,
    table_name,
    export_date,
    sum(rows_read) as rows_read,
    sum(rows_rejected) as rows_rejected,
    round(sum(rows_rejected) / nullif(sum(rows_read), 0), 6) as rejected_share,
    coalesce(sum(rows_rejected) > $quarantine_max_share * sum(rows_read), false) as failed
from meta.extract_files
where export_date between cast($start_date as date) and cast($end_date as date)
group by system, table_name, export_date
order by system, table_name, export_date
""",
    key_columns=("system", "table_name", "export_date"),
    requires=("meta.extract_files",),
    settings=("quarantine_max_share",),
    table_column="checked_table",
    tables=RAW_TABLES,
)

# The extract's bookkeeping agrees with what it quarantined (one row per table-day).
QUARANTINE_MATCHES_EXTRACT_LOG = MetricCheck(
    name="quarantine_rows_match_extract_log",
    table="quarantine.rejected_rows",
    severity=WARN,
    description="quarantine.rejected_rows holds as many rows per table and export day as "
                "meta.extract_files says were rejected",
    sql="""
with logged as (
    select system, table_name, export_date, sum(rows_rejected) as rows_rejected_logged
    from meta.extract_files
    where export_date between cast($start_date as date) and cast($end_date as date)
    group by all
),
quarantined as (
    select system, table_name, export_date, count(*) as rows_quarantined
    from quarantine.rejected_rows
    where export_date between cast($start_date as date) and cast($end_date as date)
    group by all
)
select
    'raw_' || system || '.' || table_name as checked_table,
    system, table_name, export_date,
    coalesce(rows_rejected_logged, 0) as rows_rejected_logged,
    coalesce(rows_quarantined, 0) as rows_quarantined,
    coalesce(rows_rejected_logged, 0) <> coalesce(rows_quarantined, 0) as failed
from logged full outer join quarantined using (system, table_name, export_date)
order by system, table_name, export_date
""",
    key_columns=("system", "table_name", "export_date"),
    requires=("meta.extract_files", "quarantine.rejected_rows"),
    table_column="checked_table",
    tables=RAW_TABLES,
)

METRIC_CHECKS = (QUARANTINE_SHARE, QUARANTINE_MATCHES_EXTRACT_LOG)
