-- 稽查工单反馈: both forms of the feedback source (raw_feedback."WORKBOOK_FEEDBACK", the
-- returned workbooks, and raw_feedback."R_AUDIT_FEEDBACK", the platform's export) as one
-- list of answers with typed English columns. One row per delivered answer: raw keeps every
-- answer and so does this view; which one wins, and which are rejected (unknown number,
-- archived order), is the state machine's business (audit/work_orders). The extract has
-- already quarantined malformed answers (§6), so the casts below cannot fail on loaded rows;
-- a row without 是否属实 is an unanswered line of a list, not an answer.
-- The locked columns of a workbook row are kept as delivered text (sheet_*) for the edit
-- check (audit.work_order_feedback_warnings); the platform form has none.
-- A warehouse whose feedback extract never ran (one built before the work-order loop) has
-- no raw_feedback tables yet: read as no answers, so upgrading needs no manual step.
{%- set workbook_columns = ['WORK_ORDER_NO', 'DISPATCH_DATE', 'ANSWER_DEADLINE', 'STATION_NAME', 'TG_ID',
    'TG_NAME', 'CONS_NO', 'CONS_NAME', 'ELEC_ADDR', 'PROBLEM_CODE', 'PROBLEM_NAME', 'PROBLEM_DESC',
    'SUGGESTED_ACTION', 'FIRST_DETECTED_DATE', 'CONSECUTIVE_DAYS', 'CHECK_RESULT', 'IS_CONFIRMED',
    'OTHER_FINDINGS', 'RECTIFY_START_TIME', 'RECTIFY_RESULT', 'RECTIFY_APP_NO', 'CHECKER',
    'FEEDBACK_DATE', 'SHEET_NAME'] %}
{%- set platform_columns = ['WORK_ORDER_NO', 'CHECK_RESULT', 'IS_CONFIRMED', 'OTHER_FINDINGS',
    'RECTIFY_START_TIME', 'RECTIFY_RESULT', 'RECTIFY_APP_NO', 'CHECKER', 'FEEDBACK_DATE'] %}
{%- set relations = {} %}
{%- for table_name, columns in [('WORKBOOK_FEEDBACK', workbook_columns), ('R_AUDIT_FEEDBACK', platform_columns)] %}
    {%- set relation = source('raw_feedback', table_name) %}
    {%- if execute and not in_unit_test()
          and adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) is none %}
        {%- set empty -%}
            (select
                {%- for column in columns %} cast(null as {{ dbt.type_string() }}) as {{ column }},{% endfor %}
                cast(null as date) as _export_date,
                cast(null as {{ dbt.type_string() }}) as _source_file,
                cast(null as {{ dbt.type_bigint() }}) as _line_number
            where 1 = 0)
        {%- endset %}
        {%- do relations.update({table_name: empty}) %}
    {%- else %}
        {%- do relations.update({table_name: relation}) %}
    {%- endif %}
{%- endfor %}

with

workbook as (

    select
        'workbook' as form,
        _export_date as answer_date,
        trim(WORK_ORDER_NO) as work_order_no,
        CHECK_RESULT as check_result,
        {{ work_order_is_confirmed('trim(IS_CONFIRMED)') }} as is_confirmed,
        OTHER_FINDINGS as other_findings,
        cast(nullif(trim(RECTIFY_START_TIME), '') as timestamp) as rectify_start_time,
        {{ work_order_rectify_code('trim(RECTIFY_RESULT)') }} as rectify_result_code,
        nullif(trim(RECTIFY_APP_NO), '') as rectify_app_no,
        nullif(trim(CHECKER), '') as checker,
        cast(nullif(trim(FEEDBACK_DATE), '') as date) as feedback_date,
        DISPATCH_DATE as sheet_dispatch_date,
        ANSWER_DEADLINE as sheet_answer_deadline,
        STATION_NAME as sheet_station_name,
        TG_ID as sheet_tg_id,
        TG_NAME as sheet_tg_name,
        CONS_NO as sheet_cons_no,
        CONS_NAME as sheet_cons_name,
        ELEC_ADDR as sheet_elec_addr,
        PROBLEM_CODE as sheet_problem_code,
        PROBLEM_NAME as sheet_problem_name,
        PROBLEM_DESC as sheet_problem_desc,
        SUGGESTED_ACTION as sheet_suggested_action,
        FIRST_DETECTED_DATE as sheet_first_detected_date,
        CONSECUTIVE_DAYS as sheet_consecutive_days,
        SHEET_NAME as sheet_name,
        _source_file as source_file,
        _line_number as line_number
    from {{ relations['WORKBOOK_FEEDBACK'] }} as raw_rows

),

