{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key='data_date',
        on_schema_change='append_new_columns'
    )
}}
{{ run_window_depends_on() }}

-- 计量点连续窗口状态: per settlement metering point and day D, the carried state the
-- windowed metering rules read (M01 采集失败, M02 连续零电量, M06 电量突变), so that a daily
-- run computes day D from the state of D-1 and a few single energy days, not the history:
--   missing reads  days up to D without a day-frozen reading (E_MP_DAY_READ.PAP_R), since
--                  the last reading (last_read_date, last_read_pap_r)
--   zero energy    days up to D whose forward energy is valid and exactly 0
--   baseline       sum / count of the valid forward energies of D-B .. D-1
--                  (B = energy_jump_baseline_days)
--   recent         sum / count of the valid forward energies of D-W+1 .. D
--                  (W = energy_jump_recent_days)
--
-- Series: a metering point's state runs over its unbroken sequence of daily rows in
-- int_meter_energy_daily (settlement role, any status: the rules filter on status, so a
-- status change does not break a streak). A series that starts on day S (the first
-- computable day, or a new metering point) knows the reading of S-1 through
-- previous_pap_r, and nothing before: a missing-read streak counts from S-1, a zero streak
-- and the window sums from S. On the first computable day this is exactly "window days
-- only" (the first loaded day's missing reading counts).
--
-- One computation for every run shape: the run's days R..T (R = run_from_date(), late
-- back-fills included) are taken together; each metering point's rows are split into
-- series (gaps-and-islands: day minus row_number); a series that starts on R continues the
-- state row of R-1 read from {{ this }} (the carried state; none on a full refresh), the
-- others start fresh. Within a series the streaks are running maxima of the last day that
-- broke them, and the window sums are the carried sums plus a running sum of each day's
-- change (the energy entering the window minus the energy leaving it). A daily run
-- therefore reads: the energy rows of D, D-1 (entering the baseline), D-B-1 and D-W
-- (leaving the windows), and the state rows of D-1. Each is its own scan with literal date
-- bounds, so DuckDB skips the other days' row groups. Sums are exact decimals
-- (kwh_type()), so a daily run and a full refresh give identical rows.
--
-- A changed window length (energy_jump_baseline_days / energy_jump_recent_days) changes
-- the meaning of the carried sums: rebuild this model with --full-refresh after such a
-- change (the streak columns do not depend on any setting).

{%- if is_incremental() %}
    {#- literal bounds, looked up once: the run days and the single days looked back to -#}
    {%- set run_from = run_from_date() %}
    {%- set run_to = run_to_date() %}
    {%- set first_day = date_literal(first_computable_date(from_raw=true)) %}
    {%- set window_settings = run_query(
        "select setting_name, cast(setting_value as integer) as days from " ~ ref('audit_settings')
        ~ " where setting_name in ('energy_jump_baseline_days', 'energy_jump_recent_days')") %}
    {%- set window_days = {} %}
    {%- for row in window_settings.rows %}
        {%- do window_days.update({row[0]: row[1] | int}) %}
    {%- endfor %}
    {%- set baseline_days = window_days['energy_jump_baseline_days'] %}
    {%- set recent_days = window_days['energy_jump_recent_days'] %}
    {%- set carried_day = date_literal(add_days(-1, run_from)) %}
    {%- set previous_from, previous_to = carried_day, date_literal(add_days(-1, run_to)) %}
    {%- set baseline_leaving_from = date_literal(add_days(-1 - baseline_days, run_from)) %}
    {%- set baseline_leaving_to = date_literal(add_days(-1 - baseline_days, run_to)) %}
    {%- set recent_leaving_from = date_literal(add_days(-recent_days, run_from)) %}
    {%- set recent_leaving_to = date_literal(add_days(-recent_days, run_to)) %}
{%- else %}
    {%- set first_day = first_computable_date() %}
{%- endif %}

with

window_settings as (

    select
        {{ setting('energy_jump_baseline_days', 'integer') }} as baseline_days,
        {{ setting('energy_jump_recent_days', 'integer') }}   as recent_days

),

-- the run's days: every column the state and the rules' evidence need
run_rows as (

    select
        energy.data_date,
        energy.mp_id,
        energy.cons_no,
        energy.cons_tg_id,
        energy.cons_org_no,
        energy.mp_status_code,
        energy.cons_status_code,
        energy.data_id,
        energy.pap_r,
        energy.previous_pap_r,
        energy.forward_kwh,
        energy.energy_status
    from {{ ref('int_meter_energy_daily') }} as energy
    where energy.meter_role = 'settlement'
    {%- if is_incremental() %}
        and energy.data_date between {{ run_from }} and {{ run_to }}
    {%- endif %}

),

-- D-1 of every run day: the energy entering the baseline window
previous_day_energy as (

    select energy.mp_id, energy.data_date, energy.forward_kwh
    from {{ ref('int_meter_energy_daily') }} as energy
    where energy.meter_role = 'settlement'
    {%- if is_incremental() %}
        and energy.data_date between {{ previous_from }} and {{ previous_to }}
    {%- endif %}

),

-- D-B-1 of every run day: the energy leaving the baseline window
baseline_leaving_energy as (

    select energy.mp_id, energy.data_date, energy.forward_kwh
    from {{ ref('int_meter_energy_daily') }} as energy
    where energy.meter_role = 'settlement'
    {%- if is_incremental() %}
        and energy.data_date between {{ baseline_leaving_from }} and {{ baseline_leaving_to }}
    {%- endif %}

),

-- D-W of every run day: the energy leaving the recent window
recent_leaving_energy as (

    select energy.mp_id, energy.data_date, energy.forward_kwh
    from {{ ref('int_meter_energy_daily') }} as energy
    where energy.meter_role = 'settlement'
    {%- if is_incremental() %}
        and energy.data_date between {{ recent_leaving_from }} and {{ recent_leaving_to }}
    {%- endif %}

),

-- the state of the day before the run (carried state); none on a full refresh
carried as (

    {%- if is_incremental() %}
    select
        state.mp_id,
        state.data_date,
        state.series_start_date,
        state.last_read_date,
        state.last_read_pap_r,
        state.zero_energy_days,
        state.baseline_kwh,
        state.baseline_computable_days,
        state.recent_kwh,
        state.recent_computable_days
    from {{ this }} as state
    where state.data_date = {{ carried_day }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }})  as mp_id,
        cast(null as date)                      as data_date,
        cast(null as date)                      as series_start_date,
        cast(null as date)                      as last_read_date,
        cast(null as {{ audit_type_double() }}) as last_read_pap_r,
        cast(null as integer)                   as zero_energy_days,
        cast(null as {{ kwh_type() }})  as baseline_kwh,
        cast(null as integer)                   as baseline_computable_days,
        cast(null as {{ kwh_type() }})  as recent_kwh,
        cast(null as integer)                   as recent_computable_days
    where 1 = 0
    {%- endif %}

),

