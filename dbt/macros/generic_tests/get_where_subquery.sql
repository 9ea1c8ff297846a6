{#- Data tests check what the run built: overrides dbt's get_where_subquery so a test
    without its own `where` config tests only the run window's rows of a table that is
    keyed by day (the first of snapshot_date, data_date, detected_date it has), between
    vars start_date and end_date. Earlier days were tested by the runs that built them; a
    daily run's tests then cost one day, not the history (before: the snapshot staging and
    day-keyed intermediate tests re-read every delivered day, 61 days on demo).
    Tables without such a column (seeds, code tables, current-state marts) are tested
    whole. A `where` config on a test still wins. -#}
{% macro get_where_subquery(relation) -%}
    {%- set test_filter = namespace(where=config.get('where', '')) -%}
    {%- if not test_filter.where and execute -%}
        {%- set column_names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- for day_column in ['snapshot_date', 'data_date', 'detected_date'] if day_column in column_names and not test_filter.where -%}
            {%- set test_filter.where = day_column ~ " between cast('" ~ var('start_date') ~ "' as date) and cast('" ~ var('end_date') ~ "' as date)" -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if test_filter.where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ test_filter.where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
