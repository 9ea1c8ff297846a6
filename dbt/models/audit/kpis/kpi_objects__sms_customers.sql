{{ run_window_depends_on() }}
{#- 同业对标对象 · 城镇居民客户 (城镇客户电费短信通覆盖率): one row per day of the audit window
    (int_kpi_window day_facts_from_date .. to_date) and active (STATUS_CODE 1) urban
    (URBAN_RURAL_FLAG 1) residential (ELEC_TYPE_CODE 201) customer as of D, counted once
    each; covered when any of its C_CONTACT rows (01 电气联系人 or 02 账务联系人) has SMS_FLAG
    1 (the bill SMS reaches the customer through either); no contact row = not covered.
    Unit C_CONS.ORG_NO. -#}

{%- set bounds = kpi_window_bounds(['day_facts_from_date', 'to_date']) -%}
{%- set day_from = bounds['day_facts_from_date'] -%}
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

sms_contacts as (

    select
        days.detected_date,
        k.cons_no,
        max(case when k.sms_flag = '1' then 1 else 0 end) as is_subscribed,
        {{ dbt.listagg(
            "k.contact_mode || ' SMS_FLAG=' || " ~ audit_txt('k.sms_flag'),
            "'; '",
            "order by k.contact_mode") }} as contact_list
    from days
    inner join {{ archive_rows('stg_marketing__contacts') }} as k
        on {{ as_of('days.detected_date', 'k') }}
    group by days.detected_date, k.cons_no

),

facts as (

    select
        days.detected_date as data_date,
        'urban_sms_coverage_rate' as indicator_code,
        'customer' as object_type,
        c.cons_no as object_id,
        c.tg_id,
        c.cons_no,
        c.org_no,
        coalesce(k.is_subscribed, 0) as numerator_value,
        1 as denominator_value,
        'C_CONS URBAN_RURAL_FLAG=1 ELEC_TYPE_CODE=201; C_CONTACT '
            || coalesce(k.contact_list, '无联系信息') as detail
    from days
    inner join customers as c
        on {{ as_of('days.detected_date', 'c') }}
    left join sms_contacts as k
        on k.detected_date = days.detected_date
        and k.cons_no = c.cons_no
    where c.status_code = '1'
        and c.urban_rural_flag = '1'
        and c.elec_type_code = '201'

)

select
    {{ kpi_object_columns('f') }}
from facts as f
