{{ config(**audit_rule_config()) }}
{#- M05: placeholder, replaced by the rule's model. -#}
select
    cast(null as date) as detected_date,
    cast(null as {{ dbt.type_string() }}) as tg_id,
    cast(null as {{ dbt.type_string() }}) as org_no,
    cast(null as {{ dbt.type_string() }}) as cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'M05' as problem_code,
    cast(null as {{ dbt.type_string() }}) as evidence,
    cast(null as {{ audit_type_double() }}) as metric_value,
    cast(null as {{ audit_type_double() }}) as threshold_value
where 1 = 0
