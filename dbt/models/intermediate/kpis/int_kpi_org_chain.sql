{#- 同业对标单位链: one row per day of the KPI run (int_kpi_window event_facts_from_date ..
    to_date) and O_ORG unit as of that day, with the 供电所 / 县公司 / 地市公司 (ORG_TYPE 04 /
    03 / 02) at or above it (the unit itself, its parent or its grandparent). The KPI
    marts (marts.unit_kpi_daily, marts.unit_kpi_facts) give each object's unit its chain
    through it. -#}

{%- set bounds = kpi_window_bounds(['event_facts_from_date', 'to_date']) -%}
{%- set event_from = bounds['event_facts_from_date'] -%}
{%- set to_date = bounds['to_date'] %}

with

event_days as (

    {{ day_spine(event_from, to_date) }}

),

orgs as (

    select event_days.data_date, o.org_no, o.org_type, o.p_org_no
    from event_days
    inner join {{ archive_rows('stg_marketing__orgs', event_from) }} as o
        on {{ as_of('event_days.data_date', 'o') }}

)

select
    cast(o0.data_date as date) as data_date,
    cast(o0.org_no as {{ dbt.type_string() }}) as org_no,
    {%- for level, org_type in [('station', '04'), ('county', '03'), ('city', '02')] %}
    cast(case
        when o0.org_type = '{{ org_type }}' then o0.org_no
        when o1.org_type = '{{ org_type }}' then o1.org_no
        when o2.org_type = '{{ org_type }}' then o2.org_no
    end as {{ dbt.type_string() }}) as {{ level }}_no{{ ',' if not loop.last }}
    {%- endfor %}
from orgs as o0
left join orgs as o1
    on o1.data_date = o0.data_date
    and o1.org_no = o0.p_org_no
left join orgs as o2
    on o2.data_date = o1.data_date
    and o2.org_no = o1.p_org_no
