{#- dbt.listagg on Spark: dbt-spark 1.11 drops the order_by_clause (with a warning), so an
    aggregated evidence text came out in whatever order the rows arrived ('账务联系人 ...;
    电气联系人 ...' on Spark where DuckDB wrote them ordered) and the settings fingerprint
    hashed a differently ordered text. Spark 4's listagg ... WITHIN GROUP (ORDER BY) keeps
    the order, as DuckDB's string_agg does. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {%- do exceptions.raise_compiler_error('listagg with limit_num: not implemented for Spark') -%}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
