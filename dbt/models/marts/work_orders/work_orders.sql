{#- 稽查工单 (docs/work-orders.md §7): one row per work order, its identity, receiving unit,
    dispatch day and deadline, its status as of the newest day of the data
    (marts.problem_history), the fields of its winning answer (the last valid one) and the
    days of its transitions (marts.work_order_events). Rebuilt from the dispatches and the
    events every run: orders are few (a work order is a finding someone must visit), and a
    status, an overdue flag and a recurrence all change with days that pass. -#}
{%- set as_of_date = date_literal(
    '(select max(detected_date) from ' ~ ref('problem_history') ~ ')'
) %}
{%- set recurrence_days = setting('work_order_recurrence_days', 'integer') %}

with

dispatches as (

    select * from {{ ref('work_order_dispatches') }}

),

events as (

    select * from {{ ref('work_order_events') }}

),

ranked_events as (

    select
        e.*,
        row_number() over (
            partition by e.work_order_no
            order by e.event_date desc, e.event_seq desc
        ) as newest_rank
    from events as e

),

answer_events as (

    select
        e.*,
        row_number() over (
            partition by e.work_order_no order by e.event_date desc, e.event_seq desc
        ) as answer_rank
    from events as e
    where e.source = 'feedback'
        and e.from_status = '已反馈'

),

order_days as (

    select
        work_order_no,
        min(case when source = 'feedback' then event_date end) as first_answer_date
    from events
    group by work_order_no

),

winning_answers as (

    select
        e.work_order_no,
        e.event_date as answer_date,
        e.to_status as answer_status,
        a.form,
        a.source_file,
        a.line_number,
        a.check_result,
        a.is_confirmed,
        a.other_findings,
        a.rectify_start_time,
        a.rectify_result_code,
        a.rectify_result_name,
        a.rectify_app_no,
        a.checker,
        a.feedback_date
    from answer_events as e
    inner join {{ ref('stg_feedback__answers') }} as a
        on a.answer_date = e.event_date
        and a.form = e.source_form
        and a.source_file = e.source_file
        and a.line_number = e.line_number
    where e.answer_rank = 1

),

{# 重复发生: a verified order's finding firing within work_order_recurrence_days days after
    the archiving day (the newest event of a closed order is its closure) -#}
{%- set first_verified = date_literal(
    "(select coalesce(min(event_date), cast('9999-12-31' as date)) from " ~ ref('work_order_events')
    ~ " where archive_reason = 'verified')") %}
recurrences as (

    select distinct o.work_order_no
    from dispatches as o
    inner join ranked_events as n
        on n.work_order_no = o.work_order_no
        and n.newest_rank = 1
        and n.archive_reason = 'verified'
    inner join {{ ref('problem_history') }} as h
        on h.finding_key = o.finding_key
        and h.detected_date > n.event_date
        and h.detected_date <= {{ add_days(recurrence_days, 'n.event_date') }}
    where h.detected_date > {{ first_verified }}

)

select
    cast(o.work_order_no as {{ dbt.type_string() }})        as work_order_no,
    cast(o.finding_key as {{ dbt.type_string() }})          as finding_key,
    cast(o.problem_code as {{ dbt.type_string() }})         as problem_code,
    cast(o.problem_name as {{ dbt.type_string() }})         as problem_name,
    cast(o.tg_id as {{ dbt.type_string() }})               as tg_id,
    cast(o.cons_no as {{ dbt.type_string() }})             as cons_no,
    cast(o.app_no as {{ dbt.type_string() }})              as app_no,
    cast(o.finding_org_no as {{ dbt.type_string() }})      as finding_org_no,
    cast(o.receiving_org_no as {{ dbt.type_string() }})    as org_no,
    cast(o.receiving_org_name as {{ dbt.type_string() }})  as org_name,
    cast(o.receiving_level as {{ dbt.type_string() }})     as receiving_level,
    cast(o.station_no as {{ dbt.type_string() }})          as station_no,
    cast(o.county_no as {{ dbt.type_string() }})           as county_no,
    cast(o.city_no as {{ dbt.type_string() }})             as city_no,
    cast(o.dispatch_date as date)                          as dispatch_date,
    cast(o.answer_deadline as date)                        as answer_deadline,
    cast({{ as_of_date }} as date)                         as as_of_date,
    cast(n.to_status as {{ dbt.type_string() }})           as status,
    cast(
        coalesce(d.first_answer_date > o.answer_deadline, {{ as_of_date }} > o.answer_deadline)
        as boolean
    )                                                      as is_overdue,
    cast(d.first_answer_date as date)                      as first_answer_date,
    cast(w.answer_date as date)                            as answer_date,
    cast(w.form as {{ dbt.type_string() }})                as answer_form,
    cast(w.source_file as {{ dbt.type_string() }})         as answer_source_file,
    cast(w.line_number as {{ dbt.type_bigint() }})         as answer_line_number,
    cast(w.check_result as {{ dbt.type_string() }})        as check_result,
    cast(w.is_confirmed as boolean)                        as is_confirmed,
    cast(w.other_findings as {{ dbt.type_string() }})      as other_findings,
    cast(w.rectify_start_time as timestamp)                as rectify_start_time,
    cast(w.rectify_result_code as {{ dbt.type_string() }}) as rectify_result_code,
    cast(w.rectify_result_name as {{ dbt.type_string() }}) as rectify_result_name,
    cast(w.rectify_app_no as {{ dbt.type_string() }})      as rectify_app_no,
    cast(w.checker as {{ dbt.type_string() }})             as checker,
    cast(w.feedback_date as date)                          as feedback_date,
    cast(case when w.answer_status = '待验证' then w.answer_date end as date) as rectified_date,
    cast(case when n.archive_reason = 'verified' then n.event_date end as date) as verified_date,
    cast(case when n.to_status = '已归档' then n.event_date end as date) as archived_date,
    cast(case when n.to_status = '已归档' then n.archive_reason end
        as {{ dbt.type_string() }})                        as archive_reason,
    cast(case when n.to_status = '整改无效' then n.event_date end as date) as ineffective_date,
    cast(lag(o.work_order_no) over (partition by o.finding_key order by o.dispatch_date)
        as {{ dbt.type_string() }})                        as previous_work_order_no,
    cast(r.work_order_no is not null as boolean)           as is_recurrence
from dispatches as o
left join ranked_events as n
    on n.work_order_no = o.work_order_no
    and n.newest_rank = 1
left join order_days as d
    on d.work_order_no = o.work_order_no
left join winning_answers as w
    on w.work_order_no = o.work_order_no
left join recurrences as r
    on r.work_order_no = o.work_order_no
