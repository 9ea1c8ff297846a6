{#- 同业对标对象 · 台区 (台区线损合格率, 台区可算率): one row per indicator, day and area of the
    audit window (int_kpi_window day_facts_from_date .. to_date): every marts.area_daily_loss
    row of D (the areas in service), unit G_TG.ORG_NO; loss_qualified_rate only over the
    computable ones. Rebuilt every run for the run's days only (the marts keep the history). -#}

{%- set bounds = kpi_window_bounds(['day_facts_from_date', 'to_date']) -%}
{%- set day_from = bounds['day_facts_from_date'] -%}
{%- set to_date = bounds['to_date'] %}

with

area_days as (

    select
        l.data_date,
        l.tg_id,
        l.org_no,
        l.loss_status,
        'marts.area_daily_loss loss_status=' || {{ audit_txt('l.loss_status') }}
            || case
                when l.loss_status = 'uncomputable'
                    then ' (' || {{ audit_txt('l.uncomputable_reason') }} || ')'
                else ', loss_rate=' || {{ audit_num('100 * l.loss_rate') }} || ' %'
            end
            || ', meter_read_count/meter_count=' || {{ audit_txt('l.meter_read_count') }}
            || '/' || {{ audit_txt('l.meter_count') }} as detail
    from {{ ref('area_daily_loss') }} as l
    where l.data_date between {{ day_from }} and {{ to_date }}

),

facts as (

    select
        data_date,
        'area_computable_rate' as indicator_code,
        'area' as object_type,
        tg_id as object_id,
        tg_id,
        cast(null as {{ dbt.type_string() }}) as cons_no,
        org_no,
        case when loss_status <> 'uncomputable' then 1 else 0 end as numerator_value,
        1 as denominator_value,
        detail
    from area_days

    union all

    select
        data_date,
        'loss_qualified_rate' as indicator_code,
        'area' as object_type,
        tg_id as object_id,
        tg_id,
        cast(null as {{ dbt.type_string() }}),
        org_no,
        case when loss_status = 'qualified' then 1 else 0 end as numerator_value,
        1 as denominator_value,
        detail
    from area_days
    where loss_status <> 'uncomputable'

)

select
    {{ kpi_object_columns('f') }}
from facts as f
