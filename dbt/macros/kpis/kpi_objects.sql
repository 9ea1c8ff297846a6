{#- The KPI object families (audit/kpis/kpi_objects__<family>.sql): every object that an
    indicator counts on a day of the run, with its numerator and denominator. The marts
    marts.unit_kpi_daily (the counts per unit and day) and marts.unit_kpi_facts (the objects
    that count against an indicator) read them all. -#}
{% macro kpi_object_models() -%}
    {{ return([
        'kpi_objects__areas',
        'kpi_objects__meters',
        'kpi_objects__receivables',
        'kpi_objects__payments',
        'kpi_objects__applications',
        'kpi_objects__sms_customers',
        'kpi_objects__archives',
        'kpi_objects__work_orders',
    ]) }}
{%- endmacro %}

{#- The union of every family's objects (a sub-query body). -#}
{% macro kpi_objects_union() -%}
    {%- for model_name in kpi_object_models() %}
    select * from {{ ref(model_name) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The indicators whose drill-down lists every object, not only the ones that count
    against it: an event indicator that is a mean (hv_connect_days: the days of each 10 kV
    completion; wo_mean_close_days: the days of each archived work order) and the work-order
    counts (wo_dispatched, wo_overdue: the orders are the figure), where every object is
    evidence and there are few of them. -#}
{% macro kpi_every_object_indicators() -%}
    {{ return(['hv_connect_days', 'wo_dispatched', 'wo_overdue', 'wo_mean_close_days']) }}
{%- endmacro %}

{#- Whether an object row belongs to the drill-down marts.unit_kpi_facts: it counts
    against its indicator (numerator <> denominator: a meter not read, an area not
    qualified, a customer not covered, a late payment, a receivable not paid in full) or
    its indicator lists every object. -#}
{% macro kpi_is_drill_down(alias='o') -%}
    ({{ alias }}.numerator_value <> {{ alias }}.denominator_value
        or {{ alias }}.indicator_code in ({% for code in kpi_every_object_indicators() %}'{{ code }}'{{ ', ' if not loop.last }}{% endfor %}))
{%- endmacro %}

{#- The common output of a family model (from a CTE `facts` with the same columns): the
    evidence text only for the rows of the drill-down (the others are plain successes). -#}
{% macro kpi_object_columns(alias='f') -%}
    cast({{ alias }}.data_date as date)                             as data_date,
    cast({{ alias }}.indicator_code as {{ dbt.type_string() }})     as indicator_code,
    cast({{ alias }}.object_type as {{ dbt.type_string() }})        as object_type,
    cast({{ alias }}.object_id as {{ dbt.type_string() }})          as object_id,
    cast({{ alias }}.tg_id as {{ dbt.type_string() }})              as tg_id,
    cast({{ alias }}.cons_no as {{ dbt.type_string() }})            as cons_no,
    cast({{ alias }}.org_no as {{ dbt.type_string() }})             as org_no,
    cast({{ alias }}.numerator_value as {{ kpi_quantity_type() }})  as numerator_value,
    cast({{ alias }}.denominator_value as {{ kpi_quantity_type() }}) as denominator_value,
    cast(case when {{ kpi_is_drill_down(alias) }} then {{ alias }}.detail end
        as {{ dbt.type_string() }})                                 as detail
{%- endmacro %}

{#- The pre_hook of the two incremental KPI fact marts (marts.unit_kpi_daily,
    marts.unit_kpi_facts): delete exactly the days this run rebuilds (int_kpi_window):
    day-state indicators from day_facts_from_date, event indicators (payments,
    applications) from event_facts_from_date, to to_date. -#}
{% macro kpi_fact_days_pre_hook() -%}
    {%- if is_incremental() -%}
        {%- set bounds = run_query('select day_facts_from_date, event_facts_from_date, to_date from ' ~ ref('int_kpi_window')).rows[0] -%}
        delete from {{ this }}
        where data_date between cast('{{ bounds[1] }}' as date) and cast('{{ bounds[2] }}' as date)
            and (data_date >= cast('{{ bounds[0] }}' as date)
                 or indicator_code in ({% for code in kpi_event_indicators() %}'{{ code }}'{{ ', ' if not loop.last }}{% endfor %}))
    {%- else -%}
        select 1 as nothing_to_clear
    {%- endif -%}
{%- endmacro %}

{#- The event indicators (their day is the event's: CHARGE_TIME, POWER_ON_DATE), rebuilt
    from event_facts_from_date. -#}
{% macro kpi_event_indicators() -%}
    {{ return(['deposit_timely_rate', 'arrival_timely_rate', 'hv_connect_days']) }}
{%- endmacro %}
