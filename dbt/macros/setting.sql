{#- A threshold from seeds/audit_settings.csv, the one documented settings file.
    Rendered as a scalar sub-query so that a changed setting changes results with no SQL
    edit, and so that dbt unit tests can give their own settings rows.
    type: the SQL type to cast the value to (double, integer, varchar). -#}
{% macro setting(name, type='double') -%}
    (select cast(setting_value as {{ type }}) from {{ ref('audit_settings') }} where setting_name = '{{ name }}')
{%- endmacro %}
