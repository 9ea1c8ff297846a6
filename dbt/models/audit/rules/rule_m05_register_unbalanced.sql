{{ config(**audit_rule_config()) }}
{#- M05 示值不平: the day-D reading (E_MP_DAY_READ, final state, DATA_DATE D) of an active
    settlement metering point (C_MP USAGE_TYPE_CODE '01', STATUS_CODE '1') of an active
    customer (C_CONS STATUS_CODE '1'), all as of D, whose total register does not equal the
    sum of its tariff registers:
        |PAP_R - (PAP_R1 + PAP_R2 + PAP_R3 + PAP_R4)| > max(register_balance_min_kwh,
                                                          register_balance_share x PAP_R)
    On register values (kWh of the register, before the multiplier), as the meter shows
    them; D-1 is not needed. The reading is the one of the MP's data point as of D, as
    int_meter_energy_daily maps it (its data_id: the lowest E_DATA_MP.DATA_ID of the MP).
    A NULL tariff register counts as 0 (a single-rate meter may leave unused tariffs
    empty); a reading with all four tariff registers NULL has nothing to balance and is not
    judged. The difference is rounded to 1e-6 kWh so float noise never decides a tie.
    Bounded: reads only the window's days of int_meter_energy_daily and int_day_reads_final
    (date literals on an incremental run). The first loaded day has no metering-point day
    rows (no energy yet), so M05 starts on the first computable day. -#}
{%- set first_day = date_literal(audit_start_date()) if is_incremental() else audit_start_date() %}
{%- set last_day = audit_end_date() %}

with metering_points as (
    select
        data_date,
        mp_id,
        cons_no,
        cons_tg_id,
        cons_org_no,
        data_id,
        asset_no
    from {{ ref('int_meter_energy_daily') }}
    where data_date between {{ first_day }} and {{ last_day }}
        and meter_role = 'settlement'
        and mp_status_code = '1'
        and cons_status_code = '1'
        and data_id is not null
),

day_reads as (
    select
        data_id,
        data_date,
        pap_r,
        pap_r1,
        pap_r2,
        pap_r3,
        pap_r4
    from {{ ref('int_day_reads_final') }}
    where data_date between {{ first_day }} and {{ last_day }}
        and pap_r is not null
        and (pap_r1 is not null or pap_r2 is not null or pap_r3 is not null or pap_r4 is not null)
),

balanced as (
    select
        m.*,
        r.pap_r,
        r.pap_r1,
        r.pap_r2,
        r.pap_r3,
        r.pap_r4,
        coalesce(r.pap_r1, 0) + coalesce(r.pap_r2, 0) + coalesce(r.pap_r3, 0)
            + coalesce(r.pap_r4, 0)
            as tariff_sum,
        round(
            abs(r.pap_r - (coalesce(r.pap_r1, 0) + coalesce(r.pap_r2, 0) + coalesce(r.pap_r3, 0)
                + coalesce(r.pap_r4, 0))),
            6
        ) as imbalance,
        {{ setting('register_balance_share') }} * r.pap_r as share_tolerance,
        case
            when {{ setting('register_balance_share') }} * r.pap_r
                > {{ setting('register_balance_min_kwh') }}
                then {{ setting('register_balance_share') }} * r.pap_r
            else {{ setting('register_balance_min_kwh') }}
        end as tolerance
    from metering_points as m
    inner join day_reads as r
        on r.data_id = m.data_id
        and r.data_date = m.data_date
),

unbalanced as (
    select
        balanced.*,
        -- one finding per customer and day (a customer has one settlement MP; if the
        -- archive lists more, the largest imbalance is reported)
        row_number() over (
            partition by data_date, cons_no
            order by imbalance desc, mp_id asc
        ) as mp_rank
    from balanced
    where imbalance > tolerance
)

select
    data_date as detected_date,
    cons_tg_id as tg_id,
    cons_org_no as org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'M05' as problem_code,
    '采集 E_MP_DAY_READ (DATA_ID=' || data_id || ', DATA_DATE=' || {{ audit_txt('data_date') }}
    || '): PAP_R=' || {{ audit_num('pap_r') }} || ', PAP_R1+PAP_R2+PAP_R3+PAP_R4='
    || {{ audit_num('pap_r1') }} || '+' || {{ audit_num('pap_r2') }} || '+'
    || {{ audit_num('pap_r3') }}
    || '+' || {{ audit_num('pap_r4') }} || '=' || {{ audit_num('tariff_sum') }}
    || ', 差 ' || {{ audit_num('imbalance') }} || ' > 允许 max('
    || {{ audit_num(setting('register_balance_min_kwh')) }}
    || ', ' || {{ audit_num(setting('register_balance_share') ~ ' * 100', 3) }} || '% × PAP_R = '
    || {{ audit_num('share_tolerance') }} || ') = ' || {{ audit_num('tolerance') }}
    || ' (示值, 未乘倍率); 计量点 MP_ID=' || mp_id || ', 电能表 ASSET_NO='
    || {{ audit_txt('asset_no') }} as evidence,
    cast(imbalance as {{ audit_type_double() }}) as metric_value,
    cast(tolerance as {{ audit_type_double() }}) as threshold_value
from unbalanced
where mp_rank = 1
