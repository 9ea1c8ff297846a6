{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key='delivery_date',
        on_schema_change='append_new_columns',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where delivery_date between {{ window_start_date() }} and {{ window_end_date() }}{% else %}select 1 as nothing_to_clear{% endif %}"
    )
}}

-- 应收电费交付记录 (A_RCVBL_FLOW, delta, key RCVBL_ID): one row per receivable and export
-- day on which it was delivered, the day's winning line (within one file the later line
-- wins; the table has no COL_TIME). A receivable is delivered when issued and again every
-- time RCVED_AMT / SETTLE_FLAG change, so the rows of one RCVBL_ID are its versions:
-- the version in effect on day D is the latest delivery_date <= D (B01), and every
-- delivery day is a B02 check day.
--   full refresh      every raw row
--   incremental run   only the raw rows exported in the run window (start_date..end_date,
--                     a filter on _export_date: a daily run reads one export day); the
--                     window's days are emptied first (pre_hook) and re-inserted, so a
--                     re-loaded day that lost a receivable loses its row here too.
-- Staging (stg_collection__receivables) keeps only the final state; the versions are
-- needed here, hence the raw rows (delivered_rows: the staging view inside unit tests).
-- Explicit lower-case aliases: DuckDB would otherwise keep the raw tables' upper-case names
-- (`raw_rows.rcvbl_id` alone is a column RCVBL_ID), so the self-aliases below are not the
-- no-op sqlfluff takes them for (AL09 is off for them).

with

delivered as (

    select
        -- noqa: disable=AL09
        raw_rows.rcvbl_id as rcvbl_id,
        raw_rows.cons_no as cons_no,
        raw_rows.org_no as org_no,
        raw_rows.rcvbl_ym as rcvbl_ym,
        raw_rows.t_pq as t_pq,
        raw_rows.read_src as read_src,
        raw_rows.rcvbl_amt as rcvbl_amt,
        raw_rows.rcved_amt as rcved_amt,
        raw_rows.rcvbl_penalty as rcvbl_penalty,
        raw_rows.issue_date as issue_date,
        raw_rows.due_date as due_date,
        raw_rows.settle_flag as settle_flag,
        raw_rows._export_date as _export_date,
        raw_rows._source_file as _source_file,
        raw_rows._line_number as _line_number,
        -- noqa: enable=AL09
        row_number() over (
            partition by raw_rows.rcvbl_id, raw_rows._export_date
            order by raw_rows._line_number desc
        ) as line_rank
    from
        {{ delivered_rows('stg_collection__receivables', 'raw_collection', 'A_RCVBL_FLOW') }}
        as raw_rows
    where raw_rows.rcvbl_id is not null
    {%- if is_incremental() %}
        and raw_rows._export_date between {{ window_start_date() }} and {{ window_end_date() }}
    {%- endif %}

)

select
    _export_date as delivery_date,
    rcvbl_id,
    cons_no,
    org_no,
    rcvbl_ym as billing_month,
    t_pq as billed_kwh,
    read_src as read_source_code,
    rcvbl_amt as receivable_amount,
    rcved_amt as received_amount,
    rcvbl_penalty as penalty_amount,
    issue_date,
    due_date,
    settle_flag,
    _source_file,
    _line_number
from delivered
where line_rank = 1
