{#- A date n days after (n < 0: before) a date expression, as a DATE on every adapter
    (dbt.dateadd returns a timestamp on some, e.g. DuckDB). -#}
{% macro add_days(n, date_expression) -%}
    cast({{ dbt.dateadd('day', n, date_expression) }} as date)
{%- endmacro %}
