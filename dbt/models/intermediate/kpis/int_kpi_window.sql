{{ config(materialized='table') }}
{{ run_window_depends_on() }}
-- depends_on: {{ ref('stg_collection__payments') }}, {{ ref('stg_marketing__applications') }}
{%- if not in_unit_test() %}
-- depends_on: {{ source('raw_collection', 'A_PAY_FLOW') }}
{%- endif %}

-- 同业对标计算窗口: one row, the days the KPI models (audit/kpis, marts.unit_kpi_daily,
-- unit_kpi_facts, unit_kpis) recompute in this run. Built first, so they all (and the
-- pre_hooks, which delete exactly these days) read the same bounds; they read them once
-- when compiled and write them into their SQL as date literals (a daily run scans its own
-- days only).
--   day_facts_from_date    the audit window's first day (audit_start_date(): start_date,
--                          or earlier when readings / meter changes delivered in the run
--                          reach back, which recomputes marts.area_daily_loss): the first
--                          day of the day-state facts (areas, meters, customers, archives,
--                          receivables as of D)
--   event_facts_from_date  the first day of the event facts (payments by their CHARGE_TIME
--                          day, 10 kV applications by their POWER_ON_DATE): earlier than
--                          day_facts_from_date when a payment delivered in the run was
--                          charged on an earlier day, or a snapshot delivered in the run
--                          shows a 10 kV completion (POWER_ON_DATE) the snapshot before it
--                          did not; never before the first loaded day (an archive's first
--                          snapshot lists every past completion)
--   month_from_date        the 1st of event_facts_from_date's month: month rows of every
--                          month from there to to_date are recomputed from their day facts
--   to_date                the run's end_date

with

run_window as (

    select
        {{ window_start_date() }}                       as window_start_date,
        {{ window_end_date() }}                         as window_end_date,
        {{ audit_start_date() }}                        as day_facts_from_date,
        {{ audit_end_date() }}                          as to_date,
        -- the day before the first computable day = the first export day of the readings
        {{ add_days(-1, first_computable_date(from_raw=true)) }} as first_loaded_date

),

-- payments delivered in the run (the raw rows of the window's export days, before any
-- deduplication: every delivery can change the day it was charged on)
late_payments as (

    select min(cast(delivered.charge_time as date)) as first_charge_date
    from
        {{ delivered_rows('stg_collection__payments', 'raw_collection', 'A_PAY_FLOW') }}
        as delivered
    where delivered._export_date between {{ window_start_date() }} and {{ window_end_date() }}

),

-- 10 kV completions that a snapshot delivered in the run shows and the snapshot before it
-- did not (a completion is archived some days after its POWER_ON_DATE)
applications as (

    select *
    from {{ archive_rows('stg_marketing__applications', add_days(-1, window_start_date())) }} as a
    where a.volt_code = '03'

),

new_completions as (

    select min(delivered.power_on_date) as first_power_on_date
    from applications as delivered
    left join applications as previous
        on previous.app_no = delivered.app_no
        and previous.valid_to_date = {{ add_days(-1, 'delivered.snapshot_date') }}
    where delivered.snapshot_date between {{ window_start_date() }} and {{ window_end_date() }}
        and delivered.power_on_date is not null
        and (previous.power_on_date is null or previous.power_on_date <> delivered.power_on_date)

),

bounds as (

    select
        run_window.window_start_date,
        run_window.window_end_date,
        run_window.day_facts_from_date,
        case
            when run_window.first_loaded_date is not null
                and least(
                    run_window.day_facts_from_date,
                    coalesce(late_payments.first_charge_date, run_window.day_facts_from_date),
                    coalesce(new_completions.first_power_on_date, run_window.day_facts_from_date)
                ) < run_window.first_loaded_date
                then least(run_window.first_loaded_date, run_window.day_facts_from_date)
            else least(
                run_window.day_facts_from_date,
                coalesce(late_payments.first_charge_date, run_window.day_facts_from_date),
                coalesce(new_completions.first_power_on_date, run_window.day_facts_from_date)
            )
        end as event_facts_from_date,
        run_window.to_date
    from run_window
    cross join late_payments
    cross join new_completions

)

select
    cast(window_start_date as date)                 as window_start_date,
    cast(window_end_date as date)                   as window_end_date,
    cast(day_facts_from_date as date)               as day_facts_from_date,
    cast(event_facts_from_date as date)             as event_facts_from_date,
    cast({{ dbt.date_trunc('month', 'event_facts_from_date') }} as date) as month_from_date,
    cast(to_date as date)                           as to_date
from bounds
