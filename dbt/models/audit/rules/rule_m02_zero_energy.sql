{{ config(**audit_rule_config()) }}
{#- M02 连续零电量: the forward energy of an active settlement metering point (C_MP
    USAGE_TYPE_CODE '01', STATUS_CODE '1') of an active customer (C_CONS STATUS_CODE '1'),
    all as of D, is valid and exactly 0 on each of the last zero_energy_days days
    (D-13..D). A day without a valid forward energy breaks the streak; only days in the
    data count (from the first computable day on). The streak is carried day by day in
    int_meter_energy_windows, so a daily run reads the window's state rows only (date
    literals on an incremental run). One finding per customer and day: the metering point
    with the longest streak. -#}
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
        pap_r,
        zero_energy_days,
        zero_energy_since_date
    from {{ ref('int_meter_energy_windows') }}
    where data_date between {{ first_day }} and {{ last_day }}
        and mp_status_code = '1'
        and cons_status_code = '1'
        and zero_energy_days >= {{ setting('zero_energy_days') }}
),

ranked as (
    select
        windows.*,
        row_number() over (
            partition by data_date, cons_no
            order by zero_energy_days desc, mp_id asc
        ) as mp_rank
    from windows
)

select
    data_date as detected_date,
    cons_tg_id as tg_id,
    cons_org_no as org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'M02' as problem_code,
    '结算计量点 MP_ID=' || mp_id || ' (DATA_ID=' || {{ audit_txt('data_id') }} || ') 连续 '
    || cast(zero_energy_days as {{ dbt.type_string() }}) || ' 天零电量 ('
    || {{ audit_txt('zero_energy_since_date') }} || '..' || {{ audit_txt('data_date') }}
    || ', 正向有功电量 0 kWh: 日冻结示值 E_MP_DAY_READ.PAP_R 停在 ' || {{ audit_num('pap_r') }}
    || '); 阈值 ' || cast({{ setting('zero_energy_days', 'integer') }} as {{ dbt.type_string() }})
    || ' 天' as evidence,
    cast(zero_energy_days as {{ audit_type_double() }}) as metric_value,
    cast({{ setting('zero_energy_days') }} as {{ audit_type_double() }}) as threshold_value
from ranked
where mp_rank = 1
