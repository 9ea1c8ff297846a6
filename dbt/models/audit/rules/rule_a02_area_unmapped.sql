{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- A02 台区营配不对应: an in-service marketing area (G_TG.RUN_STATUS_CODE '01') that, as of
    D, maps to no in-service PMS transformer: no ST_TQ_BYQ link, or every linked transformer
    is retired (T_SB_ZNYC_PDBYQ.YXZT '30') or absent from PMS. Only on days both PMS
    archives exist.
    The mappings as of D: intermediate.int_area_transformer_mappings_daily. -#}
with area_mappings as (
    select *
    from {{ ref('int_area_transformer_mappings_daily') }}
    where {{ in_audit_window('detected_date') }}
)

select
    detected_date,
    tg_id,
    org_no,
    cast(null as {{ dbt.type_string() }}) as cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'A02' as problem_code,
    case
        when link_count = 0
            then '营销运行台区 ' || tg_id || ' 在 PMS 营配对应(ST_TQ_BYQ)中无配变'
        else '营销运行台区 ' || tg_id || ' 对应 PMS 配变: ' || {{ audit_txt('transformer_list') }}
            || '; 退役 ' || cast(retired_count as {{ dbt.type_string() }})
            || ' 台, PMS 中不存在 ' || cast(missing_count as {{ dbt.type_string() }}) || ' 台'
    end as evidence,
    cast(link_count as {{ audit_type_double() }}) as metric_value,
    cast(null as {{ audit_type_double() }}) as threshold_value
from area_mappings
where pms_available = 1
    and is_in_service = 1
    and is_mapped = 0
