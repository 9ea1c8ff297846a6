{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('append'),
        on_schema_change='append_new_columns',
        pre_hook="
            {%- if is_incremental() -%}
                {%- set bounds = run_query('select event_facts_from_date, month_from_date, to_date from ' ~ ref('int_kpi_window')).rows[0] -%}
                delete from {{ this }}
                where period_start between cast('{{ bounds[1] }}' as date) and cast('{{ bounds[2] }}' as date)
                    and (period_type = 'month' or period_start >= cast('{{ bounds[0] }}' as date))
            {%- else -%}
                select 1 as nothing_to_clear
            {%- endif -%}"
    )
}}
{#- 同业对标 (audit-rules.md §4, plus the three 营配贯通 indicators) per unit (供电所 / 县公司 /
    地市公司) and period (day / month), one row per indicator, numerator and denominator
    beside the value: the roll-up over the O_ORG tree of marts.unit_kpi_daily (the counts
    and sums per indicator, day and unit of the objects), so every figure traces to its
    units, and the objects that count against it to marts.unit_kpi_facts, by a plain join:

        select d.*                      -- or marts.unit_kpi_facts (the exceptions)
        from marts.unit_kpis as k
        inner join marts.unit_kpi_daily as d
            on d.indicator_code = k.indicator_code
            and d.data_date between k.fact_date_from and k.fact_date_to
            and k.org_no in (d.station_no, d.county_no, d.city_no)

    numerator / denominator / object_count = the sums of d's; numerator = denominator -
    sum(f.denominator_value - f.numerator_value) over the exceptions f.
    Periods:
      day    the objects of day D
      month  per the indicator's month_aggregation (marts.dim_kpi_indicator):
             sum_of_days  the sums over the month's days (area-days, meter-days, payments and
                          completions of the month): fact_date_from = the 1st
             last_day     the month's own population on its last day with objects (the
                          month's receivables as of that day; customers, areas and meters as
                          of that day): fact_date_from = fact_date_to = as_of_date
             as_of_date = the last day with objects in the month (month-to-date while the
             month is running).
    Every unit of O_ORG as of the day (of the month: of any of its days) gets a row for every
    indicator that has objects on that day (month): a unit without objects shows 0 / 0 and
    no value. indicator_value = numerator / denominator (NULL when the denominator is 0); for
    hv_connect_days the mean connection time in days.
    Runs: the day rows of event_facts_from_date .. to_date and the month rows of the months
    from month_from_date to to_date's month (int_kpi_window) are rebuilt, from the daily
    counts of those months only (a month of a unit's daily rows, not of its objects; the
    month rows take every day of the month the daily table has, so re-running an earlier
    day leaves the month complete); the pre_hook deletes exactly those rows first. -#}

