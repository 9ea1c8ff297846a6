{{ config(**audit_rule_config()) }}
{#- A03 台区容量不一致: an in-service marketing area whose G_TG.TG_CAP differs from the
    rated capacity (EDRL) of its PMS transformer (the sum over its linked transformers that
    exist in PMS, normally one) as of D. Both values must be known. -#}
with days as (
    {{ audit_days() }}
),

{{ area_transformer_mappings('area_mappings') }}

select
    detected_date,
    tg_id,
    org_no,
    cast(null as {{ dbt.type_string() }}) as cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'A03' as problem_code,
    '营销 G_TG.TG_CAP=' || {{ audit_num('tg_cap') }} || ' kVA; PMS 配变 EDRL=' || {{ audit_num('edrl_sum') }}
    || ' kVA (' || {{ audit_txt('transformer_list') }} || ')' as evidence,
    cast(tg_cap as {{ dbt.type_float() }}) as metric_value,
    cast(edrl_sum as {{ dbt.type_float() }}) as threshold_value
from area_mappings
where pms_available = 1
    and tg_cap is not null
    and edrl_sum is not null
    and abs(tg_cap - edrl_sum) > 0.001
