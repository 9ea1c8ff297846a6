{#- The KPI run's day bounds (intermediate.int_kpi_window, one row built first in the same
    run) for unit_kpi_facts and unit_kpis: a dict column -> SQL date expression. Looked up
    once and written as date literals, so the scans of the day-keyed inputs skip other
    days; a SQL sub-query instead while dbt parses, inside a dbt unit test, before the
    window table exists or when it is empty (`dbt run --empty`). -#}
{% macro kpi_window_bounds(columns) -%}
    {%- set window = ref('int_kpi_window') -%}
    {%- set rows = [] -%}
    {%- if execute and not in_unit_test()
          and adapter.get_relation(database=window.database, schema=window.schema, identifier=window.identifier) is not none -%}
        {%- set rows = run_query('select ' ~ columns | join(', ') ~ ' from ' ~ window).rows -%}
    {%- endif -%}
    {%- set bounds = {} -%}
    {%- for column in columns -%}
        {%- if rows | length > 0 and rows[0][loop.index0] is not none -%}
            {%- do bounds.update({column: "cast('" ~ rows[0][loop.index0] ~ "' as date)"}) -%}
        {%- else -%}
            {%- do bounds.update({column: "(select " ~ column ~ " from " ~ window ~ ")"}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(bounds) }}
{%- endmacro %}
