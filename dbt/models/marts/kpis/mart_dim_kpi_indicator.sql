{{ config(alias='dim_kpi_indicator') }}
{#- 同业对标指标代码表 (audit-rules.md §4 and the 营配贯通 indicators), published from
    seeds/dim_kpi_indicator.csv so BI tools show the Chinese names and definitions next to
    marts.unit_kpis / marts.unit_kpi_facts (join on indicator_code). -#}
select
    cast(indicator_code as {{ dbt.type_string() }}) as indicator_code,
    cast(indicator_name as {{ dbt.type_string() }}) as indicator_name,
    cast(indicator_group as {{ dbt.type_string() }}) as indicator_group,
    cast(value_unit as {{ dbt.type_string() }}) as value_unit,
    cast(numerator_name as {{ dbt.type_string() }}) as numerator_name,
    cast(denominator_name as {{ dbt.type_string() }}) as denominator_name,
    cast(object_type as {{ dbt.type_string() }}) as object_type,
    cast(month_aggregation as {{ dbt.type_string() }}) as month_aggregation,
    cast(sort_order as {{ dbt.type_int() }}) as sort_order,
    cast(definition as {{ dbt.type_string() }}) as definition
from {{ ref('dim_kpi_indicator') }}
