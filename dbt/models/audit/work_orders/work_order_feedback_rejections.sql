{{ config(**audit_daily_config('answer_date')) }}
{#- 工单反馈拒收 (docs/work-orders.md §6): the answers of the run's days that the state
    machine cannot apply, with their file (relative to the landing directory), row and
    reason; the dispatch step copies them into quarantine.rejected_rows (system feedback,
    table_name = the raw table). An answer is applied only to the order its finding key had
    open at the end of the day before (audit.work_order_states); any other is
      * an answer to an order already closed (已归档 / 整改无效) before its answer day, or
      * an unknown 工单编号 (no order of that number was dispatched before the answer day).
    The extract's own rejections (malformed answers) never reach staging. Incremental by
    answer_date. -#}

with

answers as (

    select *
    from {{ ref('stg_feedback__answers') }}
    where answer_date between {{ audit_start_date() }} and {{ audit_end_date() }}

),

valid as (

    select s.state_date, s.prev_open_no
    from {{ ref('work_order_states') }} as s
    where s.state_date between {{ audit_start_date() }} and {{ audit_end_date() }}
        and s.prev_open_no is not null

),

closures as (

    select
        e.work_order_no,
        e.event_date,
        e.to_status,
        row_number() over (
            partition by e.work_order_no
            order by e.event_date desc, e.event_seq desc
        ) as closure_rank
    from {{ ref('work_order_events') }} as e
    inner join answers as a
        on a.work_order_no = e.work_order_no
        and a.answer_date > e.event_date
    where e.to_status in ('已归档', '整改无效')

),

rejected as (

    select
        a.*,
        d.dispatch_date,
        c.to_status as closed_status,
        c.event_date as closed_date
    from answers as a
    left join {{ ref('work_order_dispatches') }} as d
        on d.work_order_no = a.work_order_no
        and d.dispatch_date < a.answer_date
    left join closures as c
        on c.work_order_no = a.work_order_no
        and c.closure_rank = 1
    where not exists (
        select 1 from valid as v
        where v.state_date = a.answer_date
            and v.prev_open_no = a.work_order_no
    )

)

select
    cast(r.answer_date as date)                                         as answer_date,
    cast('feedback' as {{ dbt.type_string() }})                         as system,  -- noqa: RF04
    cast(case when r.form = 'workbook' then 'WORKBOOK_FEEDBACK' else 'R_AUDIT_FEEDBACK' end
        as {{ dbt.type_string() }})                                     as table_name,
    cast(r.form as {{ dbt.type_string() }})                             as form,
    cast(r.source_file as {{ dbt.type_string() }})                      as source_file,
    cast(r.sheet_name as {{ dbt.type_string() }})                       as sheet_name,
    cast(r.line_number as {{ dbt.type_bigint() }})                      as line_number,
    cast(r.work_order_no as {{ dbt.type_string() }})                    as work_order_no,
    cast(case when r.dispatch_date is null then 'unknown_work_order' else 'order_closed' end
        as {{ dbt.type_string() }})                                     as reason_code,
    cast(
        case when r.form = 'workbook' then 'sheet ' || coalesce(r.sheet_name, '') || ' row '
            || cast(r.line_number as {{ dbt.type_string() }}) || ': ' else '' end
        || case
            when r.dispatch_date is null
                then 'unknown 工单编号 ' || r.work_order_no || ' (no such order dispatched before '
                    || cast(r.answer_date as {{ dbt.type_string() }}) || ')'
            else 'answer to work order ' || r.work_order_no || ' already '
                || coalesce(r.closed_status, '已归档') || ' on '
                || coalesce(cast(r.closed_date as {{ dbt.type_string() }}), '?')
        end
        as {{ dbt.type_string() }})                                     as reason
from rejected as r
