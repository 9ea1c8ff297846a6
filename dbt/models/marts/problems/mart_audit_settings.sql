{{ config(alias='audit_settings') }}
{#- 稽查阈值 as published: the settings rows (seeds/audit_settings.csv) that produced the
    published tables, with the fingerprint recorded in marts.problem_history. -#}
select
    cast(setting_name as {{ dbt.type_string() }}) as setting_name,
    cast(setting_value as {{ dbt.type_string() }}) as setting_value,
    cast(unit as {{ dbt.type_string() }}) as unit,
    cast(description as {{ dbt.type_string() }}) as description,
    cast({{ audit_settings_fingerprint() }} as {{ dbt.type_string() }}) as settings_fingerprint
from {{ ref('audit_settings') }}
