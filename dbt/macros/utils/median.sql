{#- The median of a column as an aggregate: DuckDB's median(); other engines take their
    exact percentile (Spark 3.4+ and Trino have median() / approx_percentile, dispatched
    where they differ). -#}
{% macro median_of(expr) -%}
    {{ return(adapter.dispatch('median_of', 'gridaudit')(expr)) }}
{%- endmacro %}

{% macro default__median_of(expr) -%}median({{ expr }}){%- endmacro %}
