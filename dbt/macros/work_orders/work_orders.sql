{#- The work-order loop (docs/work-orders.md): the order number and the code tables of the
    answers. The code tables are those of dagster_project/lib/work_order_layout.py
    (IS_CONFIRMED, RECTIFY_RESULT, STATUSES), which the workbook writer and reader use; SQL
    cannot import the Python module, so they are spelled here once, for every model, and
    tests/test_audit_rules.py::test_work_order_macros_agree_with_the_python_layout holds
    the two equal. -#}

{#- 工单编号 (§2): 'JC' || yyyymmdd(dispatch_date) || problem_code || upper(first 8 hex of
    md5(finding_key)), the same as work_order_layout.work_order_no(): a pure function of the
    finding and its dispatch day, so re-runs and backfills give the same numbers. -#}
{% macro work_order_no(dispatch_date, problem_code, finding_key) -%}
    'JC' || replace(cast(cast({{ dispatch_date }} as date) as {{ dbt.type_string() }}), '-', '')
        || {{ problem_code }}
        || upper(substr({{ dbt.hash(finding_key) }}, 1, 8))
{%- endmacro %}

{#- 是否属实 as a boolean: the workbook's dropdown text (属实 / 不属实) or the platform's code
    ('1' / '0'); anything else NULL (the extract quarantines it before). -#}
{% macro work_order_is_confirmed(value) -%}
    case
        when {{ value }} in ('属实', '1') then true
        when {{ value }} in ('不属实', '0') then false
    end
{%- endmacro %}

{#- 整改结果: the code (01 已整改 / 02 整改中 / 03 无法整改) of the workbook's text or of the
    platform's code, and the name of a code. -#}
{% macro work_order_rectify_code(value) -%}
    case
        when {{ value }} in ('已整改', '01') then '01'
        when {{ value }} in ('整改中', '02') then '02'
        when {{ value }} in ('无法整改', '03') then '03'
    end
{%- endmacro %}

{% macro work_order_rectify_name(code) -%}
    case {{ code }}
        when '01' then '已整改'
        when '02' then '整改中'
        when '03' then '无法整改'
    end
{%- endmacro %}

{#- The status an answer leads to (§3 step 1): 不属实 -> 已归档, 属实 with 已整改 -> 待验证,
    属实 with 整改中 / 无法整改 -> 整改中. -#}
{% macro work_order_answer_status(is_confirmed, rectify_code) -%}
    case
        when not {{ is_confirmed }} then '已归档'
        when {{ rectify_code }} = '01' then '待验证'
        else '整改中'
    end
{%- endmacro %}

{#- The open statuses (§3: an order of these has not been closed). -#}
{% macro work_order_open_statuses() -%}
    ('已派发', '已反馈', '整改中', '待验证')
{%- endmacro %}

{#- The fifteen locked columns of a list line, in the order of
    work_order_layout.LOCKED_COLUMNS (lower-cased), with the header the crew sees and the
    sheet column letter (the warnings name the changed cells). -#}
{% macro work_order_locked_columns() -%}
    {{ return([
        ('work_order_no', '工单编号', 'A'),
        ('dispatch_date', '派发日期', 'B'),
        ('answer_deadline', '反馈期限', 'C'),
        ('station_name', '供电所', 'D'),
        ('tg_id', '台区编号', 'E'),
        ('tg_name', '台区名称', 'F'),
        ('cons_no', '客户编号', 'G'),
        ('cons_name', '客户名称', 'H'),
        ('elec_addr', '用电地址', 'I'),
        ('problem_code', '问题代码', 'J'),
        ('problem_name', '问题名称', 'K'),
        ('problem_desc', '疑似问题描述', 'L'),
        ('suggested_action', '建议措施', 'M'),
        ('first_detected_date', '首次发现日期', 'N'),
        ('consecutive_days', '连续天数', 'O'),
    ]) }}
{%- endmacro %}

{#- A cell's text for the edit check: trimmed, empty = NULL = '', a date read back as a
    datetime at midnight or a whole number read back as a float compared as written. -#}
{% macro work_order_cell_text(value) -%}
    coalesce(
        case
            when trim({{ value }}) like '%-%-% 00:00:00' then substr(trim({{ value }}), 1, 10)
            when trim({{ value }}) like '%.0' and trim({{ value }}) not like '%-%' then
                substr(trim({{ value }}), 1, {{ dbt.length('trim(' ~ value ~ ')') }} - 2)
            else trim({{ value }})
        end,
        ''
    )
{%- endmacro %}