-- gaps and islands: consecutive days of one metering point share series_key
sequenced as (

    select
        run_rows.*,
        {{ add_days(
            '-1 * row_number() over (partition by run_rows.mp_id order by run_rows.data_date)',
            'run_rows.data_date'
        ) }}
            as series_key
    from run_rows

),

series as (

    select
        sequenced.*,
        min(sequenced.data_date) over (partition by sequenced.mp_id, sequenced.series_key)
            as series_first_run_date
    from sequenced

),

-- a series starting on the run's first day continues the carried state of the day before
seeded as (

    select
        series.*,
        coalesce(carried.series_start_date, series.series_first_run_date) as series_start_date,
        carried.last_read_date as carried_last_read_date,
        carried.last_read_pap_r as carried_last_read_pap_r,
        -- the last day before the carried zero streak (the carried day itself when it had none)
        {{ add_days('-1 * carried.zero_energy_days', 'carried.data_date') }}
            as carried_last_nonzero_date,
        coalesce(carried.baseline_kwh, 0)                                  as carried_baseline_kwh,
        coalesce(carried.baseline_computable_days, 0)                      as carried_baseline_days,
        coalesce(carried.recent_kwh, 0)                                    as carried_recent_kwh,
        coalesce(carried.recent_computable_days, 0)                        as carried_recent_days
    from series
    left join carried
        on carried.mp_id = series.mp_id
        and {{ add_days(1, 'carried.data_date') }} = series.series_first_run_date

),

-- each day's own contribution: the reading it proves, whether it breaks a zero streak, and
-- the change of the window sums (only days inside the series count)
day_changes as (

    select
        seeded.*,
        case
            when seeded.pap_r is not null then seeded.data_date
            when seeded.previous_pap_r is not null then {{ add_days(-1, 'seeded.data_date') }}
        end as day_read_date,
        coalesce(seeded.pap_r, seeded.previous_pap_r) as day_read_pap_r,
        -- a day without a valid forward energy, or with a non-zero one, breaks a zero streak
        case when seeded.forward_kwh = 0 then null else seeded.data_date end as day_nonzero_date,
        coalesce(cast(previous_day.forward_kwh as {{ kwh_type() }}), 0)
            - coalesce(cast(baseline_leaving.forward_kwh as {{ kwh_type() }}), 0)
            as baseline_change_kwh,
        case when previous_day.forward_kwh is not null then 1 else 0 end
            - case when baseline_leaving.forward_kwh is not null then 1 else 0 end
            as baseline_change_days,
        coalesce(cast(seeded.forward_kwh as {{ kwh_type() }}), 0)
            - coalesce(cast(recent_leaving.forward_kwh as {{ kwh_type() }}), 0)
            as recent_change_kwh,
        case when seeded.forward_kwh is not null then 1 else 0 end
            - case when recent_leaving.forward_kwh is not null then 1 else 0 end
            as recent_change_days,
        {{ add_days('-1 * window_settings.baseline_days', 'seeded.data_date') }}
            as baseline_window_start_date
    from seeded
    cross join window_settings
    left join previous_day_energy as previous_day
        on previous_day.mp_id = seeded.mp_id
        and previous_day.data_date = {{ add_days(-1, 'seeded.data_date') }}
        and previous_day.data_date >= seeded.series_start_date
    left join baseline_leaving_energy as baseline_leaving
        on baseline_leaving.mp_id = seeded.mp_id
        and baseline_leaving.data_date
            = {{ add_days('-1 - window_settings.baseline_days', 'seeded.data_date') }}
        and baseline_leaving.data_date >= seeded.series_start_date
    left join recent_leaving_energy as recent_leaving
        on recent_leaving.mp_id = seeded.mp_id
        and recent_leaving.data_date
            = {{ add_days('-1 * window_settings.recent_days', 'seeded.data_date') }}
        and recent_leaving.data_date >= seeded.series_start_date

),

