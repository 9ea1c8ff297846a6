{{ config(**audit_daily_config('answer_date')) }}
{#- 工单反馈警告 (docs/work-orders.md §6): a returned workbook's answer whose locked cells
    differ from the order as dispatched (its dispatch line in audit.work_order_list_lines):
    the answer is kept and applied, and every changed cell is named here, one row per cell
    (header, sheet cell e.g. H5, the sheet's text and the order's). Cells are compared as
    text (trimmed; a date read back as midnight or a whole number read back as a float
    compares as written; a blank cell is not compared). Answers of the run's days that are applied (valid) only; the
    platform form has no locked columns. Incremental by answer_date. -#}

with

answers as (

    select a.*
    from {{ ref('stg_feedback__answers') }} as a
    inner join {{ ref('work_order_states') }} as s
        on s.state_date = a.answer_date
        and s.prev_open_no = a.work_order_no
    where a.answer_date between {{ audit_start_date() }} and {{ audit_end_date() }}
        and s.state_date between {{ audit_start_date() }} and {{ audit_end_date() }}
        and a.form = 'workbook'

),

orders as (

    select *
    from {{ ref('work_order_list_lines') }}
    where line_type = 'dispatch'

),

cells as (

    {%- for column, header, letter in work_order_locked_columns() if column != 'work_order_no' %}
    select
        a.answer_date,
        a.source_file,
        a.sheet_name,
        a.line_number,
        a.work_order_no,
        '{{ column }}' as column_name,
        '{{ header }}' as header,  -- noqa: RF04
        '{{ letter }}' || cast(a.line_number as {{ dbt.type_string() }}) as cell,
        a.sheet_{{ column }} as sheet_value,
        cast(o.{{ column }} as {{ dbt.type_string() }}) as order_value
    from answers as a
    inner join orders as o
        on o.work_order_no = a.work_order_no
    where {{ work_order_cell_text('a.sheet_' ~ column) }}
        <> {{ work_order_cell_text('cast(o.' ~ column ~ ' as ' ~ dbt.type_string() ~ ')') }}
        -- a blank cell is no edit: a row typed into a fresh copy of the template is known
        -- by its 工单编号 alone
        and {{ work_order_cell_text('a.sheet_' ~ column) }} <> ''
    {{ 'union all' if not loop.last }}
    {%- endfor %}

)

select
    cast(c.answer_date as date)                         as answer_date,
    cast(c.source_file as {{ dbt.type_string() }})      as source_file,
    cast(c.sheet_name as {{ dbt.type_string() }})       as sheet_name,
    cast(c.line_number as {{ dbt.type_bigint() }})      as line_number,
    cast(c.work_order_no as {{ dbt.type_string() }})    as work_order_no,
    cast(c.column_name as {{ dbt.type_string() }})      as column_name,
    cast(c.header as {{ dbt.type_string() }})           as header,  -- noqa: RF04
    cast(c.cell as {{ dbt.type_string() }})             as cell,
    cast(c.sheet_value as {{ dbt.type_string() }})      as sheet_value,
    cast(c.order_value as {{ dbt.type_string() }})      as order_value,
    cast(
        'sheet ' || coalesce(c.sheet_name, '') || ' ' || c.cell || ' ' || c.header
        || ': locked cell edited, '''
        || coalesce(c.sheet_value, '')
        || ''' differs from the order''s '''
        || coalesce(c.order_value, '')
        || ''' (answer kept)'
        as {{ dbt.type_string() }})                     as warning
from cells as c
