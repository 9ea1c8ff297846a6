{{ config(**audit_rule_config()) }}
{#- M06 电量突变: for an active settlement metering point (C_MP USAGE_TYPE_CODE '01',
    STATUS_CODE '1') of an active customer (C_CONS STATUS_CODE '1'), all as of D:
      baseline = mean daily forward energy of D-14..D-1 (energy_jump_baseline_days)
      recent   = mean daily forward energy of D-2..D (energy_jump_recent_days)
    both over the days with a valid forward energy (at least one each); fires when the
    baseline is at least energy_jump_min_baseline_kwh and recent is below
    energy_jump_low_share or above energy_jump_high_share of it. Only when the whole
    baseline window lies in the data (D-14 is at least the first computable day).
    The window sums are carried day by day in int_meter_energy_windows, so a daily run
    reads the window's state rows only (date literals on an incremental run).
    metric_value = recent / baseline; threshold_value = the share crossed.
    One finding per customer and day: the metering point with the largest deviation. -#}
{%- set first_day = date_literal(audit_start_date()) if is_incremental() else audit_start_date() %}
{%- set last_day = audit_end_date() %}

with windows as (
    select
        data_date,
        mp_id,
        cons_no,
        cons_tg_id,
        cons_org_no,
        data_id,
        baseline_kwh,
        baseline_computable_days,
        recent_kwh,
        recent_computable_days,
        cast(baseline_kwh as {{ audit_type_double() }}) / baseline_computable_days
            as baseline_mean_kwh,
        cast(recent_kwh as {{ audit_type_double() }}) / recent_computable_days as recent_mean_kwh
    from {{ ref('int_meter_energy_windows') }}
    where data_date between {{ first_day }} and {{ last_day }}
        and mp_status_code = '1'
        and cons_status_code = '1'
        and is_baseline_window_in_data
        and baseline_computable_days > 0
        and recent_computable_days > 0
),

jumps as (
    select
        windows.*,
        recent_mean_kwh / baseline_mean_kwh as recent_share,
        case
            when recent_mean_kwh < {{ setting('energy_jump_low_share') }} * baseline_mean_kwh
                then 'low'
            when recent_mean_kwh > {{ setting('energy_jump_high_share') }} * baseline_mean_kwh
                then 'high'
        end as jump_direction
    from windows
    where baseline_mean_kwh >= {{ setting('energy_jump_min_baseline_kwh') }}
),

ranked as (
    select
        jumps.*,
        row_number() over (
            partition by data_date, cons_no
            order by
                case when recent_mean_kwh = 0 then 1 else 0 end desc,
                case when recent_share < 1 then 1 / nullif(recent_share, 0)
                    else recent_share end desc,
                mp_id
        ) as mp_rank
    from jumps
    where jump_direction is not null
)

select
    data_date as detected_date,
    cons_tg_id as tg_id,
    cons_org_no as org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'M06' as problem_code,
    '结算计量点 MP_ID=' || mp_id || ' (DATA_ID=' || {{ audit_txt('data_id') }} || '): 近 '
    || cast({{ setting('energy_jump_recent_days', 'integer') }} as {{ dbt.type_string() }})
    || ' 日均 '
    || {{ audit_num('recent_mean_kwh') }} || ' kWh/日 为前 '
    || cast({{ setting('energy_jump_baseline_days', 'integer') }} as {{ dbt.type_string() }})
    || ' 日均 '
    || {{ audit_num('baseline_mean_kwh') }} || ' kWh/日 的 '
    || {{ audit_num('recent_share * 100', 1) }} || '% ('
    || case
        when jump_direction = 'low'
            then '< ' || cast(
                cast(round({{ setting('energy_jump_low_share') }} * 100) as integer)
                as {{ dbt.type_string() }}
            )
        else '> ' || cast(
            cast(round({{ setting('energy_jump_high_share') }} * 100) as integer)
            as {{ dbt.type_string() }}
        )
    end
    || '%); 近期可算 ' || cast(recent_computable_days as {{ dbt.type_string() }}) || ' 天合计 '
    || {{ audit_num('recent_kwh') }} || ' kWh, 基期可算 '
    || cast(baseline_computable_days as {{ dbt.type_string() }})
    || ' 天合计 ' || {{ audit_num('baseline_kwh') }}
    || ' kWh (正向有功电量 = E_MP_DAY_READ.PAP_R 日差 × C_METER.T_FACTOR)' as evidence,
    cast(recent_share as {{ audit_type_double() }}) as metric_value,
    cast(
        case
            when jump_direction = 'low' then {{ setting('energy_jump_low_share') }}
            else {{ setting('energy_jump_high_share') }}
        end as {{ audit_type_double() }}
    ) as threshold_value
from ranked
where mp_rank = 1
