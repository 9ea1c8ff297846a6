{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key='data_date',
        on_schema_change='append_new_columns'
    )
}}
{{ run_window_depends_on() }}

-- The daily energy balance of every in-service area (台区日供售电量), per
-- docs/architecture.md "Line loss: conventions":
--   areas          G_TG as of D with RUN_STATUS_CODE = '01'
--   members        C_MP.TG_ID = area as of D, STATUS_CODE = '1'
--   supply         check meter forward energy + reverse energy (PV export) of the area's
--                  computable GEN_FLAG = '1' customers
--   sales          forward energy of the area's computable settlement meters + check meter
--                  reverse energy
-- Computability and the loss rate are decided by the mart (marts.area_daily_loss) from the
-- counts and check-meter state here, with the thresholds of audit_settings.

with

areas as (

    select * from {{ ref('int_areas_daily') }}
    where is_in_service
        and {{ in_run_window('data_date') }}

),

meter_energy as (

    select * from {{ ref('int_meter_energy_daily') }}
    where is_active
        and {{ in_run_window('data_date') }}

),

settlement_meters as (

    select
        data_date,
        tg_id,
        count(*)                                                  as meter_count,
        sum(case when is_computable then 1 else 0 end)            as meter_read_count,
        sum(case when is_computable then forward_kwh else 0 end)  as settlement_forward_kwh,
        sum(case when is_computable and gen_flag = '1' then reverse_kwh else 0 end)
                                                                  as pv_export_kwh,
        sum(case when gen_flag = '1' then 1 else 0 end)           as pv_meter_count
    from meter_energy
    where meter_role = 'settlement'
    group by data_date, tg_id

),

check_meters as (

    select
        data_date,
        tg_id,
        count(*)                                                  as check_meter_count,
        min(mp_id)                                                as check_mp_id,
        sum(case when is_computable then 0 else 1 end)            as check_meter_uncomputable_count,
        sum(
            case
                when energy_status in (
                    'no data point', 'reading missing', 'previous reading missing'
                )
                then 1 else 0
            end
        )                                                         as check_meter_read_missing_count,
        sum(forward_kwh)                                          as check_meter_forward_kwh,
        -- a check meter's reverse register that went backwards counts 0 kWh
        sum(coalesce(reverse_kwh, 0))                             as check_meter_reverse_kwh
    from meter_energy
    where meter_role = 'check'
    group by data_date, tg_id

),

joined as (

    select
        areas.data_date,
        areas.tg_id,
        areas.tg_name,
        areas.org_no,
        areas.pub_priv_flag,
        check_meters.check_mp_id,
        coalesce(check_meters.check_meter_count, 0)               as check_meter_count,
        case
            when check_meters.check_meter_count is null then 'no check meter'
            when check_meters.check_meter_read_missing_count > 0 then 'check meter reading missing'
            when check_meters.check_meter_uncomputable_count > 0 then 'check meter register invalid'
        end                                                       as check_meter_problem,
        coalesce(settlement_meters.meter_count, 0)                as meter_count,
        coalesce(settlement_meters.meter_read_count, 0)           as meter_read_count,
        coalesce(settlement_meters.pv_meter_count, 0)             as pv_meter_count,
        coalesce(settlement_meters.settlement_forward_kwh, 0)     as settlement_forward_kwh,
        coalesce(settlement_meters.pv_export_kwh, 0)              as pv_export_kwh,
        check_meters.check_meter_forward_kwh,
        check_meters.check_meter_reverse_kwh
    from areas
    left join settlement_meters
        on settlement_meters.tg_id = areas.tg_id
        and settlement_meters.data_date = areas.data_date
    left join check_meters
        on check_meters.tg_id = areas.tg_id
        and check_meters.data_date = areas.data_date

),

final as (

    select
        data_date,
        tg_id,
        tg_name,
        org_no,
        pub_priv_flag,
        check_mp_id,
        check_meter_count,
        check_meter_problem,
        check_meter_problem is null                               as is_check_meter_computable,
        meter_count,
        meter_read_count,
        pv_meter_count,
        -- exact sums of the meters' DECIMAL kWh (the same in every run, whatever order
        -- the threads add them in), stored at the kWh scale
        cast(case when check_meter_problem is null then check_meter_forward_kwh end
            as {{ kwh_type() }})                                  as check_meter_forward_kwh,
        cast(case when check_meter_problem is null then check_meter_reverse_kwh end
            as {{ kwh_type() }})                                  as check_meter_reverse_kwh,
        cast(pv_export_kwh as {{ kwh_type() }})                   as pv_export_kwh,
        cast(settlement_forward_kwh as {{ kwh_type() }})          as settlement_forward_kwh,
        cast(case
            when check_meter_problem is null then check_meter_forward_kwh + pv_export_kwh
        end as {{ kwh_type() }})                                  as supply_kwh,
        cast(case
            when check_meter_problem is null then settlement_forward_kwh + check_meter_reverse_kwh
        end as {{ kwh_type() }})                                  as sales_kwh
    from joined

)

select * from final
