{#- dbt's get_expected_sql (global_project/macros/unit_test_sql/get_fixture_sql.sql) with one
    fix: every expected row's columns in the order of the first row's. dbt-core 1.11 hands
    the unit-test materialization the `expect` rows with their null-valued keys moved to the
    end of every row but the first, and its union all of the rows is positional, so a
    transition to NULL in a later row compared the wrong columns (a work order's state
    going from 待验证 to none on its archiving day). A missing key is NULL. -#}
{% macro get_expected_sql(rows, column_name_to_data_types, column_name_to_quoted) %}

{%- if (rows | length) == 0 -%}
    select * from dbt_internal_unit_test_actual
    limit 0
{%- else -%}
{%- set column_names = rows[0].keys() | map('lower') | list -%}
{%- for row in rows -%}
{%- set lowered = {} -%}
{%- for column_name, column_value in row.items() -%}
    {%- do lowered.update({column_name | lower: column_value}) -%}
{%- endfor -%}
{%- set ordered = {} -%}
{%- for column_name in column_names -%}
    {%- do ordered.update({column_name: lowered.get(column_name)}) -%}
{%- endfor -%}
{%- set formatted_row = format_row(ordered, column_name_to_data_types) -%}
select
{%- for column_name in column_names %} {{ formatted_row[column_name] }} as {{ column_name_to_quoted[column_name] }}{% if not loop.last -%}, {%- endif %}
{%- endfor %}
{%- if not loop.last %}
union all
{% endif %}
{%- endfor -%}
{%- endif -%}

{% endmacro %}
