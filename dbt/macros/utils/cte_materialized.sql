{#- `as materialized (...)` for a CTE that must be computed once (DuckDB, Postgres 12+).
    Spark has no such keyword (a syntax error); it plans the CTE's reuse itself. -#}
{% macro cte_materialized() -%}
    {{ return(adapter.dispatch('cte_materialized', 'gridaudit')()) }}
{%- endmacro %}

{% macro default__cte_materialized() -%}materialized{%- endmacro %}

{% macro spark__cte_materialized() -%}{%- endmacro %}
