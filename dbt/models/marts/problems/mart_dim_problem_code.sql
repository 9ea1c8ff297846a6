{{ config(alias='dim_problem_code') }}
{#- 稽查主题代码表 (audit-rules.md §2), published from seeds/dim_problem_code.csv. -#}
select
    cast(problem_code as {{ dbt.type_string() }}) as problem_code,
    cast(problem_name as {{ dbt.type_string() }}) as problem_name,
    cast(problem_level as {{ dbt.type_string() }}) as problem_level,
    cast(category as {{ dbt.type_string() }}) as category,
    cast(severity as {{ dbt.type_string() }}) as severity,
    cast(threshold_setting as {{ dbt.type_string() }}) as threshold_setting,
    cast(default_threshold as {{ dbt.type_string() }}) as default_threshold,
    cast(suggested_action as {{ dbt.type_string() }}) as suggested_action
from {{ ref('dim_problem_code') }}
