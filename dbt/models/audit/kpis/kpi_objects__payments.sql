{#- 同业对标对象 · 缴费 (电费资金入行及时率, 日电费资金按时达帐率): one row per indicator and
    payment (A_PAY_FLOW, its final state: the later export day, then the later line) on the
    day of its CHARGE_TIME, from int_kpi_window event_facts_from_date (earlier than the audit
    window when a payment delivered in the run was charged earlier) to to_date. Unit = the
    customer's C_CONS.ORG_NO as of that day; timely when DEPOSIT_DATE (ARRIVE_DATE) -
    date(CHARGE_TIME) <= kpi_deposit_max_days (kpi_arrive_max_days) days; an empty date is
    not timely. The raw payments are read by export day (a payment is delivered on or after
    its CHARGE_TIME day). -#}

{%- set bounds = kpi_window_bounds(['event_facts_from_date', 'to_date']) -%}
{%- set event_from = bounds['event_facts_from_date'] -%}
{%- set to_date = bounds['to_date'] %}

with

settings as (

    select
        {{ setting('kpi_deposit_max_days') }}   as deposit_max_days,
        {{ setting('kpi_arrive_max_days') }}    as arrive_max_days

),

customers as (

    select *
    from {{ archive_rows('stg_marketing__customers', event_from) }} as c

),

payment_deliveries as (

    select
        p.pay_id,
        p.cons_no,
        p.rcvbl_id,
        p.pay_amt,
        p.charge_time,
        p.deposit_date,
        p.arrive_date,
        cast(p.charge_time as date) as charge_date,
        -- the final state: the later export day, then the later line, wins
        row_number() over (
            partition by p.pay_id
            order by p._export_date desc, p._line_number desc
        ) as delivery_rank
    from {{ delivered_rows('stg_collection__payments', 'raw_collection', 'A_PAY_FLOW') }} as p
    where p._export_date between {{ event_from }} and {{ to_date }}
        and p.pay_id is not null

),

payments as (

    select
        d.*,
        c.org_no,
        c.tg_id,
        {{ dbt.datediff('d.charge_date', 'd.deposit_date', 'day') }} as deposit_days,  -- noqa: LT05
        {{ dbt.datediff('d.charge_date', 'd.arrive_date', 'day') }} as arrive_days  -- noqa: LT05
    from payment_deliveries as d
    left join customers as c
        on c.cons_no = d.cons_no
        and {{ as_of('d.charge_date', 'c') }}
    where d.delivery_rank = 1
        and d.charge_date between {{ event_from }} and {{ to_date }}

),

facts as (

    select
        p.charge_date as data_date,
        'deposit_timely_rate' as indicator_code,
        'payment' as object_type,
        p.pay_id as object_id,
        p.tg_id,
        p.cons_no,
        p.org_no,
        case when p.deposit_days <= s.deposit_max_days then 1 else 0 end as numerator_value,
        1 as denominator_value,
        'A_PAY_FLOW PAY_ID=' || p.pay_id || ' RCVBL_ID=' || {{ audit_txt('p.rcvbl_id') }}
            || ' PAY_AMT=' || {{ audit_num('p.pay_amt') }}
            || ' CHARGE_TIME=' || {{ audit_txt('p.charge_time') }}
            || ' DEPOSIT_DATE=' || {{ audit_txt('p.deposit_date') }}
            || ' (收费后 ' || {{ audit_txt('p.deposit_days') }} || ' 天入行, 限 '
            || {{ audit_num('s.deposit_max_days', 0) }} || ' 天)' as detail
    from payments as p
    cross join settings as s

    union all

    select
        p.charge_date,
        'arrival_timely_rate' as indicator_code,
        'payment' as object_type,
        p.pay_id,
        p.tg_id,
        p.cons_no,
        p.org_no,
        case when p.arrive_days <= s.arrive_max_days then 1 else 0 end as numerator_value,
        1 as denominator_value,
        'A_PAY_FLOW PAY_ID=' || p.pay_id || ' RCVBL_ID=' || {{ audit_txt('p.rcvbl_id') }}
            || ' PAY_AMT=' || {{ audit_num('p.pay_amt') }}
            || ' CHARGE_TIME=' || {{ audit_txt('p.charge_time') }}
            || ' ARRIVE_DATE=' || {{ audit_txt('p.arrive_date') }}
            || ' (收费后 ' || {{ audit_txt('p.arrive_days') }} || ' 天到账, 限 '
            || {{ audit_num('s.arrive_max_days', 0) }} || ' 天)'
    from payments as p
    cross join settings as s

)

select
    {{ kpi_object_columns('f') }}
from facts as f
