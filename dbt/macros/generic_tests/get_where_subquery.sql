{#- Data tests check what the run built: overrides dbt's get_where_subquery so a test
    without its own `where` config tests only the run window's rows of a table that is
    keyed by day (the first of snapshot_date, data_date, detected_date it has), between
    the run window's start and end dates (window_start_date(), macros/run_window). Earlier
    days were tested by the runs that built them; a daily run's tests then cost one day,
    not the history (before: the snapshot staging and day-keyed intermediate tests re-read
    every delivered day, 61 days on demo).
    A test's meta window_column names another day column (e.g. _export_date: the keys the
    run's deliveries replaced); a `where` config cannot, it is rendered at parse time.
    Tables without such a column (seeds, code tables, current-state marts) are tested
    whole. A `where` config on a test still wins (rendered when dbt parses: no run window
    there, only constants). -#}
{% macro get_where_subquery(relation) -%}
    {%- set test_filter = namespace(where=config.get('where', ''), day_column=none) -%}
    {%- if not test_filter.where and execute -%}
        {%- set test_filter.day_column = (config.get('meta') or {}).get('window_column') -%}
        {%- if not test_filter.day_column -%}
            {%- set column_names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
            {%- for day_column in ['snapshot_date', 'data_date', 'detected_date'] if day_column in column_names and not test_filter.day_column -%}
                {%- set test_filter.day_column = day_column -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if test_filter.day_column -%}
            {%- set test_filter.where = test_filter.day_column ~ " between " ~ window_start_date() ~ " and " ~ window_end_date() -%}
        {%- endif -%}
    {%- endif -%}
    {%- if test_filter.where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ test_filter.where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
