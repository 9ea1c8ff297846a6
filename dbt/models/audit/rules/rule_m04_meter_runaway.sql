{{ config(**audit_rule_config()) }}
{#- M04 电能表飞走: on day D the valid forward energy of an active settlement metering point
    (C_MP USAGE_TYPE_CODE '01', STATUS_CODE '1') of an active customer (C_CONS STATUS_CODE
    '1'), all as of D, exceeds what the contracted load could use: C_CONS.CONTRACT_CAP (kVA)
    x plausible_hours_per_day (int_meter_energy_daily.plausible_max_kwh). The energy still
    counts in the area's sales (audit-rules.md §1); this rule only flags it.
    Not on a meter exchange / multiplier change day (the exchange formula mixes two meters
    and the change record's own reads: a wrong record is not a runaway meter) nor on a
    register roll-over (a roll-over is by definition within the plausible maximum; the
    guard keeps the two rules from ever disagreeing). A customer without CONTRACT_CAP has
    no plausible maximum and is not judged.
    Bounded: reads only the window's days of int_meter_energy_daily (date literals on an
    incremental run). -#}
{%- set first_day = date_literal(audit_start_date()) if is_incremental() else audit_start_date() %}
{%- set last_day = audit_end_date() %}

with energy as (
    select
        data_date,
        mp_id,
        cons_no,
        cons_tg_id,
        cons_org_no,
        data_id,
        asset_no,
        t_factor,
        contract_cap,
        plausible_max_kwh,
        pap_r,
        previous_pap_r,
        forward_kwh
    from {{ ref('int_meter_energy_daily') }}
    where data_date between {{ first_day }} and {{ last_day }}
        and meter_role = 'settlement'
        and mp_status_code = '1'
        and cons_status_code = '1'
        and forward_kwh > plausible_max_kwh
        and not is_exchange_day
        and not is_rollover
),

runaway as (
    select
        energy.*,
        -- one finding per customer and day (a customer has one settlement MP; if the
        -- archive lists more, the largest energy is reported)
        row_number() over (
            partition by data_date, cons_no
            order by forward_kwh desc, mp_id asc
        ) as mp_rank
    from energy
)

select
    data_date as detected_date,
    cons_tg_id as tg_id,
    cons_org_no as org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'M04' as problem_code,
    '日电量 ' || {{ audit_num('forward_kwh') }} || ' kWh > 合同容量 C_CONS.CONTRACT_CAP '
    || {{ audit_num('contract_cap') }} || ' kVA × '
    || {{ audit_num(setting('plausible_hours_per_day'), 0) }}
    || ' h = ' || {{ audit_num('plausible_max_kwh') }} || ' kWh (采集 E_MP_DAY_READ.PAP_R DATA_ID='
    || {{ audit_txt('data_id') }} || ' ' || {{ audit_txt(add_days(-1, 'data_date')) }} || '='
    || {{ audit_num('previous_pap_r') }} || ' -> ' || {{ audit_txt('data_date') }} || '='
    || {{ audit_num('pap_r') }} || ', 倍率 C_METER.T_FACTOR=' || {{ audit_num('t_factor') }}
    || '; 计量点 MP_ID=' || mp_id || ', 电能表 ASSET_NO=' || {{ audit_txt('asset_no') }}
    || ')' as evidence,
    cast(forward_kwh as {{ audit_type_double() }}) as metric_value,
    cast(plausible_max_kwh as {{ audit_type_double() }}) as threshold_value
from runaway
where mp_rank = 1
