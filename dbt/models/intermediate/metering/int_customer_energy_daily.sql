{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key='data_date',
        on_schema_change='append_new_columns'
    )
}}
{{ run_window_depends_on() }}

-- 用户日电量: one row per customer (C_MP.CONS_NO of its settlement metering points) and day
-- D, the daily series the theft ranking (marts.theft_suspects) searches its change points
-- in. Kept incrementally (delete+insert on data_date) from the run's days of
-- int_meter_energy_daily only, so the ranking reads a slim customer x day table instead of
-- the metering points' readings:
--   forward_kwh     the settlement MPs' forward energies summed
--   is_computable   every settlement MP of the customer computable and not above its
--                   plausible maximum (a runaway day, M04, is no consumption)
--   valley_kwh,     the valley (PAP_R4 谷) and total (PAP_R) register advances x T_FACTOR
--   valley_base_kwh over the MPs whose day is computable with both registers rising, no
--                   meter change and no roll-over (the valley share's inputs)
--   is_active       an active settlement MP (STATUS_CODE '1') of an active customer
--                   (C_CONS STATUS_CODE '1') that day

with

energy as (

    select
        data_date,
        mp_id,
        data_id,
        cons_no,
        cons_tg_id,
        cons_org_no,
        cons_status_code,
        mp_status_code,
        t_factor,
        pap_r,
        previous_pap_r,
        forward_kwh,
        is_computable,
        is_above_plausible_max,
        is_exchange_day,
        is_rollover
    from {{ ref('int_meter_energy_daily') }}
    where {{ in_run_window('data_date') }}
        and meter_role = 'settlement'
        and cons_no is not null

),

valley_reads as (

    select
        data_id,
        data_date,
        pap_r4
    from {{ ref('int_day_reads_final') }}
    where {{ in_run_window('data_date', lookback_days=1) }}

),

valley as (

    select
        e.data_date,
        e.mp_id,
        (v.pap_r4 - pv.pap_r4) * e.t_factor as valley_kwh,
        (e.pap_r - e.previous_pap_r) * e.t_factor as valley_base_kwh
    from energy as e
    inner join valley_reads as v
        on v.data_id = e.data_id
        and v.data_date = e.data_date
    inner join valley_reads as pv
        on pv.data_id = e.data_id
        and pv.data_date = {{ add_days(-1, 'e.data_date') }}
    where e.is_computable
        and not e.is_exchange_day
        and not e.is_rollover
        and v.pap_r4 >= pv.pap_r4
        and e.pap_r > e.previous_pap_r

)

select
    cast(e.data_date as date) as data_date,
    cast(e.cons_no as {{ dbt.type_string() }}) as cons_no,
    cast(min(e.cons_tg_id) as {{ dbt.type_string() }}) as tg_id,
    cast(min(e.cons_org_no) as {{ dbt.type_string() }}) as org_no,
    cast(max(case when e.mp_status_code = '1' and e.cons_status_code = '1' then 1 else 0 end) = 1
        as boolean) as is_active,
    cast(count(*) as {{ dbt.type_int() }}) as mp_count,
    cast(sum(e.forward_kwh) as {{ kwh_type() }}) as forward_kwh,
    cast(min(case when e.is_computable and not e.is_above_plausible_max then 1 else 0 end) = 1
        as boolean) as is_computable,
    cast(sum(v.valley_kwh) as {{ kwh_type() }}) as valley_kwh,
    cast(sum(v.valley_base_kwh) as {{ kwh_type() }}) as valley_base_kwh
from energy as e
left join valley as v
    on v.mp_id = e.mp_id
    and v.data_date = e.data_date
group by e.data_date, e.cons_no
