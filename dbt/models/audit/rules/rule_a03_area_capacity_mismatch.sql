{{ config(**audit_rule_config(recompute_late_data=false)) }}
{#- A03 台区容量不一致: a marketing area (any run status) whose G_TG.TG_CAP differs from the
    rated capacity EDRL of a PMS transformer it is linked to in ST_TQ_BYQ (that exists in
    PMS), as of D. Both values must be known.
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
    'A03' as problem_code,
    '营销 G_TG.TG_CAP=' || {{ audit_num('tg_cap') }} || ' kVA; PMS 配变 EDRL='
        || {{ audit_num('edrl_min') }}
    || case when edrl_max <> edrl_min then '/' || {{ audit_num('edrl_max') }} else '' end
    || ' kVA (' || {{ audit_txt('transformer_list') }} || ')' as evidence,
    cast(tg_cap as {{ audit_type_double() }}) as metric_value,
    cast(edrl_min as {{ audit_type_double() }}) as threshold_value
from area_mappings
where pms_available = 1
    and capacity_diff_count > 0