platform as (

    select
        'platform' as form,
        _export_date as answer_date,
        trim(cast(WORK_ORDER_NO as {{ dbt.type_string() }})) as work_order_no,
        cast(CHECK_RESULT as {{ dbt.type_string() }}) as check_result,
        {{ work_order_is_confirmed('trim(cast(IS_CONFIRMED as ' ~ dbt.type_string() ~ '))') }} as is_confirmed,
        cast(OTHER_FINDINGS as {{ dbt.type_string() }}) as other_findings,
        cast(nullif(trim(cast(RECTIFY_START_TIME as {{ dbt.type_string() }})), '') as timestamp) as rectify_start_time,
        {{ work_order_rectify_code('trim(cast(RECTIFY_RESULT as ' ~ dbt.type_string() ~ '))') }} as rectify_result_code,
        nullif(trim(cast(RECTIFY_APP_NO as {{ dbt.type_string() }})), '') as rectify_app_no,
        nullif(trim(cast(CHECKER as {{ dbt.type_string() }})), '') as checker,
        cast(nullif(trim(cast(FEEDBACK_DATE as {{ dbt.type_string() }})), '') as date) as feedback_date,
        {%- for column in ['dispatch_date', 'answer_deadline', 'station_name', 'tg_id', 'tg_name',
                           'cons_no', 'cons_name', 'elec_addr', 'problem_code', 'problem_name',
                           'problem_desc', 'suggested_action', 'first_detected_date',
                           'consecutive_days'] %}
        cast(null as {{ dbt.type_string() }}) as sheet_{{ column }},
        {%- endfor %}
        cast(null as {{ dbt.type_string() }}) as sheet_name,
        _source_file as source_file,
        _line_number as line_number
    from {{ relations['R_AUDIT_FEEDBACK'] }} as raw_rows

),

answers as (

    select * from workbook
    union all
    select * from platform

)

select
    cast(form as {{ dbt.type_string() }})                   as form,
    cast(answer_date as date)                               as answer_date,
    cast(work_order_no as {{ dbt.type_string() }})          as work_order_no,
    cast(check_result as {{ dbt.type_string() }})           as check_result,
    cast(is_confirmed as boolean)                           as is_confirmed,
    cast(other_findings as {{ dbt.type_string() }})         as other_findings,
    cast(rectify_start_time as timestamp)                   as rectify_start_time,
    cast(rectify_result_code as {{ dbt.type_string() }})    as rectify_result_code,
    cast({{ work_order_rectify_name('rectify_result_code') }} as {{ dbt.type_string() }}) as rectify_result_name,
    cast(rectify_app_no as {{ dbt.type_string() }})         as rectify_app_no,
    cast(checker as {{ dbt.type_string() }})                as checker,
    cast(feedback_date as date)                             as feedback_date,
    {%- for column in ['dispatch_date', 'answer_deadline', 'station_name', 'tg_id', 'tg_name',
                       'cons_no', 'cons_name', 'elec_addr', 'problem_code', 'problem_name',
                       'problem_desc', 'suggested_action', 'first_detected_date',
                       'consecutive_days'] %}
    cast(sheet_{{ column }} as {{ dbt.type_string() }})     as sheet_{{ column }},
    {%- endfor %}
    cast(sheet_name as {{ dbt.type_string() }})             as sheet_name,
    cast(source_file as {{ dbt.type_string() }})            as source_file,
    cast(line_number as {{ dbt.type_bigint() }})            as line_number
from answers
where is_confirmed is not null
    and work_order_no is not null
    and work_order_no <> ''
