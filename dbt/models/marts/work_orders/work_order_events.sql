{{ config(**audit_daily_config('event_date')) }}
{#- 工单事件: every transition of every work order (docs/work-orders.md §3, §7), with its
    day and source: `dispatch` (null -> 已派发), `feedback` (each valid answer: -> 已反馈, then
    已反馈 -> 已归档 / 待验证 / 整改中, with the answer's file and row), `verification`
    (待验证 -> 已归档 or 整改无效). Within a day event_seq orders them: the answers in
    the order they are applied (FEEDBACK_DATE, source file, line), then verification, then
    dispatch. Derived from audit.work_order_states (the valid answers of day D are those to
    the order a key had open at the end of D-1). Incremental by event_date. -#}

with

states as (

    select *
    from {{ ref('work_order_states') }}
    where state_date between {{ audit_start_date() }} and {{ audit_end_date() }}

),

valid_answers as (

    select
        a.*,
        s.finding_key,
        s.problem_code,
        s.prev_status,
        {{ work_order_answer_status('a.is_confirmed', 'a.rectify_result_code') }} as to_status,
        row_number() over (
            partition by a.work_order_no, a.answer_date
            order by coalesce(a.feedback_date, a.answer_date), a.source_file, a.line_number
        ) as answer_seq
    from {{ ref('stg_feedback__answers') }} as a
    inner join states as s
        on s.state_date = a.answer_date
        and s.prev_open_no = a.work_order_no
    where a.answer_date between {{ audit_start_date() }} and {{ audit_end_date() }}

),

answer_steps as (

    select
        v.*,
        coalesce(
            lag(v.to_status) over (
                partition by v.work_order_no, v.answer_date
                order by v.answer_seq
            ),
            v.prev_status
        ) as from_status
    from valid_answers as v

),

events as (

    select
        answer_date as event_date,
        2 * answer_seq - 1 as event_seq,
        work_order_no,
        finding_key,
        problem_code,
        from_status,
        '已反馈' as to_status,
        'feedback' as source,  -- noqa: RF04
        form as source_form,
        source_file,
        line_number,
        cast(null as {{ dbt.type_string() }}) as archive_reason
    from answer_steps

    union all

    select
        answer_date as event_date,
        2 * answer_seq as event_seq,
        work_order_no,
        finding_key,
        problem_code,
        '已反馈' as from_status,
        to_status,
        'feedback' as source,  -- noqa: RF04
        form as source_form,
        source_file,
        line_number,
        case when to_status = '已归档' then 'false_positive' end as archive_reason
    from answer_steps

    union all

    select
        state_date as event_date,
        1000 as event_seq,
        closed_no as work_order_no,
        finding_key,
        problem_code,
        '待验证' as from_status,
        closed_status as to_status,
        'verification' as source,  -- noqa: RF04
        cast(null as {{ dbt.type_string() }}) as source_form,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as {{ dbt.type_bigint() }}) as line_number,
        archive_reason
    from states
    where closed_no is not null
        and (closed_status = '整改无效' or archive_reason = 'verified')

    union all

    select
        state_date as event_date,
        2000 as event_seq,
        dispatched_no as work_order_no,
        finding_key,
        problem_code,
        cast(null as {{ dbt.type_string() }}) as from_status,
        '已派发' as to_status,
        'dispatch' as source,  -- noqa: RF04
        cast(null as {{ dbt.type_string() }}) as source_form,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as {{ dbt.type_bigint() }}) as line_number,
        cast(null as {{ dbt.type_string() }}) as archive_reason
    from states
    where dispatched_no is not null

)

select
    cast(event_date as date)                            as event_date,
    cast(event_seq as {{ dbt.type_int() }})             as event_seq,
    cast(work_order_no as {{ dbt.type_string() }})      as work_order_no,
    cast(finding_key as {{ dbt.type_string() }})        as finding_key,
    cast(problem_code as {{ dbt.type_string() }})       as problem_code,
    cast(from_status as {{ dbt.type_string() }})        as from_status,
    cast(to_status as {{ dbt.type_string() }})          as to_status,
    cast(source as {{ dbt.type_string() }})             as source,  -- noqa: RF04
    cast(source_form as {{ dbt.type_string() }})        as source_form,
    cast(source_file as {{ dbt.type_string() }})        as source_file,
    cast(line_number as {{ dbt.type_bigint() }})        as line_number,
    cast(archive_reason as {{ dbt.type_string() }})     as archive_reason
from events
