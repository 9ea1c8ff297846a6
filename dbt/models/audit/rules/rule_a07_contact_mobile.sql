{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- A07 联系电话异常, per active customer and day D, over the customer's mobiles = the
    non-empty C_CONTACT.MOBILE of all its contact rows (any CONTACT_MODE: 01 电气联系人,
    02 账务联系人) as of D. A finding when the customer has no mobile at all, or any of
    its mobiles is not a valid mainland mobile (11 digits, 1[3-9] + 9 digits, after
    trimming blanks), or any of its mobiles is on more than mobile_max_customers customers
    of the marketing archive (C_CONS as of D, any status: a cancelled account still holds
    the number). Only on days the contact archive exists. Mobiles are masked in the
    evidence (138****5678). The customers and their contact rows as of D:
    intermediate.int_customer_contacts_daily. -#}
{%- set max_customers = setting('mobile_max_customers', dbt.type_int()) -%}
with contacts as (
    select *
    from {{ ref('int_customer_contacts_daily') }}
    where {{ in_audit_window('detected_date') }}
        and contact_archive_available = 1
),

customer_mobiles as (
    select detected_date, cons_no, status_code, contact_mode, mobile
    from contacts
    where mobile is not null
),

shared as (
    select detected_date, mobile, count(distinct cons_no) as customer_count
    from customer_mobiles
    group by detected_date, mobile
),

customers as (
    select distinct detected_date, cons_no, org_no, tg_id
    from contacts
    where status_code = '1'
),

checked as (
    select
        m.detected_date,
        m.cons_no,
        m.contact_mode,
        m.mobile,
        case when {{ regex_full_match('m.mobile', '1[3-9][0-9]{9}') }} then 0
            else 1 end as is_invalid,
        s.customer_count,
        case when s.customer_count > {{ max_customers }} then 1 else 0 end as is_shared,
        case
            when length(m.mobile) >= 7 then substr(m.mobile, 1, 3) || '****' || substr(m.mobile, 8)
            else m.mobile
        end as mobile_masked
    from customer_mobiles as m
    inner join shared as s
        on s.detected_date = m.detected_date
        and s.mobile = m.mobile
    -- the mobiles of the active customers (the others count in `shared` only)
    where m.status_code = '1'
),

-- the counts per active customer first; the evidence list only for the findings
flagged as (
    select
        c.detected_date,
        c.cons_no,
        c.org_no,
        c.tg_id,
        count(k.mobile) as mobile_count,
        coalesce(sum(k.is_invalid), 0) as invalid_count,
        coalesce(sum(k.is_shared), 0) as shared_count,
        max(k.customer_count) as max_customers_per_mobile
    from customers as c
    left join checked as k
        on k.detected_date = c.detected_date
        and k.cons_no = c.cons_no
    group by c.detected_date, c.cons_no, c.org_no, c.tg_id
    having count(k.mobile) = 0
        or coalesce(sum(k.is_invalid), 0) > 0
        or coalesce(sum(k.is_shared), 0) > 0
),

per_customer as (
    select
        f.detected_date,
        f.cons_no,
        f.org_no,
        f.tg_id,
        f.mobile_count,
        f.max_customers_per_mobile,
        {{ dbt.listagg(
            "case k.contact_mode when '01' then '电气联系人' when '02' then '账务联系人'"
            ~ " else k.contact_mode end || ' ' || k.mobile_masked"
            ~ " || case when k.is_invalid = 1 then ' (非有效11位手机号, '"
            ~ " || cast(length(k.mobile) as " ~ dbt.type_string() ~ ") || '位)' else '' end"
            ~ " || case when k.is_shared = 1 then ' (同一手机号 '"
            ~ " || cast(k.customer_count as " ~ dbt.type_string() ~ ") || ' 户)' else '' end",
            "'; '",
            "order by k.contact_mode, k.mobile") }} as mobile_list
    from flagged as f
    left join checked as k
        on k.detected_date = f.detected_date
        and k.cons_no = f.cons_no
    group by
        f.detected_date, f.cons_no, f.org_no, f.tg_id, f.mobile_count, f.max_customers_per_mobile
)

select
    detected_date,
    tg_id,
    org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'A07' as problem_code,
    case
        when mobile_count = 0 then '无手机号码 (C_CONTACT 无 MOBILE)'
        else {{ audit_txt('mobile_list') }}
    end
    || '; 同号上限 ' || {{ audit_txt(max_customers) }} || ' 户' as evidence,
    cast(coalesce(max_customers_per_mobile, 0) as {{ audit_type_double() }}) as metric_value,
    cast({{ max_customers }} as {{ audit_type_double() }}) as threshold_value
from per_customer
