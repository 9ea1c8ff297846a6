{{ config(**audit_rule_config()) }}
{#- L02 台区负损: a computable area whose loss rate is below loss_rate_negative_below
    (marts.area_daily_loss already applies the setting: loss_status 'negative'). -#}
with days as (
    {{ audit_days() }}
),

loss as (
    select l.*
    from {{ ref('area_daily_loss') }} as l
    inner join days as d
        on l.data_date = d.detected_date
    where l.loss_status = 'negative'
)

select
    data_date as detected_date,
    tg_id,
    org_no,
    cast(null as {{ dbt.type_string() }}) as cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    'L02' as problem_code,
    '线损率 ' || {{ audit_num('loss_rate * 100') }} || '% < 负损阈值 '
    || {{ audit_num(setting('loss_rate_negative_below') ~ ' * 100') }} || '%; 供电量 '
    || {{ audit_num('supply_kwh') }} || ' kWh, 售电量 ' || {{ audit_num('sales_kwh') }}
    || ' kWh, 损失电量 ' || {{ audit_num('loss_kwh') }} || ' kWh; 用户表可算 '
    || {{ audit_txt('meter_read_count') }} || '/' || {{ audit_txt('meter_count') }} as evidence,
    cast(loss_rate as {{ audit_type_double() }}) as metric_value,
    cast({{ setting('loss_rate_negative_below') }} as {{ audit_type_double() }}) as threshold_value
from loss
