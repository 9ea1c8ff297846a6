{#- L01 台区高损 / L02 台区负损: the computable area-days whose loss status is `status`
    (marts.area_daily_loss applies the band setting `setting_name`), with the numbers of
    the balance as evidence. One macro so both rules say the same thing the same way. -#}
{% macro loss_band_findings(problem_code, status, comparison, band_name, setting_name) -%}
{{ area_days_with_status(status) }}

select
    data_date as detected_date,
    tg_id,
    org_no,
    cast(null as {{ dbt.type_string() }}) as cons_no,
    cast(null as {{ dbt.type_string() }}) as app_no,
    '{{ problem_code }}' as problem_code,
    '线损率 ' || {{ audit_num('loss_rate * 100') }} || '% {{ comparison }} {{ band_name }} '
    || {{ audit_num(setting(setting_name) ~ ' * 100') }} || '%; 供电量 '
    || {{ audit_num('supply_kwh') }} || ' kWh, 售电量 ' || {{ audit_num('sales_kwh') }}
    || ' kWh, 损失电量 ' || {{ audit_num('loss_kwh') }} || ' kWh; 用户表可算 '
    || {{ audit_txt('meter_read_count') }} || '/' || {{ audit_txt('meter_count') }} as evidence,
    cast(loss_rate as {{ audit_type_double() }}) as metric_value,
    cast({{ setting(setting_name) }} as {{ audit_type_double() }}) as threshold_value
from loss
{%- endmacro %}


{#- The CTEs `days` (the run window) and `loss` (the window's area-days of
    marts.area_daily_loss whose loss_status is `status`): shared by L01, L02 and L03. -#}
{% macro area_days_with_status(status) -%}
with days as (
    {{ audit_days() }}
),

loss as (
    select l.*
    from {{ ref('area_daily_loss') }} as l
    inner join days as d
        on l.data_date = d.detected_date
    where l.loss_status = '{{ status }}'
)
{%- endmacro %}
