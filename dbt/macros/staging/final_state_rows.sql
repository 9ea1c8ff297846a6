{#- The final state of every key of a delta table (raw_<system>."<TABLE>"): a record
    delivered again replaces the earlier delivery. The later _export_date wins; within one
    file the later order_column (COL_TIME where the table has it; a NULL loses), then the
    later line wins. All source columns are kept (plus _delivery_rank); the staging
    model's `renamed` CTE picks and lower-cases them. -#}
{% macro final_state_rows(relation, key_columns, order_column=none) -%}
    select ranked.*
    from (
        select
            src.*,
            row_number() over (
                partition by {% for key in key_columns %}src.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
                order by
                    src._export_date desc,
                    {%- if order_column %}
                    case when src.{{ order_column }} is null then 1 else 0 end,
                    src.{{ order_column }} desc,
                    {%- endif %}
                    src._line_number desc
            ) as _delivery_rank
        from {{ relation }} as src
    ) as ranked
    where ranked._delivery_rank = 1
{%- endmacro %}
