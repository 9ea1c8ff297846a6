{#- Overrides dbt's diff_columns (on_schema_change of incremental models): the columns of
    the new select that the existing table lacks, compared case-insensitively. DuckDB (and
    Spark) identifiers are case-insensitive, but dbt's own macro compares names as written:
    a table built when a model returned `TG_ID` (a staging column passed through) and the
    same model now returning `tg_id` made dbt run `alter table ... add column tg_id`, which
    DuckDB refuses ("Column with name tg_id already exists"), so an existing warehouse could
    not be upgraded. -#}
{% macro diff_columns(source_columns, target_columns) %}
    {%- set result = [] -%}
    {%- set target_names = target_columns | map(attribute='column') | map('lower') | list -%}
    {%- for sc in source_columns -%}
        {%- if sc.name | lower not in target_names -%}
            {%- do result.append(sc) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}
