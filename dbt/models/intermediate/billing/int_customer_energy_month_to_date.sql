{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key='data_date',
        on_schema_change='append_new_columns'
    )
}}
{{ run_window_depends_on() }}

-- 客户当月累计采集电量 (month-to-date measured energy): one row per customer and day D with
-- the sum of the forward energy of the customer's settlement metering points (C_MP
-- USAGE_TYPE_CODE 01, any status, int_meter_energy_daily) over the days of D's month up to
-- D on which every one of them has a valid forward energy, and how many such days there
-- are. On the month's last day these are the daily sums of the month, which B02 shows next
-- to the register-difference energy it compares with the billed T_PQ (a cross-check only;
-- is_measured_to_date says whether every day of the month was measured).
--   full refresh      every day of int_meter_energy_daily
--   incremental run   the days int_meter_energy_daily recomputes (run_from_date() ..
--                     run_to_date(), late readings included) plus the carried state: this
--                     table's rows of run_from_date() - 1 when that day is in the same month.
--                     A daily run reads one or a few days of energy and one day of this
--                     table, never the month or the history; a recomputed earlier day is
--                     exact because the running sums restart from the day before it.
-- A customer-day without a row (no settlement metering point that day) is not a measured
-- day, so that month never counts as fully measured (is_measured_to_date stays 0).

with

energy as (

    select
        data_date,
        cons_no,
        forward_kwh
    from {{ ref('int_meter_energy_daily') }}
    where {{ in_run_window('data_date') }}
        and meter_role = 'settlement'
        and cons_no is not null

),

customer_days as (

    select
        data_date,
        cons_no,
        cast({{ dbt.date_trunc('month', 'data_date') }} as date) as month_start_date,
        cast(count(*) as {{ dbt.type_int() }}) as settlement_mp_count,
        -- a day counts when every settlement MP of the customer has a valid forward
        -- energy (the generator's and audit-rules' "computable energy" of the day)
        cast(case when count(forward_kwh) = count(*) then 1 else 0 end as {{ dbt.type_int() }})
            as is_day_measured,
        cast(sum(forward_kwh) as {{ audit_type_double() }}) as day_kwh
    from energy
    group by data_date, cons_no

),

running as (

    select
        customer_days.*,
        sum(case when is_day_measured = 1 then day_kwh else 0 end) over (
            partition by cons_no, month_start_date
            order by data_date
            rows between unbounded preceding and current row
        ) as run_kwh,
        sum(is_day_measured) over (
            partition by cons_no, month_start_date
            order by data_date
            rows between unbounded preceding and current row
        ) as run_measured_days
    from customer_days

),

{%- if is_incremental() %}

carried as (

    -- the state of the day before the run (same month only; a run starting on the 1st
    -- carries nothing)
    select
        cons_no,
        month_start_date,
        month_to_date_kwh,
        month_to_date_measured_days
    from {{ this }}
    where data_date = {{ add_days(-1, run_from_date()) }}

),

{%- endif %}

month_to_date as (

    select
        running.data_date,
        running.cons_no,
        running.month_start_date,
        running.settlement_mp_count,
        running.is_day_measured,
        running.day_kwh,
        {%- if is_incremental() %}
        coalesce(carried.month_to_date_kwh, 0) + running.run_kwh as month_to_date_kwh,
        coalesce(carried.month_to_date_measured_days, 0) + running.run_measured_days
            as month_to_date_measured_days
        {%- else %}
        running.run_kwh as month_to_date_kwh,
        running.run_measured_days as month_to_date_measured_days
        {%- endif %}
    from running
    {%- if is_incremental() %}
    left join carried
        on carried.cons_no = running.cons_no
        and carried.month_start_date = running.month_start_date
    {%- endif %}

)

select
    data_date,
    cons_no,
    cast(extract(year from month_start_date) * 100 + extract(month from month_start_date)
        as {{ dbt.type_string() }}) as billing_month,
    month_start_date,
    cast({{ dbt.last_day('month_start_date', 'month') }} as date) as month_end_date,
    settlement_mp_count,
    is_day_measured,
    day_kwh,
    -- rounded to 1e-6 kWh: a re-run that sums the same days in another order (carried +
    -- window instead of one pass) gives the identical value
    cast(round(month_to_date_kwh, 6) as {{ audit_type_double() }}) as month_to_date_kwh,
    cast(month_to_date_measured_days as {{ dbt.type_int() }}) as month_to_date_measured_days,
    case
        when month_to_date_measured_days
            = {{ dbt.datediff('month_start_date', 'data_date', 'day') }} + 1  -- noqa: LT05
            then 1 else 0
    end as is_measured_to_date
from month_to_date
