{{ config(**audit_rule_config()) }}
{#- A07 联系电话异常, per active customer and day D, over the customer's mobiles = the
    non-empty C_CONTACT.MOBILE of all its contact rows (any CONTACT_MODE: 01 电气联系人,
    02 账务联系人) as of D. A finding when the customer has no mobile at all, or any of
    its mobiles is not a valid mainland mobile (11 digits, 1[3-9] + 9 digits, after
    trimming blanks), or any of its mobiles is on more than mobile_max_customers customers
    of the marketing archive (C_CONS as of D, any status: a cancelled account still holds
    the number). Only on days the contact archive exists. Mobiles are masked in the
    evidence (138****5678). -#}
{%- set max_customers = setting('mobile_max_customers', dbt.type_int()) -%}
with days as (
    {{ audit_days() }}
),

contact_days as (
    {{ archive_days('stg_marketing__contacts') }}
),

all_customers as (
    select d.detected_date, c.cons_no, c.org_no, c.tg_id, c.status_code
    from days as d
    inner join contact_days as cd
        on cd.detected_date = d.detected_date
    inner join {{ archive_rows('stg_marketing__customers') }} as c
        on {{ as_of('d.detected_date', 'c') }}
),

customers as (
    select detected_date, cons_no, org_no, tg_id
    from all_customers
    where status_code = '1'
),

customer_mobiles as (
    select
        c.detected_date,
        c.cons_no,
        ct.contact_mode,
        trim(ct.mobile) as mobile
    from all_customers as c
    inner join {{ archive_rows('stg_marketing__contacts') }} as ct
        on {{ as_of('c.detected_date', 'ct') }}
        and ct.cons_no = c.cons_no
    where ct.mobile is not null
        and trim(ct.mobile) <> ''
),

shared as (
    select detected_date, mobile, count(distinct cons_no) as customer_count
    from customer_mobiles
    group by detected_date, mobile
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
    inner join customers as c
        on c.detected_date = m.detected_date
        and c.cons_no = m.cons_no
    inner join shared as s
        on s.detected_date = m.detected_date
        and s.mobile = m.mobile
),

per_customer as (
    select
        c.detected_date,
        c.cons_no,
        c.org_no,
        c.tg_id,
        count(k.mobile) as mobile_count,
        coalesce(sum(k.is_invalid), 0) as invalid_count,
        coalesce(sum(k.is_shared), 0) as shared_count,
        max(k.customer_count) as max_customers_per_mobile,
        {{ dbt.listagg(
            "case k.contact_mode when '01' then '电气联系人' when '02' then '账务联系人'"
            ~ " else k.contact_mode end || ' ' || k.mobile_masked"
            ~ " || case when k.is_invalid = 1 then ' (非有效11位手机号, '"
            ~ " || cast(length(k.mobile) as " ~ dbt.type_string() ~ ") || '位)' else '' end"
            ~ " || case when k.is_shared = 1 then ' (同一手机号 '"
            ~ " || cast(k.customer_count as " ~ dbt.type_string() ~ ") || ' 户)' else '' end",
            "'; '",
            "order by k.contact_mode, k.mobile") }} as mobile_list
    from customers as c
    left join checked as k
        on k.detected_date = c.detected_date
        and k.cons_no = c.cons_no
    group by c.detected_date, c.cons_no, c.org_no, c.tg_id
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
where mobile_count = 0
    or invalid_count > 0
    or shared_count > 0
