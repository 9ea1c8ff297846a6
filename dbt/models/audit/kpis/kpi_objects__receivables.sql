{#- 同业对标对象 · 应收 (电费回收率, 专变客户自动抄表出帐率): one row per indicator, day D of
    the audit window (int_kpi_window day_facts_from_date .. to_date) and receivable issued
    in D's month up to D (ISSUE_DATE = 出账日期; RCVBL_YM is the consumption month, so a
    month's own bills are those issued in it), in its latest delivery on or before D
    (int_receivable_deliveries): the month-to-date state. Unit = the receivable's ORG_NO;
    10 kV = the customer's C_CONS.VOLT_CODE '03' as of D. The deliveries are read from the
    1st of the first day's month (month_from_date). -#}

{%- set bounds = kpi_window_bounds(['day_facts_from_date', 'month_from_date', 'to_date']) -%}
{%- set day_from = bounds['day_facts_from_date'] -%}
{%- set month_from = bounds['month_from_date'] -%}
{%- set to_date = bounds['to_date'] %}

with

days as (

    select data_date as detected_date
    from ({{ day_spine(day_from, to_date) }}) as spine

),

customers as (

    select *
    from {{ archive_rows('stg_marketing__customers', day_from) }} as c

),

receivable_versions as (

    select
        r.*,
        lead(r.delivery_date) over (
            partition by r.rcvbl_id order by r.delivery_date
        ) as next_delivery_date
    from {{ ref('int_receivable_deliveries') }} as r
    -- every delivery of a receivable issued in a month is on or after the month's 1st
    where r.delivery_date between {{ month_from }} and {{ to_date }}

),

receivable_days as (

    select
        days.detected_date as data_date,
        v.rcvbl_id,
        v.cons_no,
        v.org_no,
        v.billing_month,
        v.read_source_code,
        v.receivable_amount,
        v.received_amount,
        v.issue_date,
        v.settle_flag,
        v.delivery_date,
        c.volt_code,
        c.tg_id
    from days
    inner join receivable_versions as v
        on v.delivery_date <= days.detected_date
        and (v.next_delivery_date is null or v.next_delivery_date > days.detected_date)
        and v.issue_date between cast({{ dbt.date_trunc('month', 'days.detected_date') }} as date)
            and days.detected_date
    left join customers as c
        on c.cons_no = v.cons_no
        and {{ as_of('days.detected_date', 'c') }}

),

facts as (

    select
        data_date,
        'fee_recovery_rate' as indicator_code,
        'receivable' as object_type,
        rcvbl_id as object_id,
        tg_id,
        cons_no,
        org_no,
        -- 元 at 分 (yuan_type), summed exactly by the marts
        cast(coalesce(received_amount, 0) as {{ yuan_type() }}) as numerator_value,
        cast(coalesce(receivable_amount, 0) as {{ yuan_type() }}) as denominator_value,
        'A_RCVBL_FLOW RCVBL_ID=' || rcvbl_id || ' RCVBL_YM=' || {{ audit_txt('billing_month') }}
            || ' ISSUE_DATE=' || {{ audit_txt('issue_date') }}
            || ' RCVBL_AMT=' || {{ audit_num('receivable_amount') }}
            || ' RCVED_AMT=' || {{ audit_num('received_amount') }}
            || ' SETTLE_FLAG=' || {{ audit_txt('settle_flag') }}
            || ' (交付日 ' || {{ audit_txt('delivery_date') }} || ')' as detail
    from receivable_days

    union all

    select
        data_date,
        'hv_auto_read_billing_rate' as indicator_code,
        'receivable' as object_type,
        rcvbl_id,
        tg_id,
        cons_no,
        org_no,
        case when read_source_code = '01' then 1 else 0 end as numerator_value,
        1 as denominator_value,
        'A_RCVBL_FLOW RCVBL_ID=' || rcvbl_id || ' RCVBL_YM=' || {{ audit_txt('billing_month') }}
            || ' READ_SRC=' || {{ audit_txt('read_source_code') }}
            || case read_source_code
                when '01' then ' (采集自动抄表)' when '02' then ' (人工抄表)' when '03' then ' (估抄)' else ''
            end
            || ', C_CONS VOLT_CODE=' || {{ audit_txt('volt_code') }}
    from receivable_days
    where volt_code = '03'

)

select
    {{ kpi_object_columns('f') }}
from facts as f
