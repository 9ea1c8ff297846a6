{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- A06 采集未覆盖: an active settlement metering point (C_MP USAGE_TYPE_CODE '01',
    STATUS_CODE '1') of an active customer with no E_DATA_MP record for its MP_ID as of D.
    Only on days the acquisition archive exists.
    The archives as of D: intermediate.int_mp_meter_archives_daily. -#}
with mp_archives as (
    select *
    from {{ ref('int_mp_meter_archives_daily') }}
    where {{ in_audit_window('detected_date') }}
)

select
    detected_date,
    tg_id,
    org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'A06' as problem_code,
    '在用结算计量点 MP_ID=' || mp_id || ' (电能表 ASSET_NO=' || {{ audit_txt('mkt_asset_no') }}
    || ') 在采集档案 E_DATA_MP 中无测量点' as evidence,
    cast(acq_count as {{ audit_type_double() }}) as metric_value,
    cast(null as {{ audit_type_double() }}) as threshold_value
from mp_archives
where acq_available = 1
    and usage_type_code = '01'
    and cons_no is not null
    and acq_count = 0