{%- set bounds = kpi_window_bounds(['event_facts_from_date', 'month_from_date', 'to_date']) -%}
{%- set day_from = bounds['event_facts_from_date'] -%}
{%- set month_from = bounds['month_from_date'] -%}
{%- set to_date = bounds['to_date'] -%}
{#- the three unit levels: (unit_level, O_ORG.ORG_TYPE, fact column, Chinese name) -#}
{%- set unit_levels = [
    ('station', '04', 'station_no', '供电所'),
    ('county', '03', 'county_no', '县公司'),
    ('city', '02', 'city_no', '地市公司'),
] %}

with

indicators as (

    select * from {{ ref('dim_kpi_indicator') }}

),

facts as (

    select
        data_date,
        cast({{ dbt.date_trunc('month', 'data_date') }} as date) as month_start,
        indicator_code,
        station_no,
        county_no,
        city_no,
        numerator_value,
        denominator_value,
        object_count
    from {{ ref('unit_kpi_daily') }}
    -- the whole months touched (also days after to_date that earlier runs built, so a
    -- re-run of an earlier day leaves its month complete)
    where data_date >= {{ month_from }}
        and data_date < {{ add_days(0, dbt.dateadd('month', 1, dbt.date_trunc('month', to_date))) }}

),

-- one row per fact and unit level above it (the roll-up of the O_ORG tree)
unit_facts as (

    {%- for level, org_type, column, level_name in unit_levels %}
    select
        '{{ level }}' as unit_level,
        {{ column }} as org_no,
        data_date,
        month_start,
        indicator_code,
        numerator_value,
        denominator_value,
        object_count
    from facts
    where {{ column }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

-- the units (O_ORG ORG_TYPE 04 / 03 / 02) as of each day of the months rebuilt (up to
-- their last day with facts)
days as (

    {{ day_spine(month_from, '(select max(data_date) from facts)') }}

),

units as (

    select
        days.data_date,
        cast({{ dbt.date_trunc('month', 'days.data_date') }} as date) as month_start,
        case o.org_type
            {%- for level, org_type, column, level_name in unit_levels %}
            when '{{ org_type }}' then '{{ level }}'
            {%- endfor %}
        end as unit_level,
        o.org_no,
        o.org_name,
        o.p_org_no
    from days
    inner join {{ archive_rows('stg_marketing__orgs', month_from) }} as o
        on {{ as_of('days.data_date', 'o') }}
    where o.org_type in (
        {%- for level in unit_levels %}
        '{{ level[1] }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )

),

-- ---------------------------------------------------------------- day rows
day_scope as (

    select distinct
        data_date,
        indicator_code
    from facts
    where data_date between {{ day_from }} and {{ to_date }}

),

day_sums as (

    select
        data_date,
        unit_level,
        org_no,
        indicator_code,
        sum(numerator_value) as numerator_value,
        sum(denominator_value) as denominator_value,
        sum(object_count) as object_count
    from unit_facts
    where data_date between {{ day_from }} and {{ to_date }}
    group by data_date, unit_level, org_no, indicator_code

),

day_rows as (

    select
        'day' as period_type,
        scope.data_date as period_start,
        scope.data_date as period_end,
        scope.data_date as as_of_date,
        scope.data_date as fact_date_from,
        scope.data_date as fact_date_to,
        units.unit_level,
        units.org_no,
        units.org_name,
        units.p_org_no,
        scope.indicator_code,
        coalesce(sums.numerator_value, 0) as numerator_value,
        coalesce(sums.denominator_value, 0) as denominator_value,
        coalesce(sums.object_count, 0) as object_count
    from day_scope as scope
    inner join units
        on units.data_date = scope.data_date
    left join day_sums as sums
        on sums.data_date = scope.data_date
        and sums.unit_level = units.unit_level
        and sums.org_no = units.org_no
        and sums.indicator_code = scope.indicator_code

),

-- ---------------------------------------------------------------- month rows
month_scope as (

    select
        f.month_start,
        f.indicator_code,
        case
            when i.month_aggregation = 'last_day' then max(f.data_date)
            else f.month_start
        end as fact_date_from,
        max(f.data_date) as fact_date_to
    from facts as f
    inner join indicators as i
        on i.indicator_code = f.indicator_code
    group by f.month_start, f.indicator_code, i.month_aggregation

),

month_sums as (

    select
        scope.month_start,
        uf.unit_level,
        uf.org_no,
        scope.indicator_code,
        sum(uf.numerator_value) as numerator_value,
        sum(uf.denominator_value) as denominator_value,
        sum(uf.object_count) as object_count
    from month_scope as scope
    inner join unit_facts as uf
        on uf.indicator_code = scope.indicator_code
        and uf.data_date between scope.fact_date_from and scope.fact_date_to
    group by scope.month_start, uf.unit_level, uf.org_no, scope.indicator_code

),

-- a unit that existed on any day of the month, named as on the last of those days
month_units as (

    select month_start, unit_level, org_no, org_name, p_org_no
    from (
        select
            units.*,
            row_number() over (
                partition by units.month_start, units.unit_level, units.org_no
                order by units.data_date desc
            ) as name_rank
        from units
    ) as ranked
    where name_rank = 1

),

month_rows as (

    select
        'month' as period_type,
        scope.month_start as period_start,
        {{ add_days(-1, dbt.dateadd('month', 1, 'scope.month_start')) }} as period_end,
        scope.fact_date_to as as_of_date,
        scope.fact_date_from,
        scope.fact_date_to,
        units.unit_level,
        units.org_no,
        units.org_name,
        units.p_org_no,
        scope.indicator_code,
        coalesce(sums.numerator_value, 0) as numerator_value,
        coalesce(sums.denominator_value, 0) as denominator_value,
        coalesce(sums.object_count, 0) as object_count
    from month_scope as scope
    inner join month_units as units
        on units.month_start = scope.month_start
    left join month_sums as sums
        on sums.month_start = scope.month_start
        and sums.unit_level = units.unit_level
        and sums.org_no = units.org_no
        and sums.indicator_code = scope.indicator_code

),

kpi_rows as (

    select * from day_rows
    union all
    select * from month_rows

)

select
    cast(k.period_type as {{ dbt.type_string() }})                  as period_type,
    cast(k.period_start as date)                                    as period_start,
    cast(k.period_end as date)                                      as period_end,
    cast(k.as_of_date as date)                                      as as_of_date,
    cast(k.unit_level as {{ dbt.type_string() }})                   as unit_level,
    cast(case k.unit_level
        {%- for level, org_type, column, level_name in unit_levels %}
        when '{{ level }}' then '{{ level_name }}'
        {%- endfor %}
    end as {{ dbt.type_string() }})                                 as unit_level_name,
    cast(k.org_no as {{ dbt.type_string() }})                       as org_no,
    cast(k.org_name as {{ dbt.type_string() }})                     as org_name,
    cast(k.p_org_no as {{ dbt.type_string() }})                     as parent_org_no,
    cast(k.indicator_code as {{ dbt.type_string() }})               as indicator_code,
    cast(i.indicator_name as {{ dbt.type_string() }})               as indicator_name,
    cast(i.value_unit as {{ dbt.type_string() }})                   as value_unit,
    -- exact sums of the facts' DECIMAL quantities (the same whatever order DuckDB's
    -- threads add them in); the value is one DOUBLE division of them
    cast(k.numerator_value as {{ kpi_quantity_type() }})            as numerator_value,
    cast(k.denominator_value as {{ kpi_quantity_type() }})          as denominator_value,
    -- a count (value_unit count: 派单数, 超期工单数) is its numerator, not numerator / itself
    cast(case
        when k.denominator_value > 0 and i.value_unit = 'count'
            then cast(k.numerator_value as {{ audit_type_double() }})
        when k.denominator_value > 0
            then cast(k.numerator_value as {{ audit_type_double() }})
                / cast(k.denominator_value as {{ audit_type_double() }})
    end as {{ audit_type_double() }})                               as indicator_value,
    cast(k.object_count as {{ dbt.type_bigint() }})                 as object_count,
    cast(k.fact_date_from as date)                                  as fact_date_from,
    cast(k.fact_date_to as date)                                    as fact_date_to
from kpi_rows as k
inner join indicators as i
    on i.indicator_code = k.indicator_code
