{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        unique_key='data_date',
        on_schema_change='append_new_columns'
    )
}}
{{ run_window_depends_on() }}

-- 台区日线损 (audit-rules.md §1 and §3, docs/architecture.md "Line loss: conventions"):
-- one row per in-service area and day D, from the first computable day (first loaded day
-- + 1) on. Computable when the check meter's energy is computable, at least
-- completeness_min_share of the active settlement meters have a computable energy, and the
-- supply is positive; otherwise status 'uncomputable' with the reason and no loss rate.

with

balance as (

    select * from {{ ref('int_area_energy_balance_daily') }}
    where {{ in_run_window('data_date') }}

),

settings as (

    select
        {{ setting('completeness_min_share') }}     as completeness_min_share,
        {{ setting('loss_rate_high_above') }}       as loss_rate_high_above,
        {{ setting('loss_rate_negative_below') }}   as loss_rate_negative_below,
        'completeness_min_share=' || {{ setting('completeness_min_share', dbt.type_string()) }}
            || ';loss_rate_high_above=' || {{ setting('loss_rate_high_above', dbt.type_string()) }}
            || ';loss_rate_negative_below='
            || {{ setting('loss_rate_negative_below', dbt.type_string()) }}
                                                    as settings_applied

),

completeness as (

    select
        balance.*,
        settings.loss_rate_high_above,
        settings.loss_rate_negative_below,
        settings.settings_applied,
        -- the share as a ratio (not share x count), so that 49 of 50 is exactly 98 %
        case
            when balance.meter_count > 0
            then cast(balance.meter_read_count as double) / balance.meter_count
        end as completeness_share,
        case
            when balance.meter_count = 0 then true
            when cast(balance.meter_read_count as double) / balance.meter_count
                >= settings.completeness_min_share then true
            else false
        end as is_complete
    from balance
    cross join settings

),

computability as (

    select
        completeness.*,
        case
            when check_meter_problem is not null then check_meter_problem
            when not is_complete then 'meter completeness below threshold'
            when supply_kwh <= 0 then 'no supply'
        end as uncomputable_reason
    from completeness

),

loss as (

    select
        computability.*,
        -- exact kWh; the rate is one DOUBLE division of exact values (deterministic)
        case when uncomputable_reason is null then supply_kwh - sales_kwh end as loss_kwh,
        case
            when uncomputable_reason is null
                then cast(supply_kwh - sales_kwh as double)
                    / cast(supply_kwh as double)
        end as loss_rate
    from computability

),

final as (

    select
        cast(tg_id as {{ dbt.type_string() }})                              as tg_id,
        cast(data_date as date)                             as data_date,
        cast(org_no as {{ dbt.type_string() }})                             as org_no,
        cast(tg_name as {{ dbt.type_string() }})                            as tg_name,
        cast(supply_kwh as {{ kwh_type() }})                as supply_kwh,
        cast(sales_kwh as {{ kwh_type() }})                 as sales_kwh,
        cast(loss_kwh as {{ kwh_type() }})                  as loss_kwh,
        cast(loss_rate as double)                 as loss_rate,
        cast(
            case
                when uncomputable_reason is not null then 'uncomputable'
                when loss_rate < loss_rate_negative_below then 'negative'
                when loss_rate > loss_rate_high_above then 'high'
                else 'qualified'
            end as {{ dbt.type_string() }}
        )                                                   as loss_status,
        cast(meter_count as bigint)                         as meter_count,
        cast(meter_read_count as bigint)                    as meter_read_count,
        cast(completeness_share as double)        as completeness_share,
        cast(uncomputable_reason as {{ dbt.type_string() }})                as uncomputable_reason,
        cast(check_mp_id as {{ dbt.type_string() }})                        as check_mp_id,
        cast(check_meter_forward_kwh as {{ kwh_type() }})   as check_meter_forward_kwh,
        cast(check_meter_reverse_kwh as {{ kwh_type() }})   as check_meter_reverse_kwh,
        cast(pv_export_kwh as {{ kwh_type() }})             as pv_export_kwh,
        cast(settlement_forward_kwh as {{ kwh_type() }})    as settlement_forward_kwh,
        cast(settings_applied as {{ dbt.type_string() }})                   as settings_applied
    from loss

)

select * from final
