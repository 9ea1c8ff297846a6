{{ config(**audit_daily_config('state_date')) }}
{#- 工单状态机 (docs/work-orders.md §3): the state of every finding key's work order at the end
    of each day of the run window (audit_start_date() .. end_date, the days
    marts.problem_history recomputes). One row per day and finding key that has something on
    that day: an open order at its end, an event (answer, verification, dispatch), or a
    false-positive suppression still running. Incremental by state_date (delete+insert).

    The loop is sequential per finding key: an order's resolution on D decides whether the
    finding is dispatched again on D or later. It is written as a recursive CTE over the
    window's days (day D from the state of D-1), not as a Jinja loop over the days:
      * it compiles to the same SQL for any window length, also inside dbt unit tests
        (whose window bounds are SQL expressions, not literals a Jinja loop could count);
      * WITH RECURSIVE ... UNION ALL is standard SQL (DuckDB, Postgres, Spark 3.4+, Trino);
        the recursive term references the CTE once, inner-joined (no aggregate, no outer
        join on its side), so it stays within every engine's restrictions;
      * a chain of 60 CTEs would be a 60-level plan.
    Each key's chain starts on the window's first day when the state of the day before
    carries it (read from {{ this }}, one day, like problem_history carries its runs), else on
    its first firing day in the window, and runs to the window's end: a daily run costs the
    open orders plus that day's findings, and a multi-day run gives exactly the rows the
    daily runs give (an empty state is not stored, and a key without a stored state starts
    with an empty one).

    On day D, for a key with state S (end of D-1):
      1. answers of D to S's open order (the only valid ones: an answer to any other
         number is rejected, audit.work_order_feedback_rejections): the last one wins
         (FEEDBACK_DATE, source file, line): 不属实 -> 已归档 (false_positive, suppression
         from D), 属实 + 已整改 -> 待验证 (rectified_date = D), 属实 otherwise -> 整改中;
      2. an order 待验证 since R < D: the finding fires on D -> 整改无效; else, when
         D - R >= work_order_verify_days (and, where the policy says so, the area's
         loss_status was qualified on each of the last work_order_verify_days days) ->
         已归档 (verified);
      3. a finding firing on D with no open order and no running suppression is
         dispatched when its consecutive_days reach dispatch_after_days, or at once when
         step 2 closed its order 整改无效. -#}
{%- set first_day = date_literal(audit_start_date()) %}
{%- set verify_days = setting('work_order_verify_days', 'integer') %}

with recursive

days as (

    select detected_date from ({{ audit_days() }}) as window_days

),

policy as (

    select * from {{ ref('dispatch_policy') }}

),

findings as (

    select
        detected_date,
        finding_key,
        problem_code,
        org_no,
        consecutive_days
    from {{ ref('problem_history') }}
    where detected_date between {{ audit_start_date() }} and {{ audit_end_date() }}

),

{{ org_units('org_units', days='days', from_date=first_day) }},

