{#- Custom schemas are used as they are (staging, intermediate, marts, ...), so the
    DuckDB schemas, the dbt folders and the Dagster asset keys tell one story. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
