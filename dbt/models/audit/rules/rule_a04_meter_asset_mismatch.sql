{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- A04 表计资产号不一致: for an active metering point (settlement MP of an active customer,
    or an area check meter) the marketing meter's C_METER.ASSET_NO differs from
    E_DATA_MP.ASSET_NO of the acquisition record with the same MP_ID, as of D. Both must be
    known (an MP without acquisition record is A06).
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
    coalesce(cons_no, mp_cons_no) as cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'A04' as problem_code,
    case when usage_type_code = '02' then '台区考核表 ' else '' end
    || '计量点 MP_ID=' || mp_id
    || '; 营销 C_METER.ASSET_NO=' || {{ audit_txt('mkt_asset_no') }} || ' (METER_ID='
    || {{ audit_txt('meter_id') }} || ')'
    || '; 采集 E_DATA_MP.ASSET_NO=' || {{ audit_txt('acq_asset_no_min') }}
    || case when acq_asset_no_max <> acq_asset_no_min then '/' || acq_asset_no_max else '' end
    || ' (DATA_ID=' || {{ audit_txt('acq_data_id') }} || ')' as evidence,
    cast(null as {{ audit_type_double() }}) as metric_value,
    cast(null as {{ audit_type_double() }}) as threshold_value
from mp_archives
where acq_count > 0
    and mkt_asset_no is not null
    and acq_asset_no_min is not null
    and (acq_asset_no_min <> mkt_asset_no or acq_asset_no_max <> mkt_asset_no)