{# the state at the end of the day before the window (a table written by the runs before) #}
{% if is_incremental() -%}
carried as (

    select
        s.finding_key,
        s.problem_code,
        s.open_no,
        s.open_status,
        s.open_rectified_date,
        s.last_false_date
    from {{ this }} as s
    inner join policy as p
        on p.problem_code = s.problem_code
    where s.state_date = {{ add_days(-1, first_day) }}
        and (
            s.open_no is not null
            or {{ add_days('p.suppress_days_after_false', 's.last_false_date') }} > {{ first_day }}
        )

),
{%- else %}
carried as (

    select
        cast(null as {{ dbt.type_string() }}) as finding_key,
        cast(null as {{ dbt.type_string() }}) as problem_code,
        cast(null as {{ dbt.type_string() }}) as open_no,
        cast(null as {{ dbt.type_string() }}) as open_status,
        cast(null as date) as open_rectified_date,
        cast(null as date) as last_false_date
    where 1 = 0

),
{% endif %}

{# each key's chain: from the first day (carried) or its first firing day #}
chain_starts as (

    select finding_key, problem_code, {{ first_day }} as start_date
    from carried

    union all

    select
        f.finding_key,
        min(f.problem_code) as problem_code,
        min(f.detected_date) as start_date
    from findings as f
    where not exists (
        select 1
        from carried as c
        where c.finding_key = f.finding_key
    )
    group by f.finding_key

),

{# 验证: for keys whose policy needs it, the qualified loss days of their area in the
    work_order_verify_days days ending on D (an area finding's key ends with its TG_ID) -#}
loss_days as (

    select l.tg_id, l.data_date
    from {{ ref('area_daily_loss') }} as l
    where l.data_date >= {{ add_days('1 - ' ~ verify_days, first_day) }}
        and l.data_date <= {{ audit_end_date() }}
        and l.loss_status = 'qualified'

),

qualified_days as (

    select
        k.finding_key,
        d.detected_date,
        count(l.data_date) as qualified_day_count
    from chain_starts as k
    inner join policy as p
        on p.problem_code = k.problem_code
        and p.verify_needs_qualified_loss
    cross join days as d
    left join loss_days as l
        on l.tg_id = substr(k.finding_key, {{ dbt.length('k.problem_code') }} + 2)
        and l.data_date >= {{ add_days('1 - ' ~ verify_days, 'd.detected_date') }}
        and l.data_date <= d.detected_date
    where d.detected_date >= k.start_date
    group by k.finding_key, d.detected_date

),

{# the inputs of every (key, day) of the chains; materialized (DuckDB, Postgres 12+): the
   recursive step joins it on every day, which must not evaluate its joins again -#}
key_days as {{ cte_materialized() }} (

    select
        k.finding_key,
        k.problem_code,
        d.detected_date as state_date,
        f.finding_key is not null as fires,
        f.consecutive_days,
        p.dispatch_after_days,
        p.answer_limit_days,
        p.suppress_days_after_false,
        p.verify_needs_qualified_loss,
        coalesce(q.qualified_day_count, 0) as qualified_day_count,
        case
            when p.receiving_level = 'county' then coalesce(u.county_no, u.station_no, f.org_no)
            else coalesce(u.station_no, f.org_no)
        end as receiving_org_no
    from chain_starts as k
    inner join days as d
        on d.detected_date >= k.start_date
    inner join policy as p
        on p.problem_code = k.problem_code
    left join findings as f
        on f.finding_key = k.finding_key
        and f.detected_date = d.detected_date
    left join org_units as u
        on u.detected_date = d.detected_date
        and u.org_no = f.org_no
    left join qualified_days as q
        on q.finding_key = k.finding_key
        and q.detected_date = d.detected_date

),

{# the valid answers' outcome per order and answer day: the last one wins -#}
ranked_answers as (

    select
        a.work_order_no,
        a.answer_date,
        a.is_confirmed,
        a.rectify_result_code,
        row_number() over (
            partition by a.work_order_no, a.answer_date
            order by
                coalesce(a.feedback_date, a.answer_date) desc,
                a.source_file desc,
                a.line_number desc
        ) as answer_rank
    from {{ ref('stg_feedback__answers') }} as a
    where a.answer_date between {{ audit_start_date() }} and {{ audit_end_date() }}

),

day_answers as (

    select
        work_order_no,
        answer_date,
        is_confirmed,
        {{ work_order_answer_status('is_confirmed', 'rectify_result_code') }} as answer_status
    from ranked_answers
    where answer_rank = 1

),

{# the day before each chain's first day: the carried state, or nothing -#}
chain_anchors as (

    select
        k.finding_key,
        {{ add_days(-1, 'k.start_date') }} as state_date,
        c.open_no,
        c.open_status,
        c.open_rectified_date,
        c.last_false_date
    from chain_starts as k
    left join carried as c
        on c.finding_key = k.finding_key

),

recursive_states as (

    -- anchor: the state at the end of the day before the chain's first day
    select
        finding_key,
        state_date,
        cast(null as {{ dbt.type_string() }}) as prev_open_no,
        cast(null as {{ dbt.type_string() }}) as prev_status,
        cast(null as {{ dbt.type_string() }}) as answered_no,
        cast(null as {{ dbt.type_string() }}) as answer_status,
        cast(null as {{ dbt.type_string() }}) as closed_no,
        cast(null as {{ dbt.type_string() }}) as closed_status,
        cast(null as {{ dbt.type_string() }}) as archive_reason,
        cast(null as {{ dbt.type_string() }}) as dispatched_no,
        cast(null as {{ dbt.type_string() }}) as dispatched_org_no,
        cast(open_no as {{ dbt.type_string() }}) as open_no,
        cast(open_status as {{ dbt.type_string() }}) as open_status,
        cast(open_rectified_date as date) as open_rectified_date,
        cast(last_false_date as date) as last_false_date
    from chain_anchors

    union all

    -- step 3 and the end-of-day state
    select
        s2.finding_key,
        s2.state_date,
        s2.prev_open_no,
        s2.prev_status,
        s2.answered_no,
        s2.answer_status,
        s2.closed_no,
        s2.closed_status,
        s2.archive_reason,
        case
            when s2.dispatches
                then {{ work_order_no('s2.state_date', 's2.problem_code', 's2.finding_key') }}
        end as dispatched_no,
        case when s2.dispatches then s2.receiving_org_no end as dispatched_org_no,
        case
            when s2.dispatches
                then {{ work_order_no('s2.state_date', 's2.problem_code', 's2.finding_key') }}
            when s2.closed_no is null then s2.prev_open_no
        end as open_no,
        case
            when s2.dispatches then '已派发'
            when s2.closed_no is null then s2.step2_status
        end as open_status,
        case
            when s2.dispatches or s2.closed_no is not null then cast(null as date)
            else s2.step1_rectified_date
        end as open_rectified_date,
        s2.step1_false_date as last_false_date
    from (
        -- step 2: verification; and whether step 3 dispatches
        select
            s1.*,
            case
                when s1.step1_status = '已归档' then s1.prev_open_no
                when s1.is_ineffective or s1.is_verified then s1.prev_open_no
            end as closed_no,
            case
                when s1.step1_status = '已归档' then '已归档'
                when s1.is_ineffective then '整改无效'
                when s1.is_verified then '已归档'
            end as closed_status,
            case
                when s1.step1_status = '已归档' then 'false_positive'
                when s1.is_verified then 'verified'
            end as archive_reason,
            case
                when s1.is_ineffective then '整改无效'
                when s1.is_verified then '已归档'
                else s1.step1_status
            end as step2_status,
            coalesce(
                s1.fires
                and (
                    s1.prev_open_no is null
                    or s1.step1_status = '已归档'
                    or s1.is_ineffective
                    or s1.is_verified
                )
                and not (
                    s1.step1_false_date is not null
                    and s1.state_date
                    < {{ add_days('s1.suppress_days_after_false', 's1.step1_false_date') }}
                )
                and (s1.consecutive_days >= s1.dispatch_after_days or s1.is_ineffective),
                false
            ) as dispatches
        from (
            -- step 1: the day's answers to the open order
            select
                t1.*,
                coalesce(
                    t1.step1_status = '待验证'
                    and t1.step1_rectified_date < t1.state_date
                    and t1.fires,
                    false
                ) as is_ineffective,
                coalesce(
                    t1.step1_status = '待验证'
                    and t1.step1_rectified_date < t1.state_date
                    and not t1.fires
                    and {{ dbt.datediff('t1.step1_rectified_date', 't1.state_date', 'day') }}  -- noqa: LT05
                    >= {{ verify_days }}  -- noqa: LT05
                    and (
                        not t1.verify_needs_qualified_loss
                        or t1.qualified_day_count >= {{ verify_days }}  -- noqa: LT05
                    ),
                    false
                ) as is_verified
            from (
                select
                    k.finding_key,
                    k.problem_code,
                    k.state_date,
                    k.fires,
                    k.consecutive_days,
                    k.dispatch_after_days,
                    k.suppress_days_after_false,
                    k.verify_needs_qualified_loss,
                    k.qualified_day_count,
                    k.receiving_org_no,
                    s.open_no as prev_open_no,
                    s.open_status as prev_status,
                    a.work_order_no as answered_no,
                    a.answer_status,
                    coalesce(a.answer_status, s.open_status) as step1_status,
                    case
                        when a.answer_status = '待验证' then k.state_date
                        when a.answer_status is not null then cast(null as date)
                        else s.open_rectified_date
                    end as step1_rectified_date,
                    case
                        when a.answer_status = '已归档' then k.state_date
                        else s.last_false_date
                    end as step1_false_date
                from recursive_states as s
                inner join key_days as k
                    on k.finding_key = s.finding_key
                    and k.state_date = {{ add_days(1, 's.state_date') }}
                left join day_answers as a
                    on a.work_order_no = s.open_no
                    and a.answer_date = k.state_date
            ) as t1
        ) as s1
    ) as s2

),

states as (

    select
        r.*,
        k.problem_code,
        k.suppress_days_after_false
    from recursive_states as r
    inner join key_days as k
        on k.finding_key = r.finding_key
        and k.state_date = r.state_date

)

select
    cast(s.state_date as date)                                  as state_date,
    cast(s.finding_key as {{ dbt.type_string() }})              as finding_key,
    cast(s.problem_code as {{ dbt.type_string() }})             as problem_code,
    cast(s.prev_open_no as {{ dbt.type_string() }})             as prev_open_no,
    cast(s.prev_status as {{ dbt.type_string() }})              as prev_status,
    cast(s.answered_no as {{ dbt.type_string() }})              as answered_no,
    cast(s.answer_status as {{ dbt.type_string() }})            as answer_status,
    cast(s.closed_no as {{ dbt.type_string() }})                as closed_no,
    cast(s.closed_status as {{ dbt.type_string() }})            as closed_status,
    cast(s.archive_reason as {{ dbt.type_string() }})           as archive_reason,
    cast(s.dispatched_no as {{ dbt.type_string() }})            as dispatched_no,
    cast(s.dispatched_org_no as {{ dbt.type_string() }})        as dispatched_org_no,
    cast(s.open_no as {{ dbt.type_string() }})                  as open_no,
    cast(s.open_status as {{ dbt.type_string() }})              as open_status,
    cast(s.open_rectified_date as date)                         as open_rectified_date,
    cast(s.last_false_date as date)                             as last_false_date
from states as s
where s.open_no is not null
    or s.prev_open_no is not null
    or s.closed_no is not null
    or (
        s.last_false_date is not null
        and {{ add_days(1, 's.state_date') }}
        < {{ add_days('s.suppress_days_after_false', 's.last_false_date') }}
    )
