{{ config(**audit_daily_config('detected_date', recompute_late_data=false)) }}
{#- 客户联系信息按日: per day D of the audit window (audit_days()) and customer of the
    marketing archive as of D (C_CONS, any status: a cancelled account still holds its
    mobile), each of its C_CONTACT rows as of D (01 电气联系人, 02 账务联系人); a customer
    without a contact row has one row with contact_mode NULL. mobile is C_CONTACT.MOBILE
    trimmed of blanks, NULL when empty. contact_archive_available is 1 on the days the
    C_CONTACT archive exists (before its first snapshot every customer would look
    unreachable). Read by rule A07 (mobiles) and the KPI objects of 城镇客户电费短信通覆盖率
    (kpi_objects__sms_customers: SMS_FLAG), which before joined the two archives each. -#}

with

days as (

    {{ audit_days() }}

),

customer_rows as (

    select c.cons_no, c.org_no, c.tg_id, c.status_code, c.urban_rural_flag, c.elec_type_code,
        c.snapshot_date, c.valid_to_date
    from {{ archive_rows('stg_marketing__customers') }} as c

),

contact_rows as (

    select k.cons_no, k.contact_mode, k.mobile, k.sms_flag, k.snapshot_date, k.valid_to_date
    from {{ archive_rows('stg_marketing__contacts') }} as k

),

customer_days as (

    {{ archive_snapshot_days('customer_rows') }}

),

contact_days as (

    {{ archive_snapshot_days('contact_rows') }}

),

contacts as (

    select
        contact_days.detected_date,
        contact_rows.cons_no,
        contact_rows.contact_mode,
        contact_rows.mobile,
        contact_rows.sms_flag
    from contact_days
    inner join contact_rows
        on contact_rows.snapshot_date = contact_days.snapshot_date

)

select
    cast(customer_days.detected_date as date)                       as detected_date,
    cast(customer_rows.cons_no as {{ dbt.type_string() }})          as cons_no,
    cast(customer_rows.org_no as {{ dbt.type_string() }})           as org_no,
    cast(customer_rows.tg_id as {{ dbt.type_string() }})            as tg_id,
    cast(customer_rows.status_code as {{ dbt.type_string() }})      as status_code,
    cast(customer_rows.urban_rural_flag as {{ dbt.type_string() }}) as urban_rural_flag,
    cast(customer_rows.elec_type_code as {{ dbt.type_string() }})   as elec_type_code,
    cast(contacts.contact_mode as {{ dbt.type_string() }})          as contact_mode,
    cast(nullif(trim(contacts.mobile), '') as {{ dbt.type_string() }}) as mobile,
    cast(contacts.sms_flag as {{ dbt.type_string() }})              as sms_flag,
    case when contact_available.detected_date is not null then 1 else 0 end
        as contact_archive_available
from customer_days
inner join customer_rows
    on customer_rows.snapshot_date = customer_days.snapshot_date
left join contacts
    on contacts.detected_date = customer_days.detected_date
    and contacts.cons_no = customer_rows.cons_no
left join contact_days as contact_available
    on contact_available.detected_date = customer_days.detected_date
