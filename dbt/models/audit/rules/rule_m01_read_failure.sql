{{ config(**audit_rule_config()) }}
{#- M01 采集失败: an active settlement metering point (C_MP USAGE_TYPE_CODE '01',
    STATUS_CODE '1') of an active customer (C_CONS STATUS_CODE '1'), all as of D, has no
    day-frozen reading (E_MP_DAY_READ.PAP_R, final state, through its E_DATA_MP data point;
    a metering point without data point has none) on each of the last read_failure_days
    days D-2..D. Only days in the data count (from the first loaded day on, whose missing
    reading counts): the streak is carried day by day in int_meter_energy_windows, so a
    daily run reads the window's state rows only (date literals on an incremental run).
    One finding per customer and day: the metering point with the longest streak. -#}
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
        missing_read_days,
        missing_read_since_date,
        last_read_date,
        last_read_pap_r
    from {{ ref('int_meter_energy_windows') }}
    where data_date between {{ first_day }} and {{ last_day }}
        and mp_status_code = '1'
        and cons_status_code = '1'
        and missing_read_days >= {{ setting('read_failure_days') }}
),

ranked as (
    select
        windows.*,
        row_number() over (
            partition by data_date, cons_no
            order by missing_read_days desc, mp_id asc
        ) as mp_rank
    from windows
)

select
    data_date as detected_date,
    cons_tg_id as tg_id,
    cons_org_no as org_no,
    cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'M01' as problem_code,
    '结算计量点 MP_ID=' || mp_id || ' (DATA_ID=' || {{ audit_txt('data_id') }} || ') 连续 '
    || cast(missing_read_days as {{ dbt.type_string() }}) || ' 天 ('
    || {{ audit_txt('missing_read_since_date') }} || '..' || {{ audit_txt('data_date') }}
    || ') 无日冻结示值 (E_MP_DAY_READ)'
    || case when data_id is null then ', 无采集测量点 (E_DATA_MP)' else '' end
    || '; '
    || case
        when last_read_date is null then '数据起始以来无示值'
        else '最后一次示值 ' || {{ audit_txt('last_read_date') }} || ' PAP_R='
            || {{ audit_num('last_read_pap_r') }}
    end
    || '; 阈值 ' || cast({{ setting('read_failure_days', 'integer') }} as {{ dbt.type_string() }})
    || ' 天' as evidence,
    cast(missing_read_days as {{ audit_type_double() }}) as metric_value,
    cast({{ setting('read_failure_days') }} as {{ audit_type_double() }}) as threshold_value
from ranked
where mp_rank = 1
