{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key='data_date',
        on_schema_change='append_new_columns'
    )
}}
{{ run_window_depends_on() }}

-- The daily energy of every metering point (计量点日电量), settlement and check meters,
-- per audit-rules.md §1 and docs/architecture.md "Line loss: conventions":
--   reading        E_MP_DAY_READ of the MP's data point as of D (E_DATA_MP.DATA_ID -> MP_ID),
--                  for DATA_DATE D and D-1 (registers frozen at 24:00)
--   multiplier     C_METER.T_FACTOR as of D (never E_DATA_MP.T_FACTOR)
--   forward        (PAP_R(D) - PAP_R(D-1)) x T_FACTOR, valid when >= 0, a roll-over, or a
--                  C_METER_CHG day: (OLD_END_READ - PAP_R(D-1)) x OLD_T_FACTOR
--                                  + (PAP_R(D) - NEW_START_READ) x NEW_T_FACTOR
--   roll-over      PAP_R(D) < PAP_R(D-1), PAP_R(D-1) >= rollover_min_previous_share x 10^DIGITS
--                  and (PAP_R(D) + 10^DIGITS - PAP_R(D-1)) x T_FACTOR <= plausible maximum
--                  (CONTRACT_CAP, for a check meter TG_CAP, x plausible_hours_per_day; an
--                  unknown capacity confirms no roll-over)
--   reverse        RAP_R the same way with C_METER.T_FACTOR (NULL RAP_R = 0 kWh); a change
--                  record has no reverse reads, so a change day has no reverse exchange formula
--   computable     readings D and D-1 and a valid forward energy; for PV customers
--                  (GEN_FLAG = '1') also a valid reverse energy
-- Only the readings of the run's days and the day before are read (filtered before joins),
-- from int_day_reads_final (the final state of every reading, kept incrementally).

with

metering_points as (

    select * from {{ ref('int_metering_points_daily') }}
    where {{ in_run_window('data_date') }}

),

day_reads as (

    select
        data_id,
        data_date,
        pap_r,
        rap_r
    from {{ ref('int_day_reads_final') }}
    where {{ in_run_window('data_date', lookback_days=1) }}

),

meter_changes as (

    select
        mp_id,
        chg_date,
        chg_id,
        old_asset_no,
        new_asset_no,
        old_end_read,
        new_start_read,
        old_t_factor,
        new_t_factor,
        -- two change records of one MP on one day: the highest CHG_ID is applied
        row_number() over (partition by mp_id, chg_date order by chg_id desc) as change_rank
    from {{ ref('stg_marketing__meter_changes') }}
    where {{ in_run_window('chg_date') }}

),

readings as (

    select
        metering_points.data_date,
        metering_points.mp_id,
        metering_points.cons_no,
        metering_points.tg_id,
        metering_points.meter_role,
        metering_points.is_active,
        metering_points.gen_flag,
        metering_points.data_id,
        metering_points.meter_id,
        metering_points.asset_no,
        metering_points.t_factor,
        metering_points.digits,
        metering_points.contract_cap,
        metering_points.area_capacity_kva,
        metering_points.mp_status_code,
        metering_points.cons_tg_id,
        metering_points.cons_org_no,
        metering_points.cons_status_code,

        current_read.pap_r,
        previous_read.pap_r                         as previous_pap_r,
        current_read.rap_r,
        previous_read.rap_r                         as previous_rap_r,

        meter_changes.chg_id,
        meter_changes.old_asset_no,
        meter_changes.new_asset_no,
        meter_changes.old_end_read,
        meter_changes.new_start_read,
        meter_changes.old_t_factor,
        meter_changes.new_t_factor,

        -- exact, like the registers (a DOUBLE here would turn a roll-over's energy into
        -- one); DECIMAL(18,0) holds 10^17: a register of more digits never rolls over
        case
            when metering_points.digits between 0 and 17
                then cast(power(10, metering_points.digits) as decimal(18, 0))
        end                                         as register_full_scale,
        cast(
            case
                when metering_points.meter_role = 'check' then metering_points.area_capacity_kva
                else metering_points.contract_cap
            end * {{ setting('plausible_hours_per_day', kwh_type()) }}
            as {{ kwh_type() }}
        )                                           as plausible_max_kwh

    from metering_points
    left join day_reads as current_read
        on current_read.data_id = metering_points.data_id
        and current_read.data_date = metering_points.data_date
    left join day_reads as previous_read
        on previous_read.data_id = metering_points.data_id
        and previous_read.data_date = {{ add_days(-1, 'metering_points.data_date') }}
    left join meter_changes
        on meter_changes.mp_id = metering_points.mp_id
        and meter_changes.chg_date = metering_points.data_date
        and meter_changes.change_rank = 1

),

