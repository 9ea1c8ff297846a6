{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('append'),
        on_schema_change='append_new_columns',
        pre_hook="{{ kpi_fact_days_pre_hook() }}"
    )
}}
{#- 同业对标例外明细 (the drill-down of marts.unit_kpis): one row per indicator, day and object
    that counts against the indicator, i.e. whose numerator falls short of its denominator
    (numerator_value <> denominator_value): an area not computable or not qualified, a
    meter not read, a receivable not paid in full, a payment deposited or arrived late, a
    10 kV receivable not read automatically, an urban customer without SMS, a customer /
    area / meter whose archives disagree; and, for the mean 高压客户业扩报装平均接电时间
    (hv_connect_days), every application. Each row carries its unit (org_no), the 供电所 /
    县公司 / 地市公司 above it as of the day and its evidence (detail). The objects that count
    fully are not stored one by one: they are the rest of the denominator, counted per unit
    and day in marts.unit_kpi_daily. So the file grows with exceptions, not with customers
    x days, and every figure of marts.unit_kpis is reproduced by a plain join
    (indicator_code, data_date between fact_date_from and fact_date_to, org_no in
    (station_no, county_no, city_no)):

        numerator_value = denominator_value - sum(f.denominator_value - f.numerator_value)

    (for a count: the denominator minus the number of exceptions; for 电费回收率 the
    receivable amount minus what the unpaid receivables lack; for hv_connect_days, whose
    every application is here, also numerator = sum(f.numerator_value) and denominator =
    count(*)). Incremental by data_date as marts.unit_kpi_daily. -#}
-- depends_on: {{ ref('int_kpi_window') }}

with

objects as (

    {{ kpi_objects_union() }}

)

select
    cast(o.data_date as date)                                   as data_date,
    cast(o.indicator_code as {{ dbt.type_string() }})           as indicator_code,
    cast(o.object_type as {{ dbt.type_string() }})              as object_type,
    cast(o.object_id as {{ dbt.type_string() }})                as object_id,
    cast(o.tg_id as {{ dbt.type_string() }})                    as tg_id,
    cast(o.cons_no as {{ dbt.type_string() }})                  as cons_no,
    cast(o.org_no as {{ dbt.type_string() }})                   as org_no,
    cast(u.station_no as {{ dbt.type_string() }})               as station_no,
    cast(u.county_no as {{ dbt.type_string() }})                as county_no,
    cast(u.city_no as {{ dbt.type_string() }})                  as city_no,
    cast(o.numerator_value as {{ kpi_quantity_type() }})        as numerator_value,
    cast(o.denominator_value as {{ kpi_quantity_type() }})      as denominator_value,
    cast(o.detail as {{ dbt.type_string() }})                   as detail
from objects as o
left join {{ ref('int_kpi_org_chain') }} as u
    on u.data_date = o.data_date
    and u.org_no = o.org_no
where {{ kpi_is_drill_down('o') }}
