{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('append'),
        on_schema_change='append_new_columns',
        pre_hook="{{ kpi_fact_days_pre_hook() }}"
    )
}}
{#- 同业对标日汇总 (audit-rules.md §4 and the three 营配贯通 indicators): one row per indicator,
    day and unit of the objects (org_no: G_TG.ORG_NO of an area, C_CONS.ORG_NO of a meter,
    customer or payment, A_RCVBL_FLOW.ORG_NO of a receivable, APP_BIZ.ORG_NO of an
    application) with the 供电所 / 县公司 / 地市公司 above it as of the day: the numerator and
    denominator summed over its objects (audit/kpis/kpi_objects__<family>), the number of
    objects and the number of them that count against the indicator (the rows of
    marts.unit_kpi_facts). It grows with units x days x indicators, not with customers x
    days; marts.unit_kpis is its roll-up over the O_ORG tree:

        unit_kpis.numerator_value   = sum(unit_kpi_daily.numerator_value)
        unit_kpis.denominator_value = sum(unit_kpi_daily.denominator_value)
        unit_kpis.object_count      = sum(unit_kpi_daily.object_count)

    over the plain join (indicator_code, data_date between fact_date_from and fact_date_to,
    org_no in (station_no, county_no, city_no)); and the objects behind a numerator that
    falls short of its denominator are in marts.unit_kpi_facts with the same join.
    Incremental by data_date: a run rebuilds the days of int_kpi_window (day-state
    indicators from day_facts_from_date, payments and applications from
    event_facts_from_date), the pre_hook deletes exactly those days first. -#}
-- depends_on: {{ ref('int_kpi_window') }}

with

objects as (

    {{ kpi_objects_union() }}

)

select
    cast(o.data_date as date)                                   as data_date,
    cast(o.indicator_code as {{ dbt.type_string() }})           as indicator_code,
    cast(o.org_no as {{ dbt.type_string() }})                   as org_no,
    cast(u.station_no as {{ dbt.type_string() }})               as station_no,
    cast(u.county_no as {{ dbt.type_string() }})                as county_no,
    cast(u.city_no as {{ dbt.type_string() }})                  as city_no,
    -- exact sums of DECIMAL quantities (the same whatever order the threads add them in)
    cast(sum(o.numerator_value) as {{ kpi_quantity_type() }})   as numerator_value,
    cast(sum(o.denominator_value) as {{ kpi_quantity_type() }}) as denominator_value,
    cast(count(*) as {{ dbt.type_bigint() }})                   as object_count,
    cast(sum(case when {{ kpi_is_drill_down('o') }} then 1 else 0 end)
        as {{ dbt.type_bigint() }})                             as drill_down_count
from objects as o
left join {{ ref('int_kpi_org_chain') }} as u
    on u.data_date = o.data_date
    and u.org_no = o.org_no
group by
    o.data_date,
    o.indicator_code,
    o.org_no,
    u.station_no,
    u.county_no,
    u.city_no
