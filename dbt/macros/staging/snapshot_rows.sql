{#- Every row of a snapshot table (raw_<system>."<TABLE>"), one per key and snapshot file,
    with its validity:
      snapshot_date  the file's export day (_export_date)
      valid_to_date  the day before the next delivered snapshot of that table, or 9999-12-31
    Within one snapshot file a duplicated key keeps the last line. The validity is derived
    from the distinct _export_date values of the table (cheap), not per key: a key missing
    from a later snapshot is no longer in the archive from that snapshot on.
    All source columns are kept (plus _line_rank); the staging model's `renamed` CTE picks
    and lower-cases them. -#}
{% macro snapshot_rows(relation, key_columns) -%}
    select
        last_lines.*,
        snapshot_days.snapshot_date,
        snapshot_days.valid_to_date
    from (
        select numbered.*
        from (
            select
                src.*,
                row_number() over (
                    partition by src._export_date{% for key in key_columns %}, src.{{ key }}{% endfor %}
                    order by src._line_number desc
                ) as _line_rank
            from {{ relation }} as src
        ) as numbered
        where numbered._line_rank = 1
    ) as last_lines
    inner join (
        select
            delivered.snapshot_date,
            coalesce(
                {{ add_days(-1, 'lead(delivered.snapshot_date) over (order by delivered.snapshot_date)') }},
                cast('9999-12-31' as date)
            ) as valid_to_date
        from (
            select distinct _export_date as snapshot_date
            from {{ relation }}
        ) as delivered
    ) as snapshot_days
        on last_lines._export_date = snapshot_days.snapshot_date
{%- endmacro %}