running as (

    select
        day_changes.*,
        max(day_read_date) over (
            partition by mp_id, series_key order by data_date
            rows between unbounded preceding and current row
        ) as run_last_read_date,
        max(day_nonzero_date) over (
            partition by mp_id, series_key order by data_date
            rows between unbounded preceding and current row
        ) as run_last_nonzero_date,
        sum(baseline_change_kwh) over (
            partition by mp_id, series_key order by data_date
            rows between unbounded preceding and current row
        ) as run_baseline_change_kwh,
        sum(baseline_change_days) over (
            partition by mp_id, series_key order by data_date
            rows between unbounded preceding and current row
        ) as run_baseline_change_days,
        sum(recent_change_kwh) over (
            partition by mp_id, series_key order by data_date
            rows between unbounded preceding and current row
        ) as run_recent_change_kwh,
        sum(recent_change_days) over (
            partition by mp_id, series_key order by data_date
            rows between unbounded preceding and current row
        ) as run_recent_change_days
    from day_changes

),

-- the reading behind each read date: the earliest row proving it (the day's own row
-- before the next day's previous_pap_r)
read_points as (

    select
        mp_id,
        day_read_date,
        day_read_pap_r,
        row_number() over (partition by mp_id, day_read_date order by data_date) as read_rank
    from day_changes
    where day_read_date is not null

),

state as (

    select
        running.*,
        coalesce(running.run_last_read_date, running.carried_last_read_date) as last_read_date,
        case
            -- the carried reading when the last read date is the carried one (it was proved
            -- by an earlier row, as in a full refresh)
            when running.carried_last_read_date is not null
                and running.carried_last_read_date
                    >= coalesce(running.run_last_read_date, running.carried_last_read_date)
                then running.carried_last_read_pap_r
            else read_points.day_read_pap_r
        end as last_read_pap_r,
        -- before the first reading of a series: nothing is known before its first day - 1
        coalesce(
            running.run_last_read_date,
            running.carried_last_read_date,
            {{ add_days(-2, 'running.series_start_date') }}
        ) as missing_read_base_date,
        coalesce(
            running.run_last_nonzero_date,
            running.carried_last_nonzero_date,
            {{ add_days(-1, 'running.series_start_date') }}
        ) as last_nonzero_date
    from running
    left join read_points
        on read_points.mp_id = running.mp_id
        and read_points.day_read_date = running.run_last_read_date
        and read_points.read_rank = 1

),

final as (

    select
        data_date,
        mp_id,
        cons_no,
        cons_tg_id,
        cons_org_no,
        mp_status_code,
        cons_status_code,
        data_id,
        pap_r,
        forward_kwh,
        energy_status,
        series_start_date,

        -- M01 采集失败
        last_read_date,
        cast(last_read_pap_r as {{ audit_type_double() }}) as last_read_pap_r,
        cast(
            {{ dbt.datediff('missing_read_base_date', 'data_date', 'day') }}  -- noqa: LT05
            as integer
        ) as missing_read_days,
        case
            when {{ dbt.datediff('missing_read_base_date', 'data_date', 'day') }} > 0  -- noqa: LT05
                then {{ add_days(1, 'missing_read_base_date') }}
        end as missing_read_since_date,

        -- M02 连续零电量
        cast({{ dbt.datediff('last_nonzero_date', 'data_date', 'day') }} as integer)  -- noqa: LT05
            as zero_energy_days,
        case
            when {{ dbt.datediff('last_nonzero_date', 'data_date', 'day') }} > 0  -- noqa: LT05
                then {{ add_days(1, 'last_nonzero_date') }}
        end as zero_energy_since_date,

        -- M06 电量突变
        cast(carried_baseline_kwh + run_baseline_change_kwh as {{ kwh_type() }})
            as baseline_kwh,
        cast(carried_baseline_days + run_baseline_change_days as integer)
            as baseline_computable_days,
        cast(carried_recent_kwh + run_recent_change_kwh as {{ kwh_type() }})
            as recent_kwh,
        cast(carried_recent_days + run_recent_change_days as integer)
            as recent_computable_days,
        case
            when baseline_window_start_date >= {{ first_day }} then true else false
        end as is_baseline_window_in_data
    from state

)

select * from final
