{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- A05 倍率不一致: for an active metering point (settlement MP of an active customer, or an
    area check meter) the marketing multiplier C_METER.T_FACTOR (the billing master)
    differs from E_DATA_MP.T_FACTOR of the acquisition record with the same MP_ID, as of
    D. Both must be known.
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
    'A05' as problem_code,
    case when usage_type_code = '02' then '台区考核表 ' else '' end
    || '计量点 MP_ID=' || mp_id
    || '; 营销 C_METER.T_FACTOR=' || {{ audit_num('mkt_t_factor', 4) }} || ' (ASSET_NO='
    || {{ audit_txt('mkt_asset_no') }} || ')'
    || '; 采集 E_DATA_MP.T_FACTOR=' || {{ audit_num('acq_t_factor_min', 4) }}
    || case
        when acq_t_factor_max <> acq_t_factor_min then '/' || {{ audit_num('acq_t_factor_max', 4) }}
        else ''
    end
    || ' (DATA_ID=' || {{ audit_txt('acq_data_id') }} || ')' as evidence,
    cast(acq_t_factor_min as {{ audit_type_double() }}) as metric_value,
    cast(mkt_t_factor as {{ audit_type_double() }}) as threshold_value
from mp_archives
where acq_count > 0
    and mkt_t_factor is not null
    and acq_t_factor_min is not null
    and (
        abs(acq_t_factor_min - mkt_t_factor) > 0.000001
        or abs(acq_t_factor_max - mkt_t_factor) > 0.000001
    )