deltas as (

    select
        readings.*,
        chg_id is not null as is_exchange_day,
        pap_r is not null and previous_pap_r is not null as has_both_reads,
        -- a NULL RAP_R (no reverse register) counts as 0 kWh of reverse energy
        case
            when rap_r is not null and previous_rap_r is not null then rap_r - previous_rap_r
            else 0
        end                                                              as reverse_register_delta,
        pap_r - previous_pap_r                                           as forward_register_delta,
        (pap_r + register_full_scale - previous_pap_r) * t_factor        as rollover_kwh,
        (rap_r + register_full_scale - previous_rap_r) * t_factor
                                                                         as reverse_rollover_kwh
    from readings

),

classified as (

    select
        deltas.*,
        case
            when not is_exchange_day
                and has_both_reads
                and forward_register_delta < 0
                and register_full_scale is not null
                and previous_pap_r
                    >= {{ setting('rollover_min_previous_share', 'decimal(18, 6)') }}
                    * register_full_scale
                and rollover_kwh <= plausible_max_kwh
            then true else false
        end as is_rollover,
        case
            when not is_exchange_day
                and reverse_register_delta < 0
                and register_full_scale is not null
                and previous_rap_r
                    >= {{ setting('rollover_min_previous_share', 'decimal(18, 6)') }}
                    * register_full_scale
                and reverse_rollover_kwh <= plausible_max_kwh
            then true else false
        end as is_reverse_rollover
    from deltas

),

energy as (

    select
        classified.*,
        coalesce(
            has_both_reads and not is_exchange_day and forward_register_delta < 0
            and not is_rollover,
            false
        ) as is_register_backwards,
        coalesce(
            reverse_register_delta < 0 and not is_reverse_rollover, false
        ) as is_reverse_register_backwards,

        -- forward energy (正向有功电量), NULL when not valid; exact in the registers' and
        -- multipliers' DECIMAL, stored as kWh (kwh_type(), docs "Numeric types")
        cast(case
            when not has_both_reads then null
            when is_exchange_day
                then (old_end_read - previous_pap_r) * old_t_factor
                    + (pap_r - new_start_read) * new_t_factor
            when forward_register_delta >= 0 then forward_register_delta * t_factor
            when is_rollover then rollover_kwh
        end as {{ kwh_type() }}) as forward_kwh,

        -- reverse energy (反向有功电量), NULL when not valid
        cast(case
            when not has_both_reads then null
            when reverse_register_delta < 0 and not is_reverse_rollover then null
            when reverse_register_delta >= 0 then reverse_register_delta * t_factor
            when is_reverse_rollover then reverse_rollover_kwh
        end as {{ kwh_type() }}) as reverse_kwh,

        -- a PV customer's reverse energy counts in the supply: it must be valid
        coalesce(gen_flag = '1', false) as needs_valid_reverse
    from classified

),

final as (

    select
        data_date,
        mp_id,
        cons_no,
        tg_id,
        meter_role,
        is_active,
        gen_flag,
        mp_status_code,
        cons_tg_id,
        cons_org_no,
        cons_status_code,
        contract_cap,
        data_id,
        meter_id,
        asset_no,
        t_factor,
        digits,
        plausible_max_kwh,

        pap_r,
        previous_pap_r,
        rap_r,
        previous_rap_r,

        chg_id,
        old_asset_no,
        new_asset_no,
        old_t_factor,
        new_t_factor,

        forward_kwh,
        reverse_kwh,

        case
            when data_id is null then 'no data point'
            when not is_exchange_day and t_factor is null then 'no meter'
            when pap_r is null then 'reading missing'
            when previous_pap_r is null then 'previous reading missing'
            when is_exchange_day and forward_kwh is null then 'change record incomplete'
            when is_register_backwards then 'register backwards'
            when forward_kwh is null then 'energy invalid'
            when needs_valid_reverse and reverse_kwh is null then 'reverse register backwards'
        end as energy_status,

        is_exchange_day,
        coalesce(
            is_exchange_day and coalesce(old_asset_no, '') <> coalesce(new_asset_no, ''), false
        ) as is_meter_exchange,
        is_rollover,
        is_register_backwards,
        is_reverse_rollover,
        is_reverse_register_backwards,
        coalesce(forward_kwh > plausible_max_kwh, false) as is_above_plausible_max
    from energy

)

select
    final.*,
    energy_status is null as is_computable
from final
