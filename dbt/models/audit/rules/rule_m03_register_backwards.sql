{{ config(**audit_rule_config()) }}
{#- M03 电能表示度下降: on day D the forward register of an active settlement metering point
    (C_MP USAGE_TYPE_CODE '01', STATUS_CODE '1') of an active customer (C_CONS STATUS_CODE
    '1'), all as of D, is below its reading of D-1 (E_MP_DAY_READ.PAP_R, final state), and
    D is neither a meter exchange / multiplier change day (C_METER_CHG.CHG_DATE) nor a
    register roll-over (int_meter_energy_daily decides both, docs/architecture.md "Line
    loss"). The condition is spelled out from the readings and the two exclusion flags
    (it equals the energy model's is_register_backwards) so that the exclusions the rule
    promises are visible here and unit-tested.
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
        meter_id,
        asset_no,
        t_factor,
        digits,
        plausible_max_kwh,
        pap_r,
        previous_pap_r
    from {{ ref('int_meter_energy_daily') }}
    where data_date between {{ first_day }} and {{ last_day }}
        and meter_role = 'settlement'
        and mp_status_code = '1'
        and cons_status_code = '1'
        and pap_r < previous_pap_r
        and not is_exchange_day
        and not is_rollover
),

backwards as (
    select
        energy.*,
        power(10.0, digits) as register_full_scale,
        (pap_r + power(10.0, digits) - previous_pap_r) * t_factor as rollover_kwh,
        -- one finding per customer and day (a customer has one settlement MP; if the
        -- archive lists more, the largest drop is reported)
        row_number() over (
            partition by data_date, cons_no
            order by previous_pap_r - pap_r desc, mp_id
        ) as mp_rank
    from energy
)

select
    data_date as detected_date,
    cons_tg_id as tg_id,
    cons_org_no as org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'M03' as problem_code,
    '采集 E_MP_DAY_READ.PAP_R (DATA_ID=' || {{ audit_txt('data_id') }} || ') '
    || {{ audit_txt('data_date') }} || '=' || {{ audit_num('pap_r') }} || ' < '
    || {{ audit_txt(add_days(-1, 'data_date')) }} || '=' || {{ audit_num('previous_pap_r') }}
    || ' (下降 ' || {{ audit_num('previous_pap_r - pap_r') }} || '); 计量点 MP_ID=' || mp_id
    || ', 电能表 C_METER.ASSET_NO=' || {{ audit_txt('asset_no') }}
    || '; 非换表日 (C_METER_CHG 当日无记录); 非翻转 ('
    || case
        when digits is null then 'C_METER.DIGITS 未知'
        when previous_pap_r < {{ setting('rollover_min_previous_share') }} * register_full_scale
            then '前日示值 ' || {{ audit_num('previous_pap_r') }} || ' < '
                || {{ audit_num(setting('rollover_min_previous_share') ~ ' * 100', 0) }}
                || '% 满度, DIGITS='
                || {{ audit_txt('digits') }} || ', 满度 ' || {{ audit_num('register_full_scale', 0) }}
        when plausible_max_kwh is null
            then '合同容量 C_CONS.CONTRACT_CAP 未知, DIGITS=' || {{ audit_txt('digits') }}
        else '按翻转计电量 ' || {{ audit_num('rollover_kwh') }} || ' kWh > 合理上限 '
            || {{ audit_num('plausible_max_kwh') }} || ' kWh, DIGITS=' || {{ audit_txt('digits') }}
            || ', 满度 ' || {{ audit_num('register_full_scale', 0) }}
    end
    || ')' as evidence,
    -- rounded to 1e-6 (register values have at most a few decimals; drop the float noise)
    cast(round(previous_pap_r - pap_r, 6) as {{ audit_type_double() }}) as metric_value,
    cast(null as {{ audit_type_double() }}) as threshold_value
from backwards
where mp_rank = 1
