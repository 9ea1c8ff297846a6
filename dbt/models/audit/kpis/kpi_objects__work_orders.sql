{#- 同业对标对象 · 稽查工单 (逐级考核, docs/work-orders.md §4): one row per indicator, day and
    work order of the audit window (int_kpi_window day_facts_from_date .. to_date), unit =
    the order's receiving unit (供电所, or 县公司 for E01), rolled up to 县公司 and 地市公司 by
    marts.unit_kpi_daily. Each figure is known on its day: only answers and transitions up to
    D count (marts.work_order_events), so later data never changes an earlier day.
      wo_dispatched       派单数: orders dispatched on D (1 / 1)
      wo_on_time_rate     按时反馈率: orders with deadline D, answered (valid) on or before D
      wo_confirmed_rate   查实率: orders first answered on D, the first answer 属实
      wo_rectified_rate   整改完成率: orders with deadline D whose last answer by D is 属实,
                          that answer 已整改
      wo_effective_rate   整改有效率: orders verified (已归档 verified) or 整改无效 on D, verified
      wo_recurrence_rate  重复发生率: orders verified on D - work_order_recurrence_days whose
                          finding fired on a day after that, up to D
      wo_mean_close_days  平均闭环天数: orders archived (已归档, any reason) on D, the days from
                          dispatch (numerator) per order (denominator 1): the mean
      wo_overdue          超期工单数: orders with D > deadline and no valid answer by D (1 / 1) -#}

{%- set bounds = kpi_window_bounds(['day_facts_from_date', 'to_date']) -%}
{%- set day_from = bounds['day_facts_from_date'] -%}
{%- set to_date = bounds['to_date'] %}
{%- set recurrence_days = setting('work_order_recurrence_days', 'integer') %}
{#- the findings a recurrence can be: after the earliest V of the window's days (a date
    literal outside unit tests, so the scan of problem_history reads those days only) -#}
{%- set recurrence_from = date_literal(add_days('1 - ' ~ recurrence_days, day_from)) %}

with

days as (

    {{ day_spine(day_from, to_date) }}

),

orders as (

    select * from {{ ref('work_orders') }}

),

events as (

    select * from {{ ref('work_order_events') }}
    where event_date <= {{ to_date }}

),

{# each valid answer's outcome (the event 已反馈 -> its status), in the order applied -#}
answers as (

    select
        work_order_no,
        event_date,
        event_seq,
        to_status,
        row_number() over (partition by work_order_no order by event_date, event_seq) as answer_no
    from events
    where source = 'feedback'
        and from_status = '已反馈'

),

first_answers as (

    select work_order_no, event_date as first_answer_date, to_status <> '已归档' as is_confirmed
    from answers
    where answer_no = 1

),

{# the last answer of an order with deadline D, by D -#}
deadline_answers as (

    select
        o.work_order_no,
        a.to_status,
        row_number() over (
            partition by o.work_order_no
            order by a.event_date desc, a.event_seq desc
        ) as answer_rank
    from orders as o
    inner join answers as a
        on a.work_order_no = o.work_order_no
        and a.event_date <= o.answer_deadline
    where o.answer_deadline between {{ day_from }} and {{ to_date }}

),

closures as (

    select work_order_no, event_date, to_status, archive_reason
    from events
    where to_status in ('已归档', '整改无效')

),

verified as (

    select work_order_no, event_date as verified_date
    from events
    where archive_reason = 'verified'

),

facts as (

    select
        o.dispatch_date as data_date,
        'wo_dispatched' as indicator_code,
        o.work_order_no,
        1 as numerator_value,
        1 as denominator_value
    from orders as o
    where o.dispatch_date between {{ day_from }} and {{ to_date }}

    union all

    select
        o.answer_deadline as data_date,
        'wo_on_time_rate' as indicator_code,
        o.work_order_no,
        case when f.first_answer_date <= o.answer_deadline then 1 else 0 end as numerator_value,
        1 as denominator_value
    from orders as o
    left join first_answers as f
        on f.work_order_no = o.work_order_no
    where o.answer_deadline between {{ day_from }} and {{ to_date }}

    union all

    select
        f.first_answer_date as data_date,
        'wo_confirmed_rate' as indicator_code,
        f.work_order_no,
        case when f.is_confirmed then 1 else 0 end as numerator_value,
        1 as denominator_value
    from first_answers as f
    where f.first_answer_date between {{ day_from }} and {{ to_date }}

    union all

    select
        o.answer_deadline as data_date,
        'wo_rectified_rate' as indicator_code,
        o.work_order_no,
        case when a.to_status = '待验证' then 1 else 0 end as numerator_value,
        1 as denominator_value
    from orders as o
    inner join deadline_answers as a
        on a.work_order_no = o.work_order_no
        and a.answer_rank = 1
    where a.to_status <> '已归档'

    union all

    select
        c.event_date as data_date,
        'wo_effective_rate' as indicator_code,
        c.work_order_no,
        case when c.archive_reason = 'verified' then 1 else 0 end as numerator_value,
        1 as denominator_value
    from closures as c
    where c.event_date between {{ day_from }} and {{ to_date }}
        and (c.archive_reason = 'verified' or c.to_status = '整改无效')

    union all

    select
        {{ add_days(recurrence_days, 'v.verified_date') }} as data_date,
        'wo_recurrence_rate' as indicator_code,
        v.work_order_no,
        case when exists (
            select 1
            from {{ ref('problem_history') }} as h
            where h.finding_key = o.finding_key
                and h.detected_date >= {{ recurrence_from }}
                and h.detected_date > v.verified_date
                and h.detected_date <= {{ add_days(recurrence_days, 'v.verified_date') }}
        ) then 1 else 0 end as numerator_value,
        1 as denominator_value
    from verified as v
    inner join orders as o
        on o.work_order_no = v.work_order_no
    where {{ add_days(recurrence_days, 'v.verified_date') }} >= {{ day_from }}
        and {{ add_days(recurrence_days, 'v.verified_date') }} <= {{ to_date }}

    union all

    select
        c.event_date as data_date,
        'wo_mean_close_days' as indicator_code,
        c.work_order_no,
        {{ dbt.datediff('o.dispatch_date', 'c.event_date', 'day') }} as numerator_value,  -- noqa: LT05
        1 as denominator_value
    from closures as c
    inner join orders as o
        on o.work_order_no = c.work_order_no
    where c.event_date between {{ day_from }} and {{ to_date }}
        and c.to_status = '已归档'

    union all

    select
        d.data_date,
        'wo_overdue' as indicator_code,
        o.work_order_no,
        1 as numerator_value,
        1 as denominator_value
    from days as d
    inner join orders as o
        on o.answer_deadline < d.data_date
        and o.dispatch_date <= d.data_date
    left join first_answers as f
        on f.work_order_no = o.work_order_no
    where f.first_answer_date is null or f.first_answer_date > d.data_date

),

described as (

    select
        f.data_date,
        f.indicator_code,
        'work_order' as object_type,
        f.work_order_no as object_id,
        o.tg_id,
        o.cons_no,
        o.org_no,
        f.numerator_value,
        f.denominator_value,
        '工单 ' || o.work_order_no || ' ' || o.problem_code || ' ' || coalesce(o.problem_name, '')
            || ' (' || o.finding_key || '), 派发 ' || cast(o.dispatch_date as {{ dbt.type_string() }})
            || ', 反馈期限 ' || cast(o.answer_deadline as {{ dbt.type_string() }})
            {#- what was known on the fact's day only: a run that ends earlier must write
                the same text (an answer after data_date is not yet an answer) -#}
            || ', 首次反馈 ' || case when fa.first_answer_date <= f.data_date
                then cast(fa.first_answer_date as {{ dbt.type_string() }})
                    || case when fa.is_confirmed then ' 属实' else ' 不属实' end
                else '无' end as detail
    from facts as f
    inner join orders as o
        on o.work_order_no = f.work_order_no
    left join first_answers as fa
        on fa.work_order_no = f.work_order_no

)

select
    {{ kpi_object_columns('d') }}
from described as d
