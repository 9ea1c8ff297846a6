"""Quarantine checks (quarantine.rejected_rows, meta.extract_files) as DuckDB metrics:
shares across files and tables are aggregates GX cannot express on one batch."""

from __future__ import annotations

from expectations import RAW_TABLES
from expectations.base import ERROR, WARN, MetricCheck

# A bad row is quarantined and never stops the other rows (source-extracts.md): rejected
# rows block the publish only as evidence of a systemic failure. One row per table and
# export day of the window: its rejected rows, their share, the files and the reasons.
_TABLE_DAYS = """
with files as (
    select
        system, table_name, export_date, source_file, rows_read, rows_rejected,
        -- a file none of whose rows could be loaded (wrong encoding, shifted columns ...)
        rows_read > 0 and rows_rejected = rows_read as wholly_rejected
    from meta.extract_files
    where export_date between cast($start_date as date) and cast($end_date as date)
),
reasons as (
    -- the reason without the offending value: "DATA_DATE: not a valid date" x 3
    select system, table_name, export_date,
        string_agg(reason || ' x ' || n_rows, '; ' order by n_rows desc, reason) as reasons
    from (
        select system, table_name, export_date,
            regexp_replace(reason, ' \\([^)]*\\)', '', 'g') as reason, count(*) as n_rows
        from quarantine.rejected_rows
        where export_date between cast($start_date as date) and cast($end_date as date)
        group by all
    )
    group by all
),
table_days as (
    select
        system, table_name, export_date,
        sum(rows_read) as rows_read,
        sum(rows_rejected) as rows_rejected,
        round(sum(rows_rejected) / nullif(sum(rows_read), 0), 6) as rejected_share,
        string_agg(source_file, ', ' order by source_file)
            filter (where rows_rejected > 0) as files,
        string_agg(source_file, ', ' order by source_file)
            filter (where wholly_rejected) as wholly_rejected_files
    from files
    group by all
)
select
    'raw_' || t.system || '.' || t.table_name as checked_table,
    t.*,
    r.reasons,
    coalesce(
        t.wholly_rejected_files is not null
        or (t.rows_rejected > $quarantine_min_rejected_rows
            and t.rows_rejected > $quarantine_max_share * t.rows_read),
        false) as systemic
from table_days as t
left join reasons as r using (system, table_name, export_date)
"""


def _table_day_check(name: str, severity, description: str, failed: str) -> MetricCheck:
    """A check over the table-days of _TABLE_DAYS that fails where `failed` is true."""
    return MetricCheck(
        name=name,
        table="quarantine.rejected_rows",
        severity=severity,
        description=description,
        sql=f"""
select * exclude (systemic), {failed} as failed
from ({_TABLE_DAYS})
order by system, table_name, export_date
""",
        key_columns=("system", "table_name", "export_date"),
        requires=("meta.extract_files", "quarantine.rejected_rows"),
        settings=("quarantine_max_share", "quarantine_min_rejected_rows"),
        table_column="checked_table",
        tables=RAW_TABLES,
    )


# Blocks: a table-day whose rejected rows are both more than quarantine_min_rejected_rows
# and above quarantine_max_share of its rows read, or a file none of whose rows loaded.
QUARANTINE_SHARE = _table_day_check(
    "quarantine_share",
    ERROR,
    "a table's rejected rows of an export day are systemic (more than "
    "quarantine_min_rejected_rows and above quarantine_max_share of its rows read), or a "
    "file had no loadable row",
    failed="systemic",
)

# Reports (warn) every other table-day with rejected rows: the run's summary and the
# table's asset check list the counts, files and reasons, and the publish goes ahead.
QUARANTINED_ROWS = _table_day_check(
    "quarantined_rows",
    WARN,
    "rows of this table were quarantined (below the systemic bounds: published; see "
    "quarantine.rejected_rows for file, line, raw text and reason)",
    failed="rows_rejected > 0 and not systemic",
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

METRIC_CHECKS = (QUARANTINE_SHARE, QUARANTINED_ROWS, QUARANTINE_MATCHES_EXTRACT_LOG)
