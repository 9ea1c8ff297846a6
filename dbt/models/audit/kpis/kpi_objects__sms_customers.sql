{#- 同业对标对象 · 城镇居民客户 (城镇客户电费短信通覆盖率): one row per day of the audit window
    (int_kpi_window day_facts_from_date .. to_date) and active (STATUS_CODE 1) urban
    (URBAN_RURAL_FLAG 1) residential (ELEC_TYPE_CODE 201) customer as of D, counted once
    each; covered when any of its C_CONTACT rows (01 电气联系人 or 02 账务联系人) has SMS_FLAG
    1 (the bill SMS reaches the customer through either); no contact row = not covered.
    Unit C_CONS.ORG_NO. The customers and their contact rows as of D:
    intermediate.int_customer_contacts_daily (rule A07 reads it too). -#}

{%- set bounds = kpi_window_bounds(['day_facts_from_date', 'to_date']) -%}
{%- set day_from = bounds['day_facts_from_date'] -%}
{%- set to_date = bounds['to_date'] %}

with

customer_contacts as (

    select *
    from {{ ref('int_customer_contacts_daily') }}
    where detected_date between {{ day_from }} and {{ to_date }}
        and status_code = '1'
        and urban_rural_flag = '1'
        and elec_type_code = '201'

),

customers as (

    select
        detected_date,
        cons_no,
        tg_id,
        org_no,
        max(case when sms_flag = '1' then 1 else 0 end) as is_subscribed
    from customer_contacts
    group by detected_date, cons_no, tg_id, org_no

),

-- the evidence of the customers not covered only (the others carry no detail); a customer
-- without a contact row (contact_mode NULL) has none
uncovered_contacts as (

    select
        k.detected_date,
        k.cons_no,
        {{ dbt.listagg(
            "k.contact_mode || ' SMS_FLAG=' || " ~ audit_txt('k.sms_flag'),
            "'; '",
            "order by k.contact_mode") }} as contact_list
    from customer_contacts as k
    inner join customers as c
        on c.detected_date = k.detected_date
        and c.cons_no = k.cons_no
    where c.is_subscribed = 0
        and k.contact_mode is not null
    group by k.detected_date, k.cons_no

),

facts as (

    select
        c.detected_date as data_date,
        'urban_sms_coverage_rate' as indicator_code,
        'customer' as object_type,
        c.cons_no as object_id,
        c.tg_id,
        c.cons_no,
        c.org_no,
        c.is_subscribed as numerator_value,
        1 as denominator_value,
        'C_CONS URBAN_RURAL_FLAG=1 ELEC_TYPE_CODE=201; C_CONTACT '
            || coalesce(u.contact_list, '无联系信息') as detail
    from customers as c
    left join uncovered_contacts as u
        on u.detected_date = c.detected_date
        and u.cons_no = c.cons_no

)

select
    {{ kpi_object_columns('f') }}
from facts as f
