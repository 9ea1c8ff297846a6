{#- 同业对标对象 · 业扩申请 (高压客户业扩报装平均接电时间): one row per 10 kV application
    (APP_BIZ VOLT_CODE '03' as in the newest archive of the run: a completion is archived
    some days after its POWER_ON_DATE) on its POWER_ON_DATE, from int_kpi_window
    event_facts_from_date to to_date; numerator = days APPLY_DATE -> POWER_ON_DATE,
    denominator = 1, so the figure is the mean; unit = APP_BIZ.ORG_NO (受理单位); a
    POWER_ON_DATE before APPLY_DATE is a data error and is not counted. Every application is
    in the drill-down (marts.unit_kpi_facts). -#}

{%- set bounds = kpi_window_bounds(['event_facts_from_date', 'to_date']) -%}
{%- set event_from = bounds['event_facts_from_date'] -%}
{%- set to_date = bounds['to_date'] %}

with

customers as (

    select *
    from {{ archive_rows('stg_marketing__customers', event_from) }} as c

),

facts as (

    select
        a.power_on_date as data_date,
        'hv_connect_days' as indicator_code,
        'application' as object_type,
        a.app_no as object_id,
        c.tg_id,
        a.cons_no,
        a.org_no,
        {{ dbt.datediff('a.apply_date', 'a.power_on_date', 'day') }} as numerator_value,  -- noqa: LT05
        1 as denominator_value,
        'APP_BIZ APP_NO=' || a.app_no || ' BUSI_TYPE=' || {{ audit_txt('a.busi_type') }}
            || ' VOLT_CODE=' || {{ audit_txt('a.volt_code') }}
            || ' APPLY_DATE=' || {{ audit_txt('a.apply_date') }}
            || ' POWER_ON_DATE=' || {{ audit_txt('a.power_on_date') }}
            || ' (接电 '
            || cast(
                {{ dbt.datediff('a.apply_date', 'a.power_on_date', 'day') }}  -- noqa: LT05
                as {{ dbt.type_string() }}
            )
            || ' 天, STATUS_CODE=' || {{ audit_txt('a.status_code') }} || ')' as detail
    from {{ archive_rows('stg_marketing__applications', to_date) }} as a
    left join customers as c
        on c.cons_no = a.cons_no
        and {{ as_of('a.power_on_date', 'c') }}
    where {{ as_of(to_date, 'a') }}
        and a.volt_code = '03'
        and a.power_on_date between {{ event_from }} and {{ to_date }}
        and a.apply_date is not null
        and a.power_on_date >= a.apply_date

)

select
    {{ kpi_object_columns('f') }}
from facts as f
