{{ config(**audit_daily_config('list_date')) }}
{#- 稽查工单清单 (清单形式发单, docs/work-orders.md §5): the lines of every unit's list of each
    day of the run, which the dispatch step writes to <workdir>/dispatch/<list_date>/
    <list_org_no>.xlsx and .csv, in line_seq order. Lines:
      dispatch  the orders dispatched on list_date to list_org_no (their receiving unit);
      overdue   超期督办, on a 县公司's list: the orders of its 供电所 (receiving level station)
                whose deadline was the day before (list_date - 1) and which have no valid
                answer by list_date (an answer that arrived on the list's day is no longer
                overdue business).
    Every line carries the fifteen locked fields of the workbook (work_order_layout.HEADERS;
    the columns are LOCKED_COLUMNS lower-cased) exactly as dispatched, the customer's real
    name and address included (not published). Incremental by list_date. -#}

with

window_dispatches as (

    select *
    from {{ ref('work_order_dispatches') }}
    where dispatch_date between {{ audit_start_date() }} and {{ audit_end_date() }}

),

{# orders whose deadline passed the day before a list day of the window -#}
overdue_candidates as (

    select d.*
    from {{ ref('work_order_dispatches') }} as d
    where d.answer_deadline >= {{ add_days(-1, audit_start_date()) }}
        and d.answer_deadline <= {{ add_days(-1, audit_end_date()) }}
        and d.receiving_level = 'station'
        and d.county_no is not null

),

overdue as (

    select c.*
    from overdue_candidates as c
    where not exists (
        select 1
        from {{ ref('work_order_events') }} as e
        where e.work_order_no = c.work_order_no
            and e.source = 'feedback'
            and e.event_date <= {{ add_days(1, 'c.answer_deadline') }}
    )

),

lines as (

    select
        dispatch_date as list_date,
        receiving_org_no as list_org_no,
        'dispatch' as line_type,
        *
    from window_dispatches

    union all

    select
        {{ add_days(1, 'answer_deadline') }} as list_date,
        county_no as list_org_no,
        'overdue' as line_type,
        *
    from overdue

)

select
    cast(l.list_date as date)                                   as list_date,
    cast(l.list_org_no as {{ dbt.type_string() }})              as list_org_no,
    cast(l.line_type as {{ dbt.type_string() }})                as line_type,
    cast(row_number() over (
        partition by l.list_date, l.list_org_no
        order by case when l.line_type = 'dispatch' then 0 else 1 end, l.work_order_no
    ) as {{ dbt.type_int() }})                                  as line_seq,
    cast(l.work_order_no as {{ dbt.type_string() }})            as work_order_no,
    cast(l.dispatch_date as date)                               as dispatch_date,
    cast(l.answer_deadline as date)                             as answer_deadline,
    cast(l.station_name as {{ dbt.type_string() }})             as station_name,
    cast(l.tg_id as {{ dbt.type_string() }})                    as tg_id,
    cast(l.tg_name as {{ dbt.type_string() }})                  as tg_name,
    cast(l.cons_no as {{ dbt.type_string() }})                  as cons_no,
    cast(l.cons_name as {{ dbt.type_string() }})                as cons_name,
    cast(l.elec_addr as {{ dbt.type_string() }})                as elec_addr,
    cast(l.problem_code as {{ dbt.type_string() }})             as problem_code,
    cast(l.problem_name as {{ dbt.type_string() }})             as problem_name,
    cast(l.problem_desc as {{ dbt.type_string() }})             as problem_desc,
    cast(l.suggested_action as {{ dbt.type_string() }})         as suggested_action,
    cast(l.first_detected_date as date)                         as first_detected_date,
    cast(l.consecutive_days as {{ dbt.type_int() }})            as consecutive_days,
    cast(l.receiving_org_no as {{ dbt.type_string() }})         as receiving_org_no,
    cast(l.finding_key as {{ dbt.type_string() }})              as finding_key
from lines as l
where l.list_org_no is not null
