{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key=['data_id', 'data_date'],
        on_schema_change='append_new_columns'
    )
}}
-- depends_on: {{ source('raw_acquisition', 'E_MP_DAY_READ') }}

-- 日冻结示值终态 (E_MP_DAY_READ, delta, key DATA_ID + DATA_DATE), kept incrementally:
-- the final state of every reading, the same rule as stg_acquisition__day_reads (the later
-- _export_date wins; within one file the later COL_TIME, a NULL loses; then the later line).
--   full refresh      every raw row is ranked: equals the staging view
--   incremental run   only the raw rows delivered in the run window (start_date..end_date)
--                     are read; for the keys they touch they are ranked together with the
--                     final rows already kept (except those delivered in the window, which
--                     the raw rows re-deliver) and exactly those keys are replaced
--                     (delete+insert on data_id, data_date). A daily run reads one day.
-- Re-running a window gives the same rows (a re-delivered row ties with itself).

{%- set columns = ['data_id', 'data_date', 'col_time', 'pap_r', 'pap_r1', 'pap_r2', 'pap_r3',
                   'pap_r4', 'rap_r', 'mark', '_export_date', '_source_file', '_line_number'] %}

with

delivered as (

    select
        {%- for column in columns %}
        raw_reads.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source('raw_acquisition', 'E_MP_DAY_READ') }} as raw_reads
    {%- if is_incremental() %}
    where raw_reads._export_date between {{ window_start_date() }} and {{ window_end_date() }}
    {%- endif %}

),

{%- if is_incremental() %}

touched_keys as (

    select distinct data_id, data_date
    from delivered

),

kept as (

    select
        {%- for column in columns %}
        kept_rows.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as kept_rows
    inner join touched_keys
        on touched_keys.data_id = kept_rows.data_id
        and touched_keys.data_date = kept_rows.data_date
    where kept_rows._export_date < {{ window_start_date() }}
        or kept_rows._export_date > {{ window_end_date() }}

),

candidates as (

    select * from delivered
    union all
    select * from kept

),

{%- else %}

candidates as (

    select * from delivered

),

{%- endif %}

final_rows as (

    {{ final_state_rows('candidates', ['data_id', 'data_date'], 'col_time') }}

)

select
    {%- for column in columns %}
    {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from final_rows
