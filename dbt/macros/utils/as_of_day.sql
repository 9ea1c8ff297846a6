{#- The archive as of day D (docs/architecture.md): the rows of a snapshot staging model
    (alias) valid on the day expression, i.e. the newest snapshot dated on or before D. -#}
{% macro as_of_day(alias, day_expression) -%}
    {{ day_expression }} between {{ alias }}.snapshot_date and {{ alias }}.valid_to_date
{%- endmacro %}
