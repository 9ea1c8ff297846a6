{#- One row per calendar day from start_expression to end_expression (SQL date expressions,
    evaluated by the database, so they may be scalar sub-queries), column `data_date`.
    Portable: dbt.generate_series with a fixed bound (max_days) and no compile-time query,
    so the spine also works inside dbt unit tests. -#}
{% macro day_spine(start_expression, end_expression, max_days=36600) -%}
    select {{ add_days('day_offsets.generated_number - 1', start_expression) }} as data_date
    from ({{ dbt.generate_series(max_days) }}) as day_offsets
    where day_offsets.generated_number - 1 <= {{ dbt.datediff(start_expression, end_expression, 'day') }}
{%- endmacro %}
