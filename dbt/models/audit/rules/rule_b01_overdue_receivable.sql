{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- B01 电费逾期未结清: on day D a receivable (A_RCVBL_FLOW) whose latest delivery on or
    before D is not settled (SETTLE_FLAG <> '03') and D - DUE_DATE > overdue_grace_days.
    The state as of each D comes from int_receivables_open_daily (carried incrementally),
    so a backfill sees each day's state and a receivable settled on day S stops firing
    on S. One finding per customer and day (its identity), listing every overdue
    receivable. Names the customer and its area in marketing (C_CONS as of D, any status;
    the area is empty when the customer is unknown to C_CONS).
    Bounded: reads only the window's days of int_receivables_open_daily (date literals on
    an incremental run). -#}
{%- set first_day = date_literal(audit_start_date()) if is_incremental() else audit_start_date() %}
{%- set last_day = audit_end_date() %}

with days as (
    {{ audit_days() }}
),

overdue as (
    select
        o.as_of_date as detected_date,
        o.rcvbl_id,
        o.cons_no,
        o.org_no,
        o.billing_month,
        o.receivable_amount,
        o.received_amount,
        o.settle_flag,
        o.due_date,
        o.version_date,
        {{ dbt.datediff('o.due_date', 'o.as_of_date', 'day') }} as overdue_days  -- noqa: LT05
    from {{ ref('int_receivables_open_daily') }} as o
    inner join days as d
        on d.detected_date = o.as_of_date
    where o.as_of_date between {{ first_day }} and {{ last_day }}
        and {{ dbt.datediff('o.due_date', 'o.as_of_date', 'day') }}
            > {{ setting('overdue_grace_days') }}
),

receivable_findings as (
    select
        o.detected_date,
        c.tg_id,
        coalesce(c.org_no, o.org_no) as org_no,
        o.cons_no,
        o.rcvbl_id,
        o.overdue_days,
        o.receivable_amount - coalesce(o.received_amount, 0) as arrears_amount,
        'RCVBL_ID=' || o.rcvbl_id || ', 电费年月 RCVBL_YM=' || {{ audit_txt('o.billing_month') }}
        || ': 应收 RCVBL_AMT=' || {{ audit_num('o.receivable_amount') }} || ' 元, 实收 RCVED_AMT='
        || {{ audit_num('o.received_amount') }} || ' 元, 欠费 '
        || {{ audit_num('o.receivable_amount - coalesce(o.received_amount, 0)') }}
        || ' 元, SETTLE_FLAG='
        || {{ audit_txt('o.settle_flag') }}
        || case o.settle_flag when '01' then '(未结清)' when '02' then '(部分结清)' else '' end
        || ', 缴费截止 DUE_DATE=' || {{ audit_txt('o.due_date') }} || ', 逾期 '
        || cast(o.overdue_days as {{ dbt.type_string() }}) || ' 天 > '
        || cast({{ setting('overdue_grace_days', dbt.type_int()) }} as {{ dbt.type_string() }})
        || ' 天 (按 ' || {{ audit_txt('o.version_date') }} || ' 交付的最新记录)' as receivable_evidence
    from overdue as o
    left join {{ archive_rows('stg_marketing__customers') }} as c
        on {{ as_of('o.detected_date', 'c') }}
        and c.cons_no = o.cons_no
)

-- one finding per customer and day (the finding's identity): its overdue receivables
-- listed in the evidence, the longest overdue as the metric
select
    detected_date,
    tg_id,
    min(org_no) as org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'B01' as problem_code,
    '应收电费 A_RCVBL_FLOW 逾期未结清 ' || cast(count(*) as {{ dbt.type_string() }}) || ' 笔, 欠费合计 '
    || {{ audit_num('sum(arrears_amount)') }} || ' 元: '
    || {{ dbt.listagg('receivable_evidence', "'; '", 'order by rcvbl_id') }} as evidence,
    cast(max(overdue_days) as {{ audit_type_double() }}) as metric_value,
    cast({{ setting('overdue_grace_days') }} as {{ audit_type_double() }}) as threshold_value
from receivable_findings
group by detected_date, tg_id, cons_no
