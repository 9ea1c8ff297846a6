{#- One row per calendar day from start_expression to end_expression (SQL date expressions,
    evaluated by the database, so they may be scalar sub-queries), column `data_date`.
    Portable: dbt.generate_series with a fixed bound (max_days) and no compile-time query,
    so the spine also works inside dbt unit tests. -#}
{% macro day_spine(start_expression, end_expression, max_days=36600) -%}
    {{ return(adapter.dispatch('day_spine', 'gridaudit')(start_expression, end_expression, max_days)) }}
{%- endmacro %}

{% macro default__day_spine(start_expression, end_expression, max_days=36600) -%}
    select {{ add_days('day_offsets.generated_number - 1', start_expression) }} as data_date
    from ({{ dbt.generate_series(max_days) }}) as day_offsets
    where day_offsets.generated_number - 1 <= {{ dbt.datediff(start_expression, end_expression, 'day') }}
{%- endmacro %}

{#- Spark: the same days from sequence() (dbt.generate_series is a cross join of 16 unions
    there, and the datediff filter over its 65,536 rows made the day-keyed models take a
    minute on tiny). greatest(): sequence() refuses an end before its start; those days are
    filtered out again, so an empty range gives no row, as on DuckDB. -#}
{% macro spark__day_spine(start_expression, end_expression, max_days=36600) -%}
    select spine_days.data_date
    from (
        select explode(sequence(
            cast({{ start_expression }} as date),
            greatest(cast({{ start_expression }} as date), cast({{ end_expression }} as date))
        )) as data_date
    ) as spine_days
    where spine_days.data_date <= cast({{ end_expression }} as date)
{%- endmacro %}
